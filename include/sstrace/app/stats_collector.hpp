// SPDX-License-Identifier: GPL-2.0-only
// The one producer of StatsSnapshot (sstrace/model/stats.hpp), which every aggregate view reads
// (the Prometheus endpoint of --metrics, the live summary view of --top): the BPF metric maps
// for the counters (state entries, per service port, lifetimes), the session's counters for the
// tool's health, the namespace's TCP counters for TIME-WAIT overflows, and a live table, when
// the stream keeps one, for the gauges.
//
// Thread rules: a StatsCollector belongs to the stream's event-loop thread. Construct it there
// (inside run_event_stream, after the BPF session is attached) and call refresh_listeners() and
// snapshot() only from that thread: both read BPF maps (and the live table, which the event
// loop updates). A view on another thread (the HTTP server) gets copies of the snapshots the
// event-loop thread hands it, never the collector.
#pragma once

#include "sstrace/core/netns.hpp"
#include "sstrace/model/live_table.hpp"
#include "sstrace/model/stats.hpp"
#include "sstrace/sources/bpf_session.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace sstrace {

// An aggregate view (the metrics endpoint, --top): the event-loop thread hands it the latest
// snapshot about once a second, on that thread. A view that serves another thread copies it.
class StatsView {
public:
    virtual ~StatsView() = default;
    virtual void publish(const StatsSnapshot& snap) = 0;
};

struct StatsScope {
    bool all_netns = false;       // --all-netns: every namespace's counters, labelled by name
    std::uint32_t netns_ino = 0;  // the stream's namespace (the one sstrace runs in)
};

class StatsCollector {
public:
    // `session` must have been created with BpfConfig::metrics. `table`: the stream's live
    // table, seeded by a dump, for exact gauges (nullptr: NetnsStats::current_known is false).
    // Reads the namespace's TCP counters (the base of the overflow count) and the listening
    // ports: construct it once the programs are attached.
    StatsCollector(BpfSession& session, const StatsScope& scope, const LiveTable* table = nullptr);

    // Dumps the listening TCP ports (every namespace with --all-netns) into the BPF listeners
    // map, which decides the service port of a connection. Call about once a second.
    void refresh_listeners();

    // The counters now. The stream's own namespace is always present (zeros until its first
    // transition); with --all-netns, every namespace with a counted transition too.
    StatsSnapshot snapshot();

private:
    BpfSession& session_;
    StatsScope scope_;
    const LiveTable* table_;
    NetnsNames names_;
    std::map<std::string, std::int64_t> tcp0_;  // the namespace's TCP counters at the start
};

}  // namespace sstrace
