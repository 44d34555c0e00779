// SPDX-License-Identifier: GPL-2.0-only
// What a stream saw, lost and printed, and how that compares with the kernel's own counters:
// the periodic loss warnings and the exit summary of `sstrace -E`.
#pragma once

#include "sstrace/core/state.hpp"
#include "sstrace/model/loss.hpp"
#include "sstrace/sinks/event_sink.hpp"
#include "sstrace/sources/bpf_session.hpp"
#include "sstrace/sources/mib.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>

namespace sstrace {

// The calling thread's network namespace's TCP counters, named as nstat names them
// (TcpActiveOpens, TcpExtTW, ...), from /proc/self/net/snmp and /proc/self/net/netstat.
std::map<std::string, std::int64_t> read_tcp_counters();

// The same, each file with the time of its read (what a stream's records are compared by).
struct KernelCounters {
    MibRead snmp;
    MibRead netstat;
    // a counter by its nstat name, -1 when neither file has it
    std::int64_t value(const std::string& name) const;
};
KernelCounters read_tcp_counters_timed();

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
    // Records of one kind counted between the two reads of their counter (n), and the records of
    // that kind, counted or not, near one of the reads (edge): the kernel may count those on the
    // other side of its read.
    struct Tally {
        std::uint64_t n = 0;
        std::uint64_t edge = 0;
    };
    struct Window {
        Tally time_wait;
        std::uint64_t time_wait_fin_wait2 = 0;
        Tally syn_sent;  // SYN actually sent (TcpActiveOpens counts those)
        Tally syn_recv;
    };

    void compare(std::FILE* out, const char* what, std::int64_t kernel, const char* counter,
                 const Tally& ours, std::string note) const;

    const BpfSession& session_;
    StreamScope scope_;
    bool tally(Tally& t, const SocketEvent& ev, bool netstat) const;

    KernelCounters counters0_;
    KernelCounters counters1_;
    bool stopped_ = false;
    Window window_;  // records of events between the two reads of their counters
    BpfLoss reported_;  // loss already reported
};

}  // namespace sstrace
