// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/stream_plan.hpp"

#include "sstrace/app/metrics_server.hpp"

#include "sstrace/abi/events.h"
#include "sstrace/core/error.hpp"
#include "sstrace/core/netns.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/ss/selection.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <span>

namespace sstrace {

namespace {

// What -E follows, from ss's own selection model (tables, families; the state words are
// read separately: in a stream they select the states entered).
struct EventSelection {
    std::uint16_t family = 0;    // AF_INET, AF_INET6 or 0 for both
    int preferred_family = 0;    // ss's preferred family, for parsing the filter
    bool single_table = false;   // ss hides Netid when exactly one table is selected
    bool single_state = false;   // ss hides State when exactly one state is selected
    bool tcp = false;
    bool udp = false;
    bool udp_named = false;      // an option names UDP (-u, -A with udp, inet, all)
    bool raw = false;            // raw sockets: only when an option names them (-w, -A raw)
    std::optional<int> exit_code;  // set: ss would stop here (its message already printed)
};

// Does an option name this table? (-A lists tables by name, `inet` and `all` among them.)
bool named(const Options& opts, const char* letter, std::initializer_list<const char*> queries)
{
    for (const std::string& o : opts.selection) {
        if (o == letter) {
            return true;
        }
        if (o.rfind("-A", 0) == 0) {
            for (const char* q : queries) {
                if (o.find(q) != std::string::npos) {
                    return true;
                }
            }
        }
    }
    return false;
}

EventSelection select_tables(const Options& opts)
{
    EventSelection out;
    const SelectionResult res = build_selection(opts);
    if (res.exit_code) {
        if (res.with_usage) {
            usage_error(res.message, res.usage_to_stdout ? UsageTo::Stdout : UsageTo::Stderr);
        } else if (!res.message.empty()) {
            std::fprintf(res.usage_to_stdout ? stdout : stderr, "%s\n", res.message.c_str());
        }
        out.exit_code = *res.exit_code;
        return out;
    }
    const Selection& sel = res.selection;
    out.tcp = sel.has_table(kDbTcp);
    out.udp = sel.has_table(kDbUdp);
    out.udp_named = named(opts, "-u", {"udp", "inet", "all"});
    out.raw = sel.has_table(kDbRaw) && named(opts, "-w", {"raw"});
    if (!out.tcp && !out.udp && !out.raw) {
        throw Error("-E", "no TCP, UDP or raw table selected: events exist for those only",
                    kExitUsage);
    }
    const bool v4 = sel.has_family(AF_INET);
    const bool v6 = sel.has_family(AF_INET6);
    if (!v4 && !v6) {
        throw Error("-E", "no IPv4 or IPv6 family selected: events exist for TCP only",
                    kExitUsage);
    }
    if (v4 != v6) {
        out.family = v4 ? AF_INET : AF_INET6;
    }
    out.preferred_family = sel.preferred_family;
    const TableMask streamed = (out.tcp ? table_bit(kDbTcp) : 0) |
                               (out.udp ? table_bit(kDbUdp) : 0) |
                               (out.raw ? table_bit(kDbRaw) : 0);
    out.single_table = std::popcount(streamed) == 1;
    out.single_state = std::popcount(sel.states) == 1;
    return out;
}

void reject_unimplemented(const Options& o)
{
    const struct {
        bool set;
        const char* name;
    } flags[] = {
        {o.tipcinfo, "--tipcinfo"}, {o.summary, "-s"},
        {o.tos, "--tos"},
        {o.bpf, "-b"},           {o.context, "-Z"},
        {o.contexts, "-z"},      {o.inet_sockopt, "--inet-sockopt"},
        {o.kill, "-K"},          {!o.diag_file.empty(), "-D"},
    };
    for (const auto& f : flags) {
        if (f.set) {
            throw Error("-E", fmt::format("{} is not implemented yet for event streams", f.name),
                        kExitNotImplemented);
        }
    }
}

struct FilterSetup {
    filter::Filter filter;
    std::uint16_t family = 0;
    std::optional<int> exit_code;  // set: stop with it (the message is printed)
};

// Parses the FILTER expression as ss does at start-up: errors print ss's text (and the usage
// after a syntax error) and give ss's exit code.
FilterSetup compile_filter(const Options& opts, std::size_t consumed, const EventSelection& sel)
{
    FilterSetup out;
    out.family = sel.family;
    filter::ParseOptions po;
    po.preferred_family = sel.preferred_family;
    po.tcp = sel.tcp;
    po.udp = sel.udp;  // ss looks service names up for every selected table
    std::optional<filter::FilterError> err;
    std::FILE* file = nullptr;
    if (!opts.filter_file.empty()) {
        file = filter::open_filter_file(opts.filter_file, err);
    }
    filter::ParseResult res;
    if (!err) {
        const std::span<const std::string> rest(opts.filter_words.data() + consumed,
                                                opts.filter_words.size() - consumed);
        res = filter::parse(rest, file, po);
        err = res.error;
    }
    if (file != nullptr && file != stdin) {
        std::fclose(file);
    }
    if (err) {
        if (err->usage) {
            usage_error(err->message);
        } else {
            std::fputs(err->message.c_str(), stderr);
        }
        out.exit_code = err->exit_code;
        return out;
    }
    if (res.family_reset) {
        if (*res.family_reset != AF_INET && *res.family_reset != AF_INET6) {
            throw Error("-E", "the filter selects a non-inet family; events exist for TCP only",
                        kExitNotImplemented);
        }
        out.family = static_cast<std::uint16_t>(*res.family_reset);
    }
    spdlog::debug("filter: {}", res.filter.to_string());
    out.filter = std::move(res.filter);
    return out;
}

// The optional record fields this stream reads: -e prints uid and ino, and the filter may test
// the device, mark, cgroup or the port lock. Nothing else pays for them in the kernel.
std::uint32_t record_fields(const Options& opts, const filter::Filter& expr)
{
    std::uint32_t f = 0;
    if (opts.extended) {
        f |= SSTRACE_FIELD_UID | SSTRACE_FIELD_INO;
    }
    if (expr.contains(filter::NodeKind::Dev)) {
        f |= SSTRACE_FIELD_IFINDEX;
    }
    if (expr.contains(filter::NodeKind::Mark)) {
        f |= SSTRACE_FIELD_MARK;
    }
    if (opts.cgroup || expr.contains(filter::NodeKind::Cgroup)) {
        f |= SSTRACE_FIELD_CGROUP;
    }
    if (expr.contains(filter::NodeKind::Auto)) {
        f |= SSTRACE_FIELD_USERLOCKS;
    }
    return f;
}

// --ring-size's default: room for about 16,000 records of the stream's layout (2 MiB of plain
// records, 4 with owner blocks, 8 with details tails). Not larger: every record is written
// into the ring's memory, and a ring larger than the caches makes each write a miss (measured,
// issue 7: `sst_state` of `-E state time-wait` 165-170 ns per run with 8 MiB, 131-142 with 1-2).
// 8 MiB with --watch: its events wait in the ring while the listing runs, which drains it only
// every 256 listed sockets (the e2e test of a 60,000-socket listing under churn filled a 2 MiB
// ring in 6 of 20 runs, the loss counted as `ring buffer full`; none of 9 runs with 8 MiB).
unsigned default_ring_mb(const Options& opts)
{
    if (opts.timers || opts.memory || opts.info || opts.watch) {
        return 8;
    }
    return opts.processes || opts.threads ? 4 : 2;
}

// The details tail of each record (-o -m -i; -e implies -o, as in ss): what a listing would
// show of the socket at that moment, read in the kernel only when asked for.
std::uint32_t record_details(const Options& opts)
{
    std::uint32_t d = 0;
    if (opts.timers) {
        d |= SSTRACE_DETAIL_TIMER;
    }
    if (opts.extended) {
        d |= SSTRACE_DETAIL_SHUTDOWN;
    }
    if (opts.memory) {
        d |= SSTRACE_DETAIL_SKMEM;
    }
    if (opts.info) {
        d |= SSTRACE_DETAIL_TCPINFO | SSTRACE_DETAIL_LIFETIME;
    }
    return d;
}

// The listing a watch starts with: the same options without -E, over the tables the stream
// follows when no option names a table (ss's default would list UNIX sockets too).
Options watch_listing(const Options& opts, bool state_mode, const EventSelection& sel)
{
    Options l = opts;
    l.events = false;
    l.watch = false;
    l.all_netns = false;  // listed per namespace, each in its own
    l.transitions = false;
    l.timestamp = false;
    const bool table_named = std::any_of(opts.selection.begin(), opts.selection.end(),
                                         [](const std::string& o) {
        return o == "-t" || o == "-u" || o == "-w" || o == "-d" || o == "-x" || o == "-S" ||
               o == "-M" || o == "-0" || o == "--vsock" || o == "--tipc" || o == "--xdp" ||
               o.rfind("-A", 0) == 0;
    });
    if (!table_named) {
        std::vector<std::string> tables{"-t"};
        if (!state_mode && sel.udp) {
            tables.emplace_back("-u");
        }
        l.selection.insert(l.selection.begin(), tables.begin(), tables.end());
    }
    return l;
}

// The watch's part of the plan: its listing and live table, and what the stream shows. The
// programs follow every TCP state whatever is shown, so that the table stays true.
WatchPlan plan_watch(const Options& opts, const EventSelection& sel, StreamPlan& plan)
{
    WatchPlan w;
    w.all_netns = opts.all_netns;
    w.listing = watch_listing(opts, plan.state_mode, sel);
    w.members = build_selection(w.listing).selection.states;
    w.shown = plan.state_mode ? plan.bpf.state_mask : 0;
    w.leaving = opts.transitions;
    w.datagram = !plan.state_mode && (sel.udp || sel.raw);
    if (sel.tcp) {
        plan.bpf.state_mask = kAllStates & ~state_bit(kStateUnknown);
        // the table follows its timewait sockets to their end
        plan.bpf.tw_end = (w.members & state_bit(kStateTimeWait)) != 0;
    }
    return w;
}

}  // namespace

// The gauges of --top and --metrics (the sockets now, per state): a live table of every TCP
// socket in the selection (all states: -a), seeded by a listing that prints nothing and kept by
// every state change; the ring is drained by the loop's timer, not woken per record. With
// --all-netns the listing covers every namespace, and the table tells them apart.
static void gauge_table(const Options& opts, const EventSelection& sel, StreamPlan& plan)
{
    Options listing = opts;
    listing.top = false;
    listing.json = false;
    listing.metrics.clear();
    listing.selection.insert(listing.selection.begin(), "-a");
    plan.watch = plan_watch(listing, sel, plan);
    plan.watch->quiet = true;
    plan.watch->gauges = true;
    // a socket entering CLOSE leaves the table: no dump lists it (it is unhashed), and
    // without the destroy programs nothing would take it out later
    plan.watch->members &= ~state_bit(kStateClose);
    plan.bpf.wakeup_bytes = plan.bpf.ring_bytes / 4;
}

std::variant<StreamPlan, int> plan_stream(const Options& opts, const Environment& env)
{
    reject_unimplemented(opts);
    const EventSelection sel = select_tables(opts);
    if (sel.exit_code) {
        return *sel.exit_code;
    }

    StateWords words;
    if (auto err = parse_state_words(opts.filter_words, words)) {
        std::fprintf(stderr, "%s\n", err->message.c_str());
        return err->exit_code;
    }
    StreamPlan plan;
    // The expression (argv after the state words, then -F), checked per event in userspace.
    std::uint16_t family = sel.family;
    if (words.consumed < opts.filter_words.size() || !opts.filter_file.empty()) {
        FilterSetup compiled = compile_filter(opts, words.consumed, sel);
        if (compiled.exit_code) {
            return *compiled.exit_code;
        }
        plan.expr = std::move(compiled.filter);
        family = compiled.family;
    }

    BpfConfig& cfg = plan.bpf;
    // --metrics without -E, --top: the counters only, no row (a capture read back has rows)
    const bool rows = opts.events || (opts.metrics.empty() && !opts.top);
    if (!rows && words.mask) {
        throw Error("--metrics", "state words select the rows of -E, and without -E no row is "
                    "printed (the counters cover every state)", kExitUsage);
    }
    cfg.metrics = !opts.metrics.empty();
    if (cfg.metrics) {
        plan.metrics = parse_metrics_endpoint(opts.metrics);
    }
    cfg.run_time_stats = opts.bpf_stats;
    if (!opts.user.empty()) {
        plan.run_as = resolve_user(opts.user);
    }
    plan.state_mode = words.mask.has_value();
    if (plan.state_mode) {
        // State entries are TCP's: a UDP or raw socket has no states to enter. That is said
        // once when an option named UDP, and an error when no TCP table is left.
        if (!sel.tcp) {
            throw Error("-E state", "state entries exist for TCP sockets only, and no TCP table "
                        "is selected", kExitUsage);
        }
        if (sel.udp_named || sel.raw) {
            spdlog::warn("state entries exist for TCP sockets only: UDP and raw sockets are "
                         "followed by the destroy stream (sstrace -E without state words)");
        }
        cfg.state_mask = *words.mask & ~state_bit(kStateUnknown);
        if (cfg.state_mask == 0) {
            fmt::print(stderr, "{}: no socket states to show with such filter.\n", program_name());
            return kExitOk;
        }
    } else if (rows) {
        cfg.destroy = static_cast<std::uint8_t>((sel.tcp ? SSTRACE_DESTROY_TCP : 0) |
                                                (sel.udp ? SSTRACE_DESTROY_UDP : 0) |
                                                (sel.raw ? SSTRACE_DESTROY_RAW : 0));
    }
    cfg.family = family;
    // The same bytecode a dump would send with INET_DIAG_REQ_BYTECODE runs in the BPF programs,
    // so events the expression rejects never cross the ring buffer. Rows are still checked in
    // userspace (as ss re-checks dump rows): the bytecode does not express everything.
    if (!plan.expr.empty()) {
        if (auto bc = filter::compile_bytecode(plan.expr); bc && bc->size() <= SSTRACE_FILTER_MAX) {
            cfg.filter = std::move(*bc);
            spdlog::info("filter runs in the kernel ({} bytes of bytecode)", cfg.filter.size());
        } else {
            spdlog::info("filter runs in userspace only (it cannot be compiled to bytecode)");
        }
    }
    cfg.fields = record_fields(opts, plan.expr);
    cfg.details = record_details(opts);
    cfg.test_spin = env.test_bpf_spin();
    cfg.netns_ino = opts.all_netns ? 0 : current_netns_inode();
    cfg.ring_bytes = std::size_t{opts.ring_mb != 0 ? opts.ring_mb : default_ring_mb(opts)} << 20;
    cfg.variant = opts.bpf_variant == "tp_btf"       ? BpfVariant::Btf
                  : opts.bpf_variant == "tracepoint" ? BpfVariant::Tracepoint
                                                     : BpfVariant::Auto;
    plan.tty = ::isatty(STDOUT_FILENO) != 0;
    // On a terminal every record wakes the reader (the kernel's adaptive policy). Otherwise
    // records are committed without wakeups, each CPU forcing one per share of a quarter of the
    // ring (BpfSession), and the loop drains on its 100 ms timer: far fewer wakeups at high
    // rates.
    cfg.wakeup_bytes = plan.tty ? 0 : cfg.ring_bytes / 4;

    EventRowLayout& layout = plan.layout;
    layout.timestamp = opts.timestamp;
    layout.netns = opts.all_netns;
    layout.netid = !sel.single_table;
    layout.transitions = opts.transitions;
    // ss's rule: State is hidden when one state is selected (the state words of a state
    // stream; the tables' default states of the destroy stream, where ss -E -u hides it)
    layout.state = opts.transitions ||
                   (plan.state_mode ? state_count(cfg.state_mask) > 1 : !sel.single_state);
    layout.states = plan.state_mode ? cfg.state_mask : state_bit(kStateClose);
    layout.ipv6 = family != AF_INET;
    layout.header = !opts.no_header;
    plan.row.numeric = opts.numeric;
    plan.row.resolve = opts.resolve;
    plan.row.extended = opts.extended;
    // -p, -T: the socket's owner on every row (owner programs and maps are loaded only then)
    plan.row.users = opts.processes || opts.threads;
    plan.row.threads = opts.threads;
    plan.row.cgroup = opts.cgroup;
    cfg.owners = plan.row.users;
    plan.row.timers = opts.timers;
    plan.row.memory = opts.memory;
    plan.row.info = opts.info;
    plan.numeric = opts.numeric;

    plan.scope.states = plan.state_mode ? cfg.state_mask : 0;
    plan.scope.one_netns = !opts.all_netns;
    plan.scope.both_families = family == 0;
    plan.scope.filtered = !plan.expr.empty();
    plan.count = opts.count.value_or(0);
    if (opts.duration) {
        plan.duration = std::chrono::nanoseconds(static_cast<std::int64_t>(*opts.duration * 1e9));
    }
    plan.proc_dir = env.proc_dir();
    plan.output = plan_outputs(opts);
    // Socket cookies are made in the kernel only for outputs that show them (-e's sk:, JSON, a
    // capture read back with either) or key sockets by them (owners, the live table of
    // --watch, --top, --metrics and --transitions): making one costs every connection a run.
    cfg.cookies = opts.extended || cfg.owners || opts.json || !opts.write_file.empty() ||
                  opts.watch || opts.top || !opts.metrics.empty() || opts.transitions;
    if (!rows) {
        plan.output.print = false;
    }
    if (opts.top) {
        if (!sel.tcp) {
            throw Error("--top", "the view counts TCP connections, and no TCP table is selected",
                        kExitUsage);
        }
        // the view reads the metric maps: no row, no event record, -c counts reports
        cfg.metrics = true;
        plan.count = 0;
        plan.output.print = false;
        const std::string where =
            opts.all_netns ? std::string("every namespace")
                           : fmt::format("netns {}", NetnsNames().label(cfg.netns_ino));
        plan.top = plan_top(opts, plan.expr.empty()
                                      ? where
                                      : fmt::format("{}  filter: {}", where, plan.expr.to_string()));
        gauge_table(opts, sel, plan);
        return plan;
    }
    if (!rows) {
        gauge_table(opts, sel, plan);  // --metrics alone: the sockets now, as --top has them
    } else if (opts.watch) {
        plan.watch = plan_watch(opts, sel, plan);
        // the listing goes into the capture's table; to stdout only beside the rows
        plan.watch->quiet = !plan.output.print;
    } else if (opts.transitions && plan.state_mode) {
        // sockets leaving the selected states too; for TIME-WAIT, its end (a table of the
        // timewait sockets that entered tells how long each lasted)
        cfg.leave_mask = cfg.state_mask;
        if ((cfg.state_mask & state_bit(kStateTimeWait)) != 0) {
            cfg.tw_end = true;
            WatchPlan w;
            w.list = false;
            w.members = state_bit(kStateTimeWait);
            w.shown = cfg.state_mask;
            w.leaving = true;
            plan.watch = std::move(w);
        }
    }
    return plan;
}

}  // namespace sstrace
