// SPDX-License-Identifier: GPL-2.0-only
// The live summary view's front ends (--top): the full-screen terminal (ncurses) and the batch
// printer (text or JSON lines). Both take a snapshot every interval from the stream's stats
// collector and render it with sinks/top_view.hpp.
#pragma once

#include "sstrace/app/event_loop.hpp"
#include "sstrace/app/options.hpp"
#include "sstrace/model/stats.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace sstrace {

struct TopPlan {
    std::chrono::nanoseconds interval{1'000'000'000};
    bool batch = false;
    bool json = false;
    bool netns_column = false;   // --all-netns
    std::uint64_t reports = 0;   // -c: stop after this many (0: no limit)
    std::string scope;           // the title's description of the selection
};

// The view's part of the command line. Throws Error (exit 255) for --top without a terminal
// on stdin and stdout (the full screen needs both; --batch does not), before anything loads.
TopPlan plan_top(const Options& opts, const std::string& scope);

class TopFrontEnd {
public:
    virtual ~TopFrontEnd() = default;
    // Restores the terminal now (the first stop signal: a second one ends the process at once).
    virtual void release() {}
};

// Registers the view with `loop`: a first snapshot now (the base of the first rates), then one
// every interval, shown on the terminal or printed; q, -c N or a closed stdout stop the loop.
// The terminal is restored when the returned object is destroyed (also by an exception).
std::unique_ptr<TopFrontEnd> start_top(const TopPlan& plan, EventLoop& loop,
                                       std::function<StatsSnapshot()> snapshot,
                                       std::int64_t realtime_offset_ns);

}  // namespace sstrace
