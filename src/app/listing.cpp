// SPDX-License-Identifier: GPL-2.0-only
// A listing from end to end: options -> selection and filter -> source -> Socket -> filter ->
// (-K) -> owners -> ss row renderer -> stdout.
#include "sstrace/app/listing.hpp"

#include "sstrace/core/port_range.hpp"
#include "sstrace/core/unique.hpp"
#include "sstrace/filter/filter.hpp"
#include "sstrace/sinks/inet_format.hpp"
#include "sstrace/sinks/json_lines.hpp"
#include "sstrace/sinks/ss_row.hpp"
#include "sstrace/sinks/summary.hpp"
#include "sstrace/sinks/table.hpp"
#include "sstrace/sources/listing.hpp"
#include "sstrace/sources/owners.hpp"
#include "sstrace/sources/source_plan.hpp"
#include "sstrace/sources/summary.hpp"
#include "sstrace/ss/messages.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <optional>

namespace sstrace {

namespace {

// Every socket the source lists: the filter, -K, the owners, then the row.
class ListingRunner : public ListingConsumer {
public:
    // `json`: the sockets as JSON lines there instead of rows (--json)
    ListingRunner(const Options& opts, const filter::Filter* filter, SsRowRenderer& renderer,
                  const SocketOwners* owners, ListingObserver* observer,
                  JsonSocketWriter* json = nullptr)
        : opts_(opts), filter_(filter), renderer_(renderer), owners_(owners), observer_(observer),
          json_(json)
    {
    }

    void begin_table(TableId table) override
    {
        protocol_ = inet_table_protocol(table);
        renderer_.begin_table(table);
    }

