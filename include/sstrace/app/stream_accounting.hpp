// SPDX-License-Identifier: GPL-2.0-only
// What a stream saw, lost and printed, and how that compares with the kernel's own counters:
// the periodic loss warnings and the exit summary of `sstrace -E`.
#pragma once

#include "sstrace/core/state.hpp"
#include "sstrace/model/loss.hpp"
#include "sstrace/sinks/event_sink.hpp"
#include "sstrace/sources/bpf_session.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

namespace sstrace {

// The calling thread's network namespace's TCP counters, named as nstat names them
// (TcpActiveOpens, TcpExtTW, ...), from /proc/self/net/snmp and /proc/self/net/netstat.
std::map<std::string, std::int64_t> read_tcp_counters();

// How a stream is scoped: decides which kernel counters its rows can be compared with.
struct StreamScope {
    StateMask states = 0;        // state entries followed (0: the destroy stream)
    bool one_netns = true;       // false with --all-netns
    bool both_families = true;   // false with -4/-6 or a family filter
    bool filtered = false;       // a FILTER expression selects part of the sockets
};

// A sink that sees every event the kernel sent, before the userspace filter and -c.
class StreamAccounting : public EventSink {
public:
    StreamAccounting(const BpfSession& session, const StreamScope& scope);

    // Reads the kernel counters: call once the programs are attached.
    void start();
    // Reads them again when the stream stops, before the last drain of the ring buffer: records
    // of events after this moment are not compared.
    void stop();
    // Every event received, whether printed or not.
    void event(const SocketEvent& ev) override;
    // About once a second: a warning line for loss since the last call, or nothing; `lost`
    // (when given) gets the loss by cause, for the sinks that record it.
    std::optional<std::string> loss_since_last_poll(EventLoss* lost = nullptr);
    // The exit summary on `out`: seen / printed / lost by cause, the kernel counters compared,
    // and with `verbose` each program's runs skipped by the kernel and taken by a second copy.
    // `delivered_as`: "printed", or "written" when the events went to a capture file only.
    void finish(std::uint64_t printed, bool verbose, std::FILE* out,
                const char* delivered_as = "printed");

private:
    struct Window {
        std::uint64_t time_wait = 0;
        std::uint64_t time_wait_fin_wait2 = 0;
        std::uint64_t syn_sent = 0;  // SYN actually sent (TcpActiveOpens counts those)
        std::uint64_t syn_recv = 0;
    };

    void compare(std::FILE* out, const char* what, std::int64_t kernel, const char* counter,
                 std::uint64_t ours, const std::string& note) const;

    const BpfSession& session_;
    StreamScope scope_;
    std::map<std::string, std::int64_t> counters0_;
    std::map<std::string, std::int64_t> counters1_;
    std::uint64_t t0_ns_ = 0;
    std::uint64_t t1_ns_ = 0;  // 0 until stop()
    Window window_;  // records of events between the two counter reads
    BpfLoss reported_;  // loss already reported
};

}  // namespace sstrace
