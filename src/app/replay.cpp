// SPDX-License-Identifier: GPL-2.0-only
// sstrace --read FILE ...: a capture's events through the pipeline of a live stream. The
// command line is planned as a live one (plan_stream: the selection, the state words, the
// filter, the layout), the kernel's part of the selection is applied to the records
// (CaptureEventSource), and the rows or JSON lines are written as a live stream writes them,
// waiting for a slow reader instead of dropping. Damage ends the reading after every record
// before it, with one line that names the file and the offset, and exit status 6.
#include "sstrace/abi/events.h"
#include "sstrace/app/app.hpp"
#include "sstrace/app/stream_outputs.hpp"
#include "sstrace/app/stream_pipeline.hpp"
#include "sstrace/app/stream_plan.hpp"
#include "sstrace/app/listing.hpp"
#include "sstrace/app/watch.hpp"
#include "sstrace/model/live_table.hpp"
#include "sstrace/sources/bpf_record.hpp"
#include "sstrace/sources/listing.hpp"
#include "sstrace/ss/selection.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/sources/capture_source.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <limits>
#include <optional>

namespace sstrace {

namespace {

// The state words that select state `s` alone (ss's names).
constexpr const char* kStateWords[kStateCount] = {
    "unknown",   "established", "syn-sent", "syn-recv",   "fin-wait-1", "fin-wait-2",
    "time-wait", "close",       "close-wait", "last-ack", "listening",  "closing",
};

std::string state_list(StateMask mask)
{
    std::string out;
    for (int s = 0; s < kStateCount; ++s) {
        if ((mask & state_bit(s)) != 0) {
            out += fmt::format("{}{}", out.empty() ? "" : ", ", state_name(s));
        }
    }
    return out;
}

// Without state words, a capture of state entries is read with the words it was written with:
// its rows, as the live stream printed them.
Options with_capture_states(const Options& opts, const capture::Header& first)
{
    StateWords words;
    if (parse_state_words(opts.filter_words, words) || words.mask || first.states == 0) {
        return opts;  // words given (or not parsing: plan_stream says so in ss's words)
    }
    Options o = opts;
    std::vector<std::string> prefix;
    for (int s = 1; s < kStateCount; ++s) {
        if ((first.states & state_bit(s)) != 0) {
            prefix.emplace_back("state");
            prefix.emplace_back(kStateWords[s]);
        }
    }
    o.filter_words.insert(o.filter_words.begin(), prefix.begin(), prefix.end());
    return o;
}

// An option that needs a field of the records the capture did not keep: a clear error.
void check_fields(const StreamPlan& plan, const capture::Reader& file)
{
    const struct {
        std::uint32_t bits;
        const char* needs;
        const char* written_without;
    } kNeeds[] = {
        {SSTRACE_FIELD_UID | SSTRACE_FIELD_INO, "-e needs each socket's uid and inode",
         "-e"},
        {SSTRACE_FIELD_IFINDEX, "the filter's dev needs each socket's device",
         "a filter that tests dev"},
        {SSTRACE_FIELD_MARK, "the filter's fwmark needs each socket's mark",
         "a filter that tests fwmark"},
        {SSTRACE_FIELD_CGROUP, "the filter's cgroup needs each socket's cgroup",
         "a filter that tests cgroup"},
        {SSTRACE_FIELD_USERLOCKS, "the filter's autobound needs each socket's port lock",
         "a filter that tests autobound"},
    };
    const std::uint32_t missing = plan.bpf.fields & ~file.header().fields;
    for (const auto& n : kNeeds) {
        if ((missing & n.bits) != 0) {
            throw Error(fmt::format("--read {}", file.name()),
                        fmt::format("{}, which this capture did not record", n.needs),
                        kExitFailure, fmt::format("capture with {} to keep it", n.written_without));
        }
    }
}

// What the reading asks for that the capture did not follow: said once, not an error.
void warn_unrecorded(const StreamPlan& plan, const CaptureSelection& sel,
                     const capture::Reader& file)
{
    const capture::Header& h = file.header();
    if (plan.state_mode) {
        if (h.states == 0) {
            spdlog::warn("{} holds destroyed sockets, not state entries: read it without state "
                         "words", file.name());
        } else if (const StateMask more = sel.states & ~h.states; more != 0) {
            spdlog::warn("{} followed entries into {} only; entries into {} were not recorded",
                         file.name(), state_list(h.states), state_list(more));
        }
    } else if (h.destroy == 0) {
        spdlog::warn("{} holds state entries, not destroyed sockets", file.name());
    }
}

std::uint32_t namespace_by_name(const std::string& name,
                                const std::vector<std::unique_ptr<capture::Reader>>& files)
{
    std::string known;
    for (const auto& f : files) {
        for (const auto& [ino, n] : f->header().namespaces) {
            if (n == name) {
                return ino;
            }
            known += fmt::format("{}{}", known.empty() ? "" : ", ", n);
        }
    }
    throw Error(fmt::format("-N {}", name), "no namespace of that name in the capture's headers",
                kExitFailure,
                known.empty() ? std::string("it names none; select by inode with `--all-netns` "
                                            "and the Netns column")
                              : "it names " + known);
}

std::string clock_text(std::int64_t wall_ns)
{
    const std::time_t secs = static_cast<std::time_t>(wall_ns / 1000000000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       wall_ns % 1000000000 / 1000);
}

std::string causes(const EventLoss& l)
{
    return fmt::format("ring buffer full: {}, skipped by the kernel: {}, TIME-WAIT lookup cut "
                       "short: {}, not written to the capture: {}",
                       l.ring_full, l.skipped, l.map_full, l.not_written);
}

// --watch: the table a capture's first file starts with (its Table records, read ahead of its
// events by a reader of its own), printed as the listing the live watch printed.
struct CaptureTable {
    StateMask members = 0;
    std::uint64_t table_ns = 0;  // the table reflects the events applied before this
    bool listing = false;        // a run's first file: the rows are the listing's
    std::vector<std::uint32_t> netns;  // the namespaces listed, in order
    struct Row {
        sstrace_event rec;
        std::uint64_t since_ns;
    };
    std::vector<Row> rows;  // in the order the sockets joined it (the listing's first)
};

CaptureTable read_table(const capture::Reader& first)
{
    const std::string where = fmt::format("--read {} --watch", first.name());
    struct stat st {};
    if (first.name() == "/dev/stdin" || ::stat(first.name().c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        throw Error(where, "a capture on standard input or a pipe cannot be read twice (its "
                    "table, then its events)", kExitUsage, "give the file's name");
    }
    if (!first.header().table) {
        throw Error(where, "this capture holds no table of sockets", kExitFailure,
                    "it was written without --watch; read it without --watch");
    }
    CaptureTable t;
    t.members = *first.header().table;
    t.listing = first.header().file_index == 0;
    t.netns = first.header().table_netns;
    capture::Reader r(first.name());
    capture::Record rec;
    while (r.next(rec) && rec.type == capture::RecordType::Table) {
        const auto row = capture::parse_table(rec.payload);
        sstrace_event ev{};
        if (!row || row->event.size() < sizeof(ev)) {
            continue;  // damage shows when the events are read
        }
        std::memcpy(&ev, row->event.data(), sizeof(ev));
        t.table_ns = row->table_ns;
        t.rows.push_back({ev, row->since_ns});
    }
    return t;
}

// A table row as the listing's Socket (and the event that would have put it in the table).
bool row_event(const CaptureTable& table, const CaptureTable::Row& row, SocketEvent& ev)
{
    if (!decode_record(std::as_bytes(std::span(&row.rec, 1)), ev)) {
        return false;
    }
    Socket& s = ev.socket;
    if (s.family == AF_INET6) {
        s.inet.v6only = (row.rec.flags & SSTRACE_EVF_V6ONLY) != 0;  // [::] or *, as listed
    }
    // a timewait socket: its timer, as the live table knew it: in a run's first file when the
    // listing read it (the row as printed), in a later one when the file started
    s.timer = {};
    if (s.state == kStateTimeWait && row.since_ns != 0) {
        const std::uint64_t due = row.since_ns + LiveTable::kTimeWaitNs;
        const std::uint64_t as_of = table.listing ? ev.mono_ns : table.table_ns;
        s.timer.kind = 3;  // timewait
        s.timer.expires_ms = due > as_of ? (due - as_of) / 1'000'000 : 0;
    }
    return true;
}

// The listing part: the rows of the table as `sstrace` without -E lists them (the selection,
// the filter, the columns); with --all-netns a listing per namespace, as the live watch.
int print_table(const CaptureTable& table, const StreamPlan& plan, const CaptureSelection& sel,
                const Environment& env, const std::map<std::uint32_t, std::string>& names)
{
    // the namespaces the live listing covered (empty ones too), then any other a row is in
    std::vector<std::uint32_t> order = table.netns;
    for (const auto& row : table.rows) {
        if (std::find(order.begin(), order.end(), row.rec.netns_ino) == order.end()) {
            order.push_back(row.rec.netns_ino);
        }
    }
    if (!plan.watch->all_netns) {
        order.assign(1, 0);  // one listing of every row
    }
    SocketEvent ev;
    int rc = kExitOk;
    for (std::size_t i = 0; i < order.size() && rc == kExitOk; ++i) {
        const std::uint32_t ns = order[i];
        if (plan.watch->all_netns) {
            const auto name = names.find(ns);
            print_netns_heading(stdout, plan.watch->listing.json, i == 0, ns,
                                name != names.end() ? name->second : std::to_string(ns));
        }
        const ListingFeed feed = [&](const Selection& selection, ListingConsumer& c) {
            for (const TableId t : {kDbUdp, kDbTcp}) {
                if (!selection.has_table(t)) {
                    continue;
                }
                c.begin_table(t);
                for (const auto& row : table.rows) {
                    if ((ns != 0 && row.rec.netns_ino != ns) ||
                        (sel.netns && row.rec.netns_ino != *sel.netns) ||
                        row.rec.protocol != inet_table_protocol(t) || !row_event(table, row, ev)) {
                        continue;
                    }
                    const Socket& s = ev.socket;
                    if (!selection.has_family(s.family) ||
                        (selection.states & state_bit(s.state)) == 0) {
                        continue;
                    }
                    c.socket(ev.socket);
                }
            }
        };
        rc = run_listing(plan.watch->listing, env, nullptr, &feed);
    }
    std::fflush(stdout);
    return rc;
}

// Drops the events of a file's start that its table already shows: the seam of the live
// watch, with the table's time as the end of the listing.
class TableSeam : public EventGate {
public:
    TableSeam(const CaptureTable& t, bool tw_ends)
        : table_(Watch::kMaxSockets, t.members), table_ns_(t.table_ns)
    {
        table_.follow_ends(tw_ends);
        SocketEvent ev;
        for (const auto& row : t.rows) {
            if (row_event(t, row, ev)) {
                table_.seed(ev.socket, ev.netns_ino, ev.mono_ns);
            }
        }
    }

    bool pass(SocketEvent& ev) override
    {
        // the length of a TIME-WAIT is the capture's (the live table knew when it began)
        const std::uint64_t recorded = ev.in_state_ns;
        const bool changed = table_.apply(ev) == LiveTable::Verdict::New;
        if (recorded != 0) {
            ev.in_state_ns = recorded;
        }
        return changed || ev.mono_ns >= table_ns_;
    }

private:
    LiveTable table_;
    std::uint64_t table_ns_;
};

}  // namespace

int run_replay(const Options& opts, const Environment& env)
{
    std::vector<std::string> unreadable;  // files of a set whose header is damaged
    auto files = open_captures(opts.read_files, &unreadable);
    const capture::Header& first = files.front()->header();
    auto planned = plan_stream(with_capture_states(opts, first), env);
    if (const int* code = std::get_if<int>(&planned)) {
        return *code;
    }
    const StreamPlan& plan = std::get<StreamPlan>(planned);
    if (opts.transitions && !plan.state_mode) {
        throw Error("--transitions", "the capture holds destroyed sockets: there are no state "
                    "changes to show", kExitUsage);
    }
    for (const auto& f : files) {
        check_fields(plan, *f);
    }

    CaptureSelection sel;
    if (plan.watch && plan.watch->list) {
        // the rows the live watch showed (its programs followed every state for its table)
        const WatchPlan& w = *plan.watch;
        sel.states = plan.state_mode ? w.shown : 0;
        sel.leave = w.leaving ? sel.states : 0;
        sel.tw_end = w.leaving && (sel.states & state_bit(kStateTimeWait)) != 0;
    } else {
        sel.states = plan.state_mode ? plan.bpf.state_mask : 0;
        // --transitions: what the live stream shows of sockets leaving the selected states
        // (its table of timewait sockets, plan.watch, is not rebuilt: the capture kept how
        // long each TIME-WAIT lasted)
        sel.leave = plan.state_mode ? plan.bpf.leave_mask : 0;
        sel.tw_end = plan.state_mode && plan.bpf.tw_end;
    }
    sel.destroy = plan.state_mode ? 0 : plan.bpf.destroy;
    warn_unrecorded(plan, sel, *files.front());
    sel.family = plan.bpf.family;
    if (!opts.netns.empty()) {
        sel.netns = namespace_by_name(opts.netns, files);
    }
    if (opts.since) {
        sel.since_ns = resolve_wall_time(*opts.since, first.clock.real_ns);
    }
    if (opts.until) {
        sel.until_ns = resolve_wall_time(*opts.until, first.clock.real_ns);
    }
    std::map<std::uint32_t, std::string> names;
    for (const auto& f : files) {
        names.insert(f->header().namespaces.begin(), f->header().namespaces.end());
    }

    ::signal(SIGPIPE, SIG_IGN);
    // --watch: the listing the capture's table holds, then the changes
    std::optional<TableSeam> seam;
    if (plan.watch && plan.watch->list) {
        const CaptureTable table = read_table(*files.front());
        if (const int rc = print_table(table, plan, sel, env, names); rc != kExitOk) {
            return rc;
        }
        seam.emplace(table, sel.tw_end);
    }
    StreamOutputs outputs(plan, first.clock.offset(), OutputWriter::WhenFull::Wait);
    outputs.set_namespaces(names);
    const std::size_t file_count = files.size();
    CaptureEventSource source(std::move(files), sel);
    std::int64_t offset = 0;
    source.on_file = [&](const capture::Reader& f) {
        spdlog::info("reading {} (written by {} on {}, kernel {}, started {})", f.name(),
                     f.header().program, f.header().host, f.header().kernel,
                     clock_text(f.header().clock.real_ns));
    };
    source.on_clock = [&](std::int64_t o) {
        offset = o;
        outputs.set_clock_offset(o);
    };
    StreamPipeline pipeline(plan.expr, plan.count);
    source.on_loss = [&](const EventLoss& l) {
        spdlog::warn("{}: {} events lost ({})",
                     clock_text(static_cast<std::int64_t>(l.mono_ns) + offset), l.total(),
                     causes(l));
        pipeline.loss(l);
    };
    pipeline.add_source(source);
    if (seam) {
        pipeline.add_gate(*seam);
    }
    outputs.attach(pipeline);
    while (!source.done() && !pipeline.limit_reached() && outputs.writing()) {
        pipeline.drain();
    }
    pipeline.flush();
    outputs.finish(std::numeric_limits<int>::max());
    if (outputs.reader_gone()) {
        return kExitOk;
    }
    if (source.malformed() != 0) {
        spdlog::warn("{} malformed event records skipped", source.malformed());
    }
    outputs.report(false);
    if (opts.verbosity >= 1) {
        fmt::print(stderr, "{}: {} events read from {} file{}, {} {}\n", program_name(),
                   source.events_read(), file_count, file_count == 1 ? "" : "s",
                   outputs.delivered(), outputs.delivered_as());
    }
    if (source.lost().total() != 0) {
        fmt::print(stderr, "{}: the capture recorded {} lost events ({})\n", program_name(),
                   source.lost().total(), causes(source.lost()));
    }
    outputs.throw_if_failed();
    // each damaged file once, in reading order; the files after it were read too
    for (const std::string& line : unreadable) {
        fmt::print(stderr, "{}: {} (not read)\n", program_name(), line);
    }
    for (const capture::Reader* bad : source.damaged_files()) {
        fmt::print(stderr, "{}: {}: damaged at byte {}: {} (every record before it was read)\n",
                   program_name(), bad->name(), bad->damage()->offset, bad->damage()->what);
    }
    return unreadable.empty() && source.damaged_files().empty() ? kExitOk : kExitDamaged;
}

}  // namespace sstrace
