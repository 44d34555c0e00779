// SPDX-License-Identifier: GPL-2.0-only
// A StatsSnapshot as Prometheus reads it: the text exposition format 0.0.4, or OpenMetrics
// 1.0.0 (what a scraper asking for application/openmetrics-text gets). Names follow
// Prometheus' conventions: the sstrace_ prefix, base units, _total on counters.
//
// Per-port series are bounded: at most `max_ports` ports per namespace get a label of their own,
// the rest are summed into port="other". A port keeps its label once given (PortLabels), so
// every series, `other` included, only grows, as a counter must.
#pragma once

#include "sstrace/model/stats.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace {

enum class MetricsFormat {
    Prometheus,   // text/plain; version=0.0.4
    OpenMetrics,  // application/openmetrics-text; version=1.0.0
};

// The Content-Type header of a format.
std::string_view metrics_content_type(MetricsFormat f);

// The format an Accept header asks for: OpenMetrics when it names
// application/openmetrics-text (with a q above 0), else the text format.
MetricsFormat metrics_format_for(std::string_view accept);

// A label value as both formats write it: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view v);

// Which ports of each namespace have a label of their own: the busiest first (TIME-WAIT entries,
// resets and opens together) while fewer than max_ports have one; never taken back.
class PortLabels {
public:
    static constexpr std::size_t kDefaultMaxPorts = 64;
    explicit PortLabels(std::size_t max_ports = kDefaultMaxPorts) : max_(max_ports) {}

    // The namespace's port counters as exposed: labelled ports, ascending, then `other` (the
    // sum of the rest and of what the BPF map could not hold), always present.
    std::vector<PortCounters> select(const NetnsStats& n);

private:
    std::size_t max_;
    std::map<std::uint32_t, std::set<std::uint16_t>> labelled_;  // by netns inode
};

struct ExpositionOptions {
    MetricsFormat format = MetricsFormat::Prometheus;
    bool netns_label = false;  // --all-netns: every per-namespace series has netns="NAME"
};

// The exposition of `snap`; `ports` decides the per-port series (and remembers them).
std::string render_metrics(const StatsSnapshot& snap, const ExpositionOptions& opts,
                           PortLabels& ports);

}  // namespace sstrace
