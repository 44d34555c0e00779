// SPDX-License-Identifier: GPL-2.0-only
// The live summary view (--top): what two StatsSnapshots say, as lines of text. A pure function
// of (previous snapshot, current snapshot, view state), so that the full-screen front end, the
// batch printer and the unit tests render the same thing. Sockets per state (the live table's
// gauges) with their entries per second, then the service ports ranked by a sort key.
#pragma once

#include "sstrace/model/stats.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace {

// What the port table is ranked by: a rate over the last interval (its total breaking ties),
// or the port number.
enum class TopSort : std::uint8_t { TimeWait, Resets, Opens, Port };

// "time-wait", "resets", "new", "port" (the words --json and the screen use).
std::string_view top_sort_name(TopSort sort);
// The next key in that order (`step` -1: the previous one), wrapping around.
TopSort next_top_sort(TopSort sort, int step = 1);

struct TopStateLine {
    int state = 0;               // kernel state number
    std::uint64_t current = 0;   // sockets in the state now (a gauge)
    std::uint64_t entries = 0;   // entries since the start
    double entries_per_s = 0;    // over the interval
};

struct TopPortLine {
    std::uint32_t netns_ino = 0;
    std::string netns_name;
    std::uint16_t port = 0;
    bool other = false;  // every port beyond the collector's bounded table
    std::uint64_t time_wait = 0;  // totals since the start
    std::uint64_t resets = 0;
    std::uint64_t opens = 0;
    double time_wait_per_s = 0;  // over the interval
    double resets_per_s = 0;
    double opens_per_s = 0;
};

// The states in the order the view lists them: the connection's life, then the others.
inline constexpr std::array<int, 11> kTopStateOrder = {1, 2, 3, 4, 5, 6, 8, 9, 11, 10, 7};

struct TopReport {
    std::uint64_t mono_ns = 0;  // the current snapshot's time
    double interval_s = 0;      // since the previous snapshot; 0: no previous one (no rates)
    std::size_t namespaces = 0;
    bool current_known = true;  // every namespace's gauges come from a seeded live table
    std::array<TopStateLine, kTopStateOrder.size()> states{};  // summed over the namespaces
    std::vector<TopPortLine> ports;  // ranked by the sort key; `other` lines last
    ToolStats tool;  // cumulative
    ToolStats tool_delta;  // over the interval
};

// Rates are differences over the interval between the snapshots; a counter that went down (a
// port that moved out of the bounded table) counts as no entries. `previous` may be null.
TopReport make_top_report(const StatsSnapshot* previous, const StatsSnapshot& current,
                          TopSort sort);

// The userspace filter typed after `/`: a port line matches when the text appears in its
// port number, its netns name, or the word `other`. Empty: every line.
bool top_port_matches(const TopPortLine& line, std::string_view filter);

struct TopScreen {
    TopSort sort = TopSort::TimeWait;
    std::string filter;        // the userspace port filter (`/`)
    std::size_t scroll = 0;    // the first matching port line shown
    bool netns_column = false; // --all-netns
    std::string title;         // the first line's left part (the time, the namespace)
    int rows = 0;              // the terminal's size; 0: unlimited (batch)
    int cols = 0;
    bool interactive = false;  // key help and the scroll position at the bottom
    bool prompt = false;       // the `/` prompt is open (the filter is being typed)
};

// The screen: at most `rows` lines, each at most `cols` characters (when set).
std::vector<std::string> render_top(const TopReport& report, const TopScreen& screen);

// How many port lines fit on the screen, and the largest useful scroll position.
std::size_t top_port_page(const TopScreen& screen);
std::size_t top_max_scroll(const TopReport& report, const TopScreen& screen);

// One JSON object (a line, newline included) for --top --batch --json. `realtime_offset_ns`:
// CLOCK_REALTIME - CLOCK_MONOTONIC, for the wall-clock time. The port lines are those that the
// filter matches, ranked.
std::string top_json(const TopReport& report, const TopScreen& screen,
                     std::int64_t realtime_offset_ns);

}  // namespace sstrace
