// SPDX-License-Identifier: GPL-2.0-only
#include "iter_session.hpp"

#include "iter_load.h"
#include "sstrace/core/error.hpp"
#include "sstrace/core/unique.hpp"
#include "sstrace/filter/filter.hpp"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace sstrace {

namespace {

// Reads an iterator to its end, handing every whole record of type Rec to `on_record`, which
// returns false to stop. The kernel fills its seq_file buffer (32 KiB) with whole records and
// copies it out per read(); a record split over two reads is put together all the same.
template <typename Rec, typename Fn>
void read_records(int link_fd, const char* what, Fn&& on_record)
{
    const UniqueFd fd(bpf_iter_create(link_fd));
    if (!fd) {
        throw Error::from_errno(std::string("creating the ") + what + " iterator", errno);
    }
    std::array<char, 64 * 1024> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    std::size_t have = 0;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf.data() + have, buf.size() - have);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error::from_errno(std::string("reading the ") + what + " iterator", errno);
        }
        if (n == 0) {
            return;
        }
        have += static_cast<std::size_t>(n);
        std::size_t off = 0;
        for (; off + sizeof(Rec) <= have; off += sizeof(Rec)) {
            Rec r;
            std::memcpy(&r, buf.data() + off, sizeof(Rec));
            if (!on_record(r)) {
                return;
            }
        }
        std::memmove(buf.data(), buf.data() + off, have - off);
        have -= off;
    }
}

// A load that failed for want of privileges says so (exit 3), as the streams do.
Error load_error(const char* what, int err)
{
    const bool denied = err == -EPERM || err == -EACCES || err == EPERM || err == EACCES;
    return Error::from_errno(std::string("loading the BPF iterator ") + what, err,
                             denied ? kExitNoPrivilege : kExitBpfLoad,
                             denied ? "needs root, or CAP_BPF and CAP_PERFMON" : "");
}

struct TcpDeleter {
    void operator()(sstrace_tcp_iter* it) const { sst_tcp_iter_destroy(it); }
};
struct FilesDeleter {
    void operator()(sstrace_files_iter* it) const { sst_files_iter_destroy(it); }
};

}  // namespace

struct IterSession::Impl {
    std::unique_ptr<sstrace_tcp_iter, TcpDeleter> tcp;
    std::unique_ptr<sstrace_files_iter, FilesDeleter> files;
};

IterSession::IterSession(const IterConfig& cfg) : impl_(std::make_unique<Impl>())
{
    const auto start = std::chrono::steady_clock::now();
    int err = 0;
    if (cfg.tcp) {
        sst_tcp_config c{};
        c.states = cfg.states;
        c.fields = cfg.fields;
        if (cfg.filter.size() <= SSTRACE_FILTER_MAX) {
            c.filter_len = static_cast<__u32>(cfg.filter.size());
            c.filter = cfg.filter.data();
            const filter::PortPrefilter pf = filter::port_prefilter(cfg.filter);
            if (pf.narrows()) {
                c.pf_on = 1;
                c.pf_sport_min = pf.sport_min;
                c.pf_sport_max = pf.sport_max;
                c.pf_dport_min = pf.dport_min;
                c.pf_dport_max = pf.dport_max;
            }
            spdlog::debug("iter/tcp: the filter program's port prefilter: {}", pf.to_string());
        }
        impl_->tcp.reset(sst_tcp_iter_load(&c, &err));
        if (!impl_->tcp) {
            throw load_error("iter/tcp", err);
        }
    }
    if (cfg.files) {
        impl_->files.reset(sst_files_iter_load(&err));
        if (!impl_->files) {
            throw load_error("iter/task_file", err);
        }
    }
    spdlog::debug("BPF iterator programs loaded in {} us",
                  std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count());
}

IterSession::~IterSession() = default;

IterWalkCounts IterSession::walk_tcp(std::uint32_t families,
                                    const std::function<int(const sstrace_iter_tcp&)>& on_row)
{
    sstrace_tcp_iter* it = impl_->tcp.get();
    sst_tcp_iter_set_families(it, families);
    sst_tcp_iter_take_skipped(it);
    sst_tcp_iter_take_rejected(it);
    sst_tcp_iter_take_prefiltered(it);
    const auto wall = std::chrono::steady_clock::now();
    const std::clock_t cpu = std::clock();
    IterWalkCounts counts;
    read_records<sstrace_iter_tcp>(sst_tcp_iter_link(it), "TCP", [&](const sstrace_iter_tcp& r) {
        ++counts.rows;
        const int rc = on_row(r);
        if (rc < 0) {
            return false;
        }
        const auto still = static_cast<std::uint32_t>(rc);
        if (still != families) {
            families = still;
            sst_tcp_iter_set_families(it, families);
        }
        return true;
    });
    counts.skipped = sst_tcp_iter_take_skipped(it);
    counts.rejected = sst_tcp_iter_take_rejected(it);
    counts.prefiltered = sst_tcp_iter_take_prefiltered(it);
    spdlog::debug("iter/tcp walk: {} rows read, {} sockets rejected by the port prefilter and {} "
                  "by the filter program in the kernel, {} of other families passed over; {} us, "
                  "{} us CPU",
                  counts.rows, counts.prefiltered, counts.rejected, counts.skipped,
                  std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - wall)
                      .count(),
                  (std::clock() - cpu) * 1000000 / CLOCKS_PER_SEC);
    return counts;
}

void IterSession::walk_files(const std::function<void(const sstrace_iter_file&)>& on_file)
{
    read_records<sstrace_iter_file>(sst_files_iter_link(impl_->files.get()), "task_file",
                                    [&](const sstrace_iter_file& f) {
                                        on_file(f);
                                        return true;
                                    });
}

}  // namespace sstrace
