// SPDX-License-Identifier: GPL-2.0-only
// tracefs, mounted for as long as it is needed, and a perf counter of a tracepoint's hits: the
// kernel's own count of how often a hooked tracepoint fired, to compare with how often the
// programs on it were run (include/sstrace/abi/events.h: SSTRACE_CNT_RUNS_*, sstrace_nest_slot).
#pragma once

#include "sstrace/core/unique.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sstrace {

// The CPUs online now (what perf can count on, what the record rings are made for).
std::vector<int> online_cpus();

// Whether a tracefs is mounted where sstrace looks for one (a statfs of the mount points: also
// known to a user who may not read it).
bool tracefs_mounted();

// Mounts tracefs on /sys/kernel/tracing when no tracefs is visible, and unmounts it again.
class TracefsMount {
public:
    TracefsMount();
    ~TracefsMount();
    TracefsMount(const TracefsMount&) = delete;
    TracefsMount& operator=(const TracefsMount&) = delete;

private:
    bool mounted_ = false;
};

// Counts the hits of one tracepoint on every online CPU (perf counting events, no samples).
class TracepointHits {
public:
    // "sock", "inet_sock_set_state". Nothing (with the reason logged) when tracefs or
    // perf_event_open is not available; the counters start disabled.
    static std::optional<TracepointHits> open(const char* system, const char* event);

    void enable();
    // Hits on every CPU since enable().
    std::uint64_t read() const;

private:
    std::vector<Unique<FdTraits>> fds_;
};

}  // namespace sstrace
