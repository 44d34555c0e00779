// SPDX-License-Identifier: GPL-2.0-only
// argv's options turned into what an event stream runs: the BPF configuration, the filter, the
// row layout, the limits. Nothing after this step looks at the options.
#pragma once

#include "sstrace/app/metrics_server.hpp"
#include "sstrace/core/privileges.hpp"
#include "sstrace/app/options.hpp"
#include "sstrace/app/output_plan.hpp"
#include "sstrace/app/stream_accounting.hpp"
#include "sstrace/app/top.hpp"
#include "sstrace/core/env.hpp"
#include "sstrace/filter/filter.hpp"
#include "sstrace/sinks/event_rows.hpp"
#include "sstrace/sinks/ss_row.hpp"
#include "sstrace/sources/bpf_session.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace sstrace {

// --watch: the listing first, then the changes to it.
// The live table of a stream: --watch (a listing first, then its changes), or a --transitions
// stream that shows the ends of TIME-WAIT (the table tells how long each lasted).
struct WatchPlan {
    bool list = true;        // --watch: list first; else the table only annotates the stream
    Options listing;         // the listing part: the stream's tables, as sstrace lists them
    StateMask members = 0;   // the states the listing selects: the live table holds those
    StateMask shown = 0;     // state entries shown (0: the destroy stream's rows)
    bool leaving = false;    // --transitions: sockets leaving `shown` too
    bool all_netns = false;  // --all-netns: a listing per namespace, one table for all
    bool quiet = false;      // the listing seeds the table and prints nothing (--top,
                             // --metrics alone, --write without --print)
    bool gauges = false;     // the table is the gauges of --top and --metrics
    bool datagram = false;   // the destroy stream covers UDP or raw sockets: the table holds
                             // the listed ones until their destroy
};

struct StreamPlan {
    BpfConfig bpf;
    filter::Filter expr;  // checked on every event in userspace (also run in the kernel when
                          // it compiles to bytecode: bpf.filter)
    bool state_mode = false;  // state words given: state entries; else destroys
    bool tty = false;         // stdout is a terminal
    EventRowLayout layout;
    RowOptions row;
    bool numeric = false;  // -n
    StreamScope scope;
    std::uint64_t count = 0;  // -c: rows at the most (0: no limit)
    std::optional<std::chrono::nanoseconds> duration;
    std::string proc_dir;
    OutputPlan output;  // rows or JSON lines, a capture file
    std::optional<WatchPlan> watch;
    // --top: the counters only (BpfConfig::metrics), no row; the view's front end
    std::optional<TopPlan> top;
    // --metrics: where the endpoint listens (bpf.metrics is set too)
    std::optional<MetricsEndpoint> metrics;
    // --user NAME: who the stream runs as once it is set up (resolved before anything loads)
    std::optional<RunAs> run_as;
};

// Builds the plan. Where ss would stop (a bad family, state word or filter), ss's message is
// printed and its exit code returned instead; sstrace's own errors are thrown (Error).
std::variant<StreamPlan, int> plan_stream(const Options& opts, const Environment& env);

}  // namespace sstrace
