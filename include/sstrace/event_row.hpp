// SPDX-License-Identifier: GPL-2.0-only
// ss-shaped rows for event streams. ss -E measures every row on its own, so its columns jump
// from row to row; a stream cannot look ahead, so these columns start at widths that fit the
// families in play and only ever grow (a wider value widens its column from that row on).
#pragma once

#include "sstrace/abi/events.h"
#include "sstrace/sinks/inet_format.hpp"
#include "sstrace/core/state.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace sstrace {

// Checks a raw ring-buffer record and copies it out. nullopt for a short record, a size that
// disagrees with its header, or an unknown type (never cast raw bytes).
std::optional<sstrace_event> decode_event(const void* data, std::size_t size);

struct EventLayout {
    bool timestamp = false;    // --timestamp: leading wall-clock column
    bool netns = false;        // --all-netns: Netns column
    bool netid = true;         // hidden when exactly one table is selected (ss rule)
    bool state = true;         // hidden when exactly one state is selected (ss rule)
    bool transitions = false;  // State shows `OLD -> NEW`
    bool ipv6 = true;          // IPv6 rows possible: wider address columns
    bool resolve = false;      // -r
    bool extended = false;     // -e: ` uid:N ino:N sk:COOKIE` after the peer port, as ss -E -e
    StateMask states = kAllStates;  // states rows can show (sizes the State column)
};

class EventFormatter {
public:
    // `services` resolves ports (ss -E looks them up for any protocol).
    EventFormatter(const EventLayout& layout, ServiceNames& services);

    // Wall-clock time = monotonic + this offset (ns); set by the caller once at start-up.
    void set_clock_offset(std::int64_t realtime_minus_monotonic_ns) { clock_offset_ = realtime_minus_monotonic_ns; }

    void append_header(std::string& out) const;
    void append_row(const sstrace_event& ev, std::string& out);

private:
    enum Col { kTime, kNetns, kNetid, kState, kRecvQ, kSendQ, kLocal, kLport, kPeer, kPport, kCols };

    void put(std::string& out, int col, std::string_view text, bool& first);

    EventLayout layout_;
    ServiceNames& services_;
    std::int64_t clock_offset_ = 0;
    std::size_t width_[kCols] = {};
};

}  // namespace sstrace
