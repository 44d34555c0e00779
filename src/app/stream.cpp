// SPDX-License-Identifier: GPL-2.0-only
// sstrace -E: one thread runs the event loop (ring buffer, signals, timers); rows are written by
// a thread of their own (OutputWriter). The path of one event: doc/architecture.md.
#include "sstrace/app/app.hpp"
#include "sstrace/app/event_loop.hpp"
#include "sstrace/app/metrics_server.hpp"
#include "sstrace/app/stats_collector.hpp"
#include "sstrace/app/stream_accounting.hpp"
#include "sstrace/app/stream_outputs.hpp"
#include "sstrace/app/stream_pipeline.hpp"
#include "sstrace/app/stream_plan.hpp"
#include "sstrace/app/top.hpp"
#include "sstrace/app/watch.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/netns.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/sources/bpf_event_source.hpp"
#include "sstrace/sources/bpf_session.hpp"

#include <fmt/format.h>
#include <linux/capability.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace sstrace {

namespace {

// How long rows still queued at the end may take to be written.
constexpr int kFinalWriteMs = 1000;
// The drain period: records committed without a wake-up wait at most this long.
constexpr std::chrono::milliseconds kTick{100};

std::int64_t clock_ns(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace

int run_event_stream(const Options& opts, const Environment& env)
{
    auto planned = plan_stream(opts, env);
    if (const int* code = std::get_if<int>(&planned)) {
        return *code;
    }
    const StreamPlan& plan = std::get<StreamPlan>(planned);

    // First: the stop signals are blocked in every thread started from here on.
    EventLoop loop;
    ::signal(SIGPIPE, SIG_IGN);

    // --metrics: bound before any BPF is loaded, so that an address in use fails at once (its
    // thread starts here, with the stop signals blocked)
    std::optional<MetricsServer> metrics;
    if (plan.metrics) {
        metrics.emplace(*plan.metrics, !plan.scope.one_netns);
        spdlog::info("metrics on http://{}/metrics", metrics->address());
    }

    BpfSession session(plan.bpf);
    BpfEventSource source(session);
    source.cgroup_in_rows(plan.row.cgroup);
    // -p, -T: the programs are attached and see every socket created from now on; the owners
    // of those that exist already come from /proc
    if (plan.bpf.owners) {
        const OwnerSeedStats seeded = seed_owners_from_proc(session, plan.proc_dir, plan.row.threads);
        spdlog::info("owners of {} existing inet sockets recorded from {} ({} not reachable)",
                     seeded.seeded, plan.proc_dir, seeded.failed);
    }
    StreamAccounting accounting(session, plan.scope);

    StreamPipeline pipeline(plan.expr, plan.count);
    pipeline.add_source(source, loop);
    pipeline.add_observer(accounting);
    accounting.start();
    // --watch: the listing now (the programs are attached), the table at the seam then.
    std::optional<Watch> watch;
    if (plan.watch) {
        watch.emplace(*plan.watch, plan.bpf.netns_ino, source, session.tw_ends());
        if (plan.watch->list && plan.output.capture) {
            watch->keep_rows();  // each capture file starts with the table
        }
        if (plan.watch->list) {
            if (const int rc = watch->list(env); rc != kExitOk) {
                return rc;
            }
        }
        pipeline.add_gate(*watch);
    }
    // --metrics, --top: the aggregate views read the snapshots of one collector, taken on this
    // thread about once a second
    std::optional<StatsCollector> stats;
    std::vector<StatsView*> views;
    if (plan.bpf.metrics) {
        // --top and --metrics alone keep a live table (a quiet watch): the gauges
        stats.emplace(session, StatsScope{!plan.scope.one_netns, current_netns_inode()},
                      watch && plan.watch->gauges ? &watch->table() : nullptr);
    }
    // --top: a snapshot every --interval (also between the publishing ticks)
    std::unique_ptr<TopFrontEnd> top;
    if (plan.top) {
        top = start_top(*plan.top, loop, [&] { return stats->snapshot(); },
                        clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
    }
    if (metrics) {
        views.push_back(&*metrics);
    }
    auto publish_stats = [&] {
        if (!stats) {
            return;
        }
        stats->refresh_listeners();
        const StatsSnapshot snap = stats->snapshot();
        for (StatsView* v : views) {
            v->publish(snap);
        }
    };
    // after the listing: on a terminal the header is written at once. Rows, JSON lines, a
    // capture file: the policy for their write errors is StreamOutputs'.
    CaptureTableSource table;
    if (watch && plan.watch->list && plan.output.capture) {
        table.records = [&watch] { return watch->table_records(); };
        table.netns = watch->listed_netns();
    }
    StreamOutputs outputs(plan, clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC),
                          OutputWriter::WhenFull::Drop, std::move(table));
    outputs.attach(pipeline);

    bool reader_gone = false;
    // A pipe's write end reports an error once the reader is gone: stop then, instead of at
    // the next row (which may never come).
    loop.watch_errors(STDOUT_FILENO, [&] {
        reader_gone = true;
        loop.stop();
    });
    loop.on_signal([&](int signo) {
        if (top) {
            top->release();  // the terminal back at once: a second signal ends the process
        }
        spdlog::info("signal {}: stopping", signo);
        loop.stop();
    });
    if (plan.duration) {
        loop.after(*plan.duration, [&] { loop.stop(); });
    }
    auto report_loss = [&]() {
        EventLoss lost;
        if (auto line = accounting.loss_since_last_poll(&lost)) {
            spdlog::warn("{}", *line);
            pipeline.loss(lost);  // in the JSON lines and the capture file too
        }
        outputs.warn_unwritten();
    };
    unsigned ticks = 0;
    loop.every(kTick, [&] {
        if (++ticks % 10 != 0) {
            return;
        }
        report_loss();
        publish_stats();
        if (watch) {
            watch->expire();
        }
    });
    // Drain on every wake-up: ring data, timer ticks (records committed without a wake-up) and
    // the final pass after a stop.
    loop.after_each_wake([&] {
        pipeline.drain();
        if (!outputs.writing() || pipeline.limit_reached()) {
            loop.stop();
        }
    });
    publish_stats();  // the first snapshot: the views have counters from the start
    // --user: everything that needs root is done (programs attached, listing printed, outputs
    // open, the endpoint bound). The event loop keeps what reading the BPF maps needs, and
    // entering namespaces with --all-netns (the listeners of the service ports).
    if (plan.run_as) {
        std::vector<int> keep = {CAP_BPF, CAP_PERFMON};
        if (!plan.scope.one_netns) {
            keep.push_back(CAP_SYS_ADMIN);
        }
        drop_privileges(*plan.run_as, keep);
        spdlog::info("running as {} (uid {}, gid {}) with {}", plan.run_as->name,
                     plan.run_as->uid, plan.run_as->gid,
                     plan.scope.one_netns ? "CAP_BPF and CAP_PERFMON"
                                          : "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN");
    }
    spdlog::info("following {} with {} programs ({}); Ctrl-C to stop",
                 plan.state_mode      ? "TCP state entries"
                 : plan.bpf.destroy   ? "TCP socket destruction"
                                      : "TCP state changes for the metrics",
                 variant_name(session.variant()),
                 plan.scope.one_netns ? fmt::format("netns inode {}", plan.bpf.netns_ino)
                                      : std::string("all network namespaces"));
    loop.run();
    top.reset();  // the terminal restored before anything more is printed

    accounting.stop();
    pipeline.finish();
    report_loss();
    pipeline.flush();
    // Every received row gets up to a second to be written; a second signal ends it at once.
    outputs.finish(kFinalWriteMs);
    if (outputs.reader_gone() || reader_gone) {
        return kExitOk;  // the reader went away: exit quietly, as a filter in a pipe does
    }
    const BpfCounters c = session.counters();
    outputs.warn_unwritten();
    if (!plan.bpf.filter.empty()) {
        spdlog::info("{} events rejected by the filter in the kernel", c.filtered);
    }
    if (source.malformed() != 0) {
        spdlog::warn("{} malformed ring-buffer records ignored", source.malformed());
    }
    outputs.report(opts.verbosity >= 1);
    if (!plan.top || opts.verbosity >= 1) {  // --top printed no event: its summary only with -v
        accounting.finish(outputs.delivered(), opts.verbosity >= 1, stderr, outputs.delivered_as());
    }
    if (watch && opts.verbosity >= 1) {
        watch->report(stderr);
    }
    // the policy for a full disk (or any write error): stop, keep what was written, say what
    // was not, exit 1
    outputs.throw_if_failed();
    return kExitOk;
}

}  // namespace sstrace
