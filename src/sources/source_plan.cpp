// SPDX-License-Identifier: GPL-2.0-only
// The one rule for where a listing's TCP table and owners come from, and what it reads to apply
// it.
#include "sstrace/sources/source_plan.hpp"

#include "iter/iter_session.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/parse.hpp"
#include "sstrace/sources/listing.hpp"
#include "sstrace/sources/summary.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <optional>

namespace sstrace {

namespace {

constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";
// PROC_PID_INIT_INO: the initial pid namespace, whose pids the task iterator reports.
constexpr std::string_view kInitPidns = "pid:[4026531836]";

// What the listing needs that only inet_diag gives (empty: nothing).
std::string diag_only(const ListingRequest& req)
{
    if (req.info) {
        return "-i (tcp_info)";
    }
    if (req.memory) {
        return "-m (socket memory)";
    }
    if (req.timers) {
        return "-o (timers)";
    }
    if (req.tos) {
        return "--tos";
    }
    if (req.inet_sockopt) {
        return "--inet-sockopt";
    }
    if (req.kill) {
        return "-K (SOCK_DESTROY during the dump)";
    }
    if (req.watch) {
        return "--watch's seed (cookies, TIME-WAIT timers)";
    }
    if (req.inet_bytecode.size() > SSTRACE_FILTER_MAX) {
        // the iterator would run no bytecode, and userspace alone does not match as the kernel
        return fmt::format("a filter program of {} bytes (the iterator's holds {})",
                           req.inet_bytecode.size(), SSTRACE_FILTER_MAX);
    }
    return {};
}

SourceMode parse_mode(const std::optional<std::string>& value)
{
    if (!value || value->empty() || *value == "auto") {
        return SourceMode::Auto;
    }
    if (*value == "diag") {
        return SourceMode::SockDiag;
    }
    if (*value == "iter") {
        return SourceMode::BpfIterator;
    }
    throw Error("SSTRACE_LISTING_SOURCE", fmt::format("unknown value '{}'", *value), kExitUsage,
                "diag, iter or auto");
}

bool wants_tcp_iter(const ListingRequest& req, const SourceFacts& f)
{
    return f.tcp_listed && f.mode != SourceMode::SockDiag && diag_only(req).empty();
}

bool wants_owner_iter(const ListingRequest& req, const SourceFacts& f)
{
    return req.owners && !req.threads && !f.proc_root && f.mode != SourceMode::SockDiag;
}

bool in_initial_pidns()
{
    std::array<char, 64> link{};
    const ssize_t n = ::readlink("/proc/self/ns/pid", link.data(), link.size());
    return n > 0 && std::string_view(link.data(), static_cast<std::size_t>(n)) == kInitPidns;
}

long long open_files()
{
    const std::string text = read_small_file("/proc/sys/fs/file-nr").value_or("");
    return NumberWords<long long>(text).next().value_or(0);
}

}  // namespace

SourcePlan plan_sources(const ListingRequest& req, const SourceFacts& f)
{
    SourcePlan p;
    const bool forced = f.mode == SourceMode::BpfIterator;
    if (!f.tcp_listed) {
        p.tcp_why = "no TCP table is dumped";
    } else if (f.mode == SourceMode::SockDiag) {
        p.tcp_why = "SSTRACE_LISTING_SOURCE=diag";
    } else if (const std::string only = diag_only(req); !only.empty()) {
        p.tcp_why = fmt::format("{} comes from inet_diag only", only);
    } else if (!f.kernel_btf) {
        p.tcp_why = fmt::format("no kernel BTF ({})", kBtfPath);
    } else if (!forced && f.tcp_sockets < kIterMinTcpSockets) {
        p.tcp_why = fmt::format("{} sockets: below {}, loading the iterator costs more than it "
                                "saves",
                                f.tcp_sockets, kIterMinTcpSockets);
    } else if (!forced && !req.inet_bytecode.empty()) {
        // scripts/bench-dump.sh, -tan dport = :443 on 100k sockets (doc/dump.md): with the rows
        // to copy gone, what is left is the walk, and the TCP iterator's (a reference taken and
        // dropped and a program run per socket) costs more than inet_diag's two walks with the
        // bytecode run natively, even when the port prefilter drops 99 % of the sockets
        p.tcp_why = "a filter program: inet_diag's walk with it costs less than the iterator's";
    } else {
        p.tcp = TcpSource::BpfIterator;
        p.tcp_why =
            forced ? "SSTRACE_LISTING_SOURCE=iter" : fmt::format("{} sockets", f.tcp_sockets);
    }

    if (!req.owners) {
        p.owners_why = "no -p";
    } else if (f.mode == SourceMode::SockDiag) {
        p.owners_why = "SSTRACE_LISTING_SOURCE=diag";
    } else if (req.threads) {
        p.owners_why = "-T reads every thread's table, the iterator walks each table once";
    } else if (f.proc_root) {
        p.owners_why = "PROC_ROOT: ss scans that directory";
    } else if (!f.initial_pidns) {
        p.owners_why = "the iterator reports the pids of the initial pid namespace only";
    } else if (!f.kernel_btf) {
        p.owners_why = fmt::format("no kernel BTF ({})", kBtfPath);
    } else if (!forced && f.open_files < kIterMinOpenFiles) {
        p.owners_why = fmt::format("{} open files: below {}, loading the iterator costs more than "
                                   "it saves",
                                   f.open_files, kIterMinOpenFiles);
    } else {
        p.owners = OwnerSource::BpfIterator;
        p.owners_why = forced ? "SSTRACE_LISTING_SOURCE=iter"
                              : fmt::format("{} open files", f.open_files);
    }
    return p;
}

SourceFacts read_source_facts(const ListingRequest& req, const Selection& sel,
                              const Environment& env)
{
    SourceFacts f;
    f.mode = parse_mode(env.listing_source());
    f.tcp_listed = sel.has_table(kDbTcp) &&
                   (sel.has_family(AF_INET) || sel.has_family(AF_INET6)) &&
                   !env.tcpdiag_file() && !env.proc_forced(ProcFile::Tcp);
    f.proc_root = env.has_proc_root();
    const bool tcp = wants_tcp_iter(req, f);
    const bool owners = wants_owner_iter(req, f);
    if (!tcp && !owners) {
        return f;
    }
    f.kernel_btf = ::access(kBtfPath, R_OK) == 0;
    const bool measure = f.mode == SourceMode::Auto;
    if (tcp && measure) {
        f.tcp_sockets = read_tcp_socket_count(env);
    }
    if (owners) {
        f.initial_pidns = in_initial_pidns();
        if (measure) {
            f.open_files = open_files();
        }
    }
    return f;
}

ListingSources::ListingSources(const ListingRequest& req, const Selection& sel,
                               const Environment& env)
{
    const SourceFacts facts = read_source_facts(req, sel, env);
    plan_ = plan_sources(req, facts);
    const bool tcp = plan_.tcp == TcpSource::BpfIterator;
    const bool owners = plan_.owners == OwnerSource::BpfIterator;
    if (tcp || owners) {
        IterConfig cfg;
        cfg.tcp = tcp;
        cfg.files = owners;
        cfg.states = sel.states;
        if (req.extended || req.owners) {
            cfg.fields |= SSTRACE_ITER_F_INODE;
        }
        if (req.extended) {
            cfg.fields |= SSTRACE_ITER_F_IDS;
        }
        if (req.extended || req.cgroup || req.filter) {
            cfg.fields |= SSTRACE_ITER_F_MARKS;
        }
        if (req.inet_bytecode.size() <= SSTRACE_FILTER_MAX) {
            cfg.filter = req.inet_bytecode;
        }
        try {
            iter_ = std::make_unique<IterSession>(cfg);
        } catch (const Error& e) {
            if (facts.mode == SourceMode::BpfIterator) {
                throw;
            }
            const std::string why = fmt::format("the iterator did not load: {}", e.what());
            if (tcp) {
                plan_.tcp = TcpSource::SockDiag;
                plan_.tcp_why = why;
            }
            if (owners) {
                plan_.owners = OwnerSource::ProcScan;
                plan_.owners_why = why;
            }
        }
    }
    if (facts.tcp_listed) {
        spdlog::info("listing: the TCP table from {} ({})",
                     plan_.tcp == TcpSource::BpfIterator ? "the BPF iterator (iter/tcp)"
                                                         : "sock_diag",
                     plan_.tcp_why);
    }
    if (req.owners) {
        spdlog::info("listing: socket owners from {} ({})",
                     plan_.owners == OwnerSource::BpfIterator
                         ? "the BPF iterator (iter/task_file)"
                         : "/proc/PID/fd",
                     plan_.owners_why);
    }
}

ListingSources::~ListingSources() = default;

}  // namespace sstrace
