// SPDX-License-Identifier: GPL-2.0-only
// The BPF session as an event source: ring-buffer records decoded into SocketEvents.
#pragma once

#include "sstrace/sources/bpf_session.hpp"
#include "sstrace/sources/event_source.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <deque>
#include <vector>

namespace sstrace {

class BpfEventSource : public EventSource {
public:
    explicit BpfEventSource(BpfSession& session);

    int fd() const override;
    std::size_t drain(const Deliver& deliver) override;

    // While a dump runs, records are kept as they came (a record is ~100 bytes, an event over a
    // kilobyte) instead of delivered: hold() starts that, and drain() then keeps up to
    // `max_bytes` of them (beyond, it leaves them in the ring buffer, whose loss is counted).
    // end_hold() ends it: the next drain() delivers the held records first, in their order.
    void hold(std::size_t max_bytes);
    void end_hold() { holding_ = false; }
    bool holding() const { return holding_; }
    // Bytes of records held now.
    std::size_t held_bytes() const { return held_.size(); }

    // --cgroup: rows show the socket's cgroup (ss -E's rows have none: the record's cgroup is
    // otherwise only the filter's).
    void cgroup_in_rows(bool on) { cgroup_in_rows_ = on; }
    // Delivers the TIME-WAIT cancels still waiting to be told apart from a re-arm, as ends
    // (at the end of a stream).
    void finish(const Deliver& deliver) override;

    // A cancelled TIME-WAIT waits this long for its expiry or re-arm (either follows within
    // microseconds, from the same CPU) before it is delivered as killed.
    static constexpr std::uint64_t kRearmWaitNs = 20'000'000;

    // Records that failed to decode (never expected: the programs and this decoder share the
    // ABI header).
    std::uint64_t malformed() const { return malformed_; }

private:
    std::size_t release(const Deliver& deliver);
    bool decode(std::span<const std::byte> record);
    // Delivers event_, or keeps it while it is a cancel that a re-arm may still follow.
    void route(const Deliver& deliver);
    // Delivers the kept cancels older than `cutoff_ns` as killed TIME-WAITs.
    void resolve_cancels(std::uint64_t cutoff_ns, const Deliver& deliver);

    BpfSession& session_;
    SocketEvent event_;  // reused for every record
    const Deliver* deliver_ = nullptr;
    std::size_t delivered_ = 0;
    std::uint64_t malformed_ = 0;
    bool holding_ = false;
    bool cgroup_in_rows_ = false;
    std::size_t hold_max_ = 0;
    std::vector<std::byte> held_;  // records, each after its size (a std::uint32_t)
    std::deque<SocketEvent> cancels_;  // TIME-WAIT cancels, in arrival order
};

}  // namespace sstrace