    int socket(Socket& s) override
    {
        if (filter_ != nullptr && !filter_->matches(s)) {
            return 0;
        }
        const bool inet = s.family == AF_INET || s.family == AF_INET6;
        if (opts_.kill && inet && s.origin != Origin::ProcText) {
            const int rc = killer_.destroy(s, protocol_);
            if (rc == -EOPNOTSUPP || rc == -ENOENT) {
                return 0;
            }
            if (rc < 0) {
                ss_text::put(ss_text::sock_destroy_answers(rc));
                return rc;
            }
        }
        if (owners_ != nullptr && s.family != AF_NETLINK) {
            owners_->find(s.inode, s.owners);
        }
        if (observer_ != nullptr) {
            observer_->listed(s);
            if (++listed_ % kTickEvery == 0) {
                observer_->tick();
            }
        }
        if (json_ != nullptr) {
            json_->socket(s);
        } else {
            renderer_.render(s);
        }
        return 0;
    }

private:
    const Options& opts_;
    const filter::Filter* filter_;
    SsRowRenderer& renderer_;
    const SocketOwners* owners_;
    ListingObserver* observer_;
    JsonSocketWriter* json_;
    static constexpr std::uint64_t kTickEvery = 256;
    std::uint64_t listed_ = 0;
    SocketKiller killer_;
    int protocol_ = IPPROTO_TCP;
};

RowOptions row_options(const Options& o)
{
    RowOptions r;
    r.numeric = o.numeric;
    r.resolve = o.resolve;
    r.timers = o.timers;
    r.extended = o.extended;
    r.memory = o.memory;
    r.info = o.info;
    r.tos = o.tos;
    r.cgroup = o.cgroup;
    r.bpf = o.bpf;
    r.inet_sockopt = o.inet_sockopt;
    r.oneline = o.oneline;
    r.users = o.processes || o.threads;
    r.threads = o.threads;
    return r;
}

ListingRequest listing_request(const Options& o, bool filter, bool watch,
                               std::vector<std::uint8_t> bytecode)
{
    ListingRequest r;
    r.memory = o.memory;
    r.info = o.info;
    r.tos = o.tos;
    r.extended = o.extended;
    r.timers = o.timers;
    r.inet_sockopt = o.inet_sockopt;
    r.cgroup = o.cgroup;
    r.kill = o.kill;
    r.owners = o.processes || o.threads;
    r.threads = o.threads;
    r.filter = filter;
    r.watch = watch;
    r.inet_bytecode = std::move(bytecode);
    return r;
}

ServiceNames service_names(bool numeric, const Environment& env)
{
    if (auto r = read_ephemeral_range(env.proc_path(ProcFile::LocalPortRange))) {
        return ServiceNames(numeric, r->first, r->second);
    }
    return ServiceNames(numeric, 1024, 4999);
}

// The filter as ss builds it: the FILTER words, then the -F lines, parsed in the selection's
// context; a family prefix in the expression narrows the families to that one. Returns an exit
// code after printing ss's message, or nullopt with `out` set (empty: no expression).
std::optional<int> build_filter(SelectionResult& sel, std::FILE* file, filter::Filter& out)
{
    filter::ParseOptions po;
    po.preferred_family = sel.selection.preferred_family;
    po.tcp = sel.selection.has_table(kDbTcp);
    po.udp = sel.selection.has_table(kDbUdp);
    filter::ParseResult res = filter::parse(sel.expression, file, po);
    if (res.error) {
        if (res.error->usage) {
            return usage_error(res.error->message);
        }
        ss_text::put(res.error->message);
        return res.error->exit_code;
    }
    if (!res.filter.empty() && res.family_reset) {
        sel.selection.families = family_bit(*res.family_reset);
    }
    out = std::move(res.filter);
    return std::nullopt;
}

// ss -D FILE (`-` is stdout).
int write_tcp_dump(const Options& opts, const Environment& env, const Selection& sel,
                   ListingRequest req)
{
    if (!sel.has_table(kDbTcp)) {
        ss_text::put(ss_text::tcpdiag_without_tcp());
        return 0;
    }
    UniqueFile file;
    std::FILE* out = stdout;
    if (opts.diag_file != "-") {
        file.reset(std::fopen(opts.diag_file.c_str(), "w"));
        if (!file) {
            return 0;  // ss 6.1 checks the wrong variable and exits 0 silently
        }
        out = file.get();
    }
    ListingSource(env, sel, std::move(req)).write_tcp_dump(out);
    std::fflush(out);
    return 0;
}

// The rows (or JSON lines) of the sockets `run` hands over: the filter, -K, the owners.
void print_sockets(const Options& opts, const Environment& env, const Selection& sel,
                   const filter::Filter& filter, const SocketOwners* owners,
                   ListingObserver* observer, const std::function<void(ListingConsumer&)>& run)
{
    Table table(stdout, stdout_screen_width());
    SsRowRenderer renderer(row_options(opts), table, service_names(opts.numeric, env),
                           env.proc_dir());
    renderer.begin(sel, !opts.no_header && !opts.json);
    std::optional<JsonSocketWriter> json;
    if (opts.json) {
        json.emplace(stdout);
    }
    ListingRunner runner(opts, filter.empty() ? nullptr : &filter, renderer, owners, observer,
                         json ? &*json : nullptr);
    run(runner);
    table.flush();
    if (json) {
        json->flush();
    }
    std::fflush(stdout);
}

}  // namespace

int run_listing(const Options& opts, const Environment& env, ListingObserver* observer,
                const ListingFeed* feed)
{
    if (opts.context || opts.contexts) {
        ss_text::put(ss_text::selinux_disabled());
        return 1;
    }
    // -F FILE is opened while options are parsed, as ss does; its lines are read by the filter
    // parser after the argv words, as one stream.
    UniqueFile filter_file;
    std::FILE* filter_fp = nullptr;
    if (!opts.filter_file.empty()) {
        std::optional<filter::FilterError> file_error;
        filter_fp = filter::open_filter_file(opts.filter_file, file_error);
        if (file_error) {
            ss_text::put(file_error->message);
            return file_error->exit_code;
        }
        if (filter_fp != stdin) {
            filter_file.reset(filter_fp);
        }
    }
    SelectionResult sel = build_selection(opts);
    if (sel.exit_code && sel.with_usage) {
        return usage_error(sel.message, sel.usage_to_stdout ? UsageTo::Stdout : UsageTo::Stderr);
    }
    if (opts.summary) {
        print_summary(read_summary(env), stdout);
        std::fflush(stdout);
        if (sel.do_default && opts.filter_words.empty()) {
            return 0;
        }
    }
    if (sel.exit_code) {
        if (!sel.message.empty()) {
            fmt::print(stderr, "{}\n", sel.message);
        }
        return *sel.exit_code;
    }
    filter::Filter filter;
    if (!sel.expression.empty() || filter_fp != nullptr) {
        if (auto code = build_filter(sel, filter_fp, filter)) {
            return *code;
        }
    }
    std::vector<std::uint8_t> bytecode;
    if (!filter.empty()) {
        if (auto bc = filter::compile_bytecode(filter)) {
            bytecode = std::move(*bc);
        }
    }
    if (feed != nullptr) {
        print_sockets(opts, env, sel.selection, filter, nullptr, observer,
                      [&](ListingConsumer& c) { (*feed)(sel.selection, c); });
        return 0;
    }
    ListingRequest request = listing_request(opts, !filter.empty(), observer != nullptr, std::move(bytecode));
    if (!opts.diag_file.empty()) {
        return write_tcp_dump(opts, env, sel.selection, std::move(request));
    }

    const ListingSources sources(request, sel.selection, env);
    std::optional<SocketOwners> owners;
    if (request.owners) {
        if (sources.plan().owners == OwnerSource::BpfIterator) {
            owners.emplace().scan(*sources.iter());
        } else {
            owners.emplace().scan(env.proc_dir(), opts.threads);
        }
    }
    IterSession* tcp_iter =
        sources.plan().tcp == TcpSource::BpfIterator ? sources.iter() : nullptr;
    print_sockets(opts, env, sel.selection, filter, owners ? &*owners : nullptr, observer,
                  [&](ListingConsumer& c) {
                      ListingSource(env, sel.selection, std::move(request), tcp_iter).run(c);
                  });
    return 0;
}

}  // namespace sstrace
