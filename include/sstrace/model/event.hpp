// SPDX-License-Identifier: GPL-2.0-only
// One socket event of a stream: a TCP socket entered a state, or was destroyed. Sources (the BPF
// session today; a capture reader and the live table later) produce them, sinks (ss rows today;
// JSON, capture files, metrics later) consume them.
#pragma once

#include "sstrace/model/socket.hpp"

#include <cstdint>
#include <optional>

namespace sstrace {

enum class EventKind : std::uint8_t {
    StateEntry,  // the socket entered `new_state` (sstrace -E state ...)
    Destroy,     // the socket was destroyed (sstrace -E, as ss -E)
    TimeWaitEnd, // a timewait socket's TIME-WAIT ended, or its timer was re-armed (`tw_end`)
};

// How a TIME-WAIT ended (EventKind::TimeWaitEnd).
enum class TwEnd : std::uint8_t {
    Expired,    // its timer fired after the full TIME-WAIT length
    Cancelled,  // its timer was cancelled: Killed, unless a Rearmed event follows (the BPF
                // source resolves it and never delivers this)
    Killed,     // ended early: the tuple reused, an RST or SYN, its netns deleted, ss -K
    Rearmed,    // not an end: the timer was re-armed (a retransmitted FIN; the peer's FIN ending
                // the FIN-WAIT-2 substate), the TIME-WAIT lasts longer
};

// Why a socket went to CLOSE, from its error at the transition.
enum class CloseReason : std::uint8_t { None, Reset, Refused, Timeout, Other };

struct SocketEvent {
    EventKind kind = EventKind::StateEntry;
    int old_state = 0;  // kernel TCP numbering; for a destroy, the state it was destroyed in
    int new_state = 0;  // TIME-WAIT is inferred (the kernel moves the full socket to CLOSE)
    std::uint64_t mono_ns = 0;  // CLOCK_MONOTONIC time of the event
    std::uint32_t cpu = 0;
    std::uint32_t netns_ino = 0;  // the socket's network namespace
    CloseReason close_reason = CloseReason::None;
    // A TIME-WAIT entry whose timewait socket starts in the FIN-WAIT-2 substate: the peer had
    // not sent its FIN (ss lists it as FIN-WAIT-2 until it does).
    bool tw_orphan = false;
    // A SYN-SENT entry of a connect() that failed before its SYN was sent.
    bool syn_unsent = false;
    TwEnd tw_end = TwEnd::Expired;  // EventKind::TimeWaitEnd only
    // How long the socket was in `old_state` (0: unknown): set by a live table that saw it
    // enter, or listed it with its timer.
    std::uint64_t in_state_ns = 0;

    // -i: time from the socket's birth (its first transition out of CLOSE or LISTEN) to this
    // event, when the stream saw that birth; on a destroy or CLOSE row, the connection's life.
    std::optional<std::uint64_t> lifetime_ns;

    // What an ss row shows of the socket: what ss -E receives in the kernel's destroy
    // notification (no timer, mark or cgroup; ino 0 and no uid once the socket's file is gone).
    Socket socket;

    // What only the filter looks at (the kernel's filter sees it too, so a stream selects the
    // same sockets as a listing): zero unless the filter asked for it.
    struct FilterFacts {
        std::uint32_t mark = 0;
        std::uint64_t cgroup_id = 0;
        bool port_locked = false;  // SOCK_BINDPORT_LOCK: the port was bound explicitly
    } filter_facts;
};

}  // namespace sstrace
