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
#include "sstrace/core/error.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/sources/capture_source.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <limits>

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
void warn_unrecorded(const StreamPlan& plan, const capture::Reader& file)
{
    const capture::Header& h = file.header();
    if (plan.state_mode) {
        if (h.states == 0) {
            spdlog::warn("{} holds destroyed sockets, not state entries: read it without state "
                         "words", file.name());
        } else if (const StateMask more = plan.bpf.state_mask & ~h.states; more != 0) {
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
    return fmt::format("ring buffer full: {}, skipped by the kernel: {}, TIME-WAIT map full: {}, "
                       "not written to the capture: {}",
                       l.ring_full, l.skipped, l.map_full, l.not_written);
}

}  // namespace

int run_replay(const Options& opts, const Environment& env)
{
    auto files = open_captures(opts.read_files);
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
    warn_unrecorded(plan, *files.front());

    CaptureSelection sel;
    sel.states = plan.state_mode ? plan.bpf.state_mask : 0;
    // --transitions: what the live stream shows of sockets leaving the selected states (its
    // table of timewait sockets, plan.watch, is not rebuilt: the capture kept how long each
    // TIME-WAIT lasted)
    sel.leave = plan.state_mode ? plan.bpf.leave_mask : 0;
    sel.tw_end = plan.state_mode && plan.bpf.tw_end;
    sel.destroy = plan.state_mode ? 0 : plan.bpf.destroy;
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
    if (const capture::Reader* bad = source.damaged_file(); bad != nullptr) {
        fmt::print(stderr, "{}: {}: damaged at byte {}: {} (every record before it was read)\n",
                   program_name(), bad->name(), bad->damage()->offset, bad->damage()->what);
        return kExitDamaged;
    }
    return kExitOk;
}

}  // namespace sstrace
