// SPDX-License-Identifier: GPL-2.0-only
// What the aggregate views show (the Prometheus endpoint, --metrics, and the live summary view,
// --top): one snapshot of counters and gauges, per network namespace. Counters are cumulative
// since the stream started (a view takes differences of two snapshots for rates); gauges are
// the live table's current counts. One producer fills it (the stats collector: BPF-map
// counters where the rate is high, the live table for gauges); every aggregate view reads it.
#pragma once

#include "sstrace/core/state.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sstrace {

// Per service port: the listening side's port where the table of listeners knows it, the lower
// of the two ports otherwise. `port` 0 with `other` set: every port beyond the bounded table.
struct PortCounters {
    std::uint16_t port = 0;
    bool other = false;
    std::uint64_t time_wait = 0;  // entries into TIME-WAIT
    std::uint64_t resets = 0;     // ESTABLISHED/CLOSE-WAIT -> CLOSE (the kernel's TcpEstabResets)
    std::uint64_t opens = 0;      // entries into ESTABLISHED (new connections, either side)
};

// Connection lifetimes in seconds, Prometheus-style: cumulative counts per upper bound.
struct LifetimeHistogram {
    std::vector<double> bounds;           // upper bounds, seconds, ascending (+Inf implied)
    std::vector<std::uint64_t> buckets;   // count <= bounds[i] (cumulative); size bounds+1
    double sum_seconds = 0;
    std::uint64_t count = 0;
};

struct NetnsStats {
    std::uint32_t netns_ino = 0;
    std::string netns_name;  // `ip netns` name, or the inode in decimal
    std::array<std::uint64_t, kStateCount> entries{};  // state entries (index: kernel state)
    std::array<std::uint64_t, kStateCount> current{};  // sockets now per state (gauges)
    bool current_known = false;  // the gauges come from a live table seeded by a dump
    std::vector<PortCounters> ports;  // the busiest first is not promised: views sort
    LifetimeHistogram lifetime;
    std::uint64_t tw_overflows = 0;  // TcpExtTCPTimeWaitOverflow since start (own netns only)
};

// One BPF program's runs and run time (kernel BPF statistics, opt-in: --bpf-stats).
struct ProgramRunStats {
    std::string name;
    std::uint64_t runs = 0;
    std::uint64_t run_time_ns = 0;
};

// The tool's own health.
struct ToolStats {
    std::uint64_t events_seen = 0;
    std::uint64_t lost_ring_full = 0;
    std::uint64_t lost_skipped = 0;
    std::uint64_t lost_map_full = 0;
    std::vector<ProgramRunStats> programs;  // empty unless the run-time statistics are on
};

struct StatsSnapshot {
    std::uint64_t mono_ns = 0;  // CLOCK_MONOTONIC when taken
    std::vector<NetnsStats> netns;
    ToolStats tool;
};

}  // namespace sstrace
