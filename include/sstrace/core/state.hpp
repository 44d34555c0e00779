// SPDX-License-Identifier: GPL-2.0-only
// Socket states as ss names them, and the state sets that `state`/`exclude` words select.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace {

// ss numbers states as the kernel does (TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11); bit n of a
// StateMask selects state n. Bit 0 is ss's UNKNOWN.
using StateMask = std::uint32_t;

enum TcpStateNum : int {
    kStateUnknown = 0,
    kStateEstablished = 1,
    kStateSynSent = 2,
    kStateSynRecv = 3,
    kStateFinWait1 = 4,
    kStateFinWait2 = 5,
    kStateTimeWait = 6,
    kStateClose = 7,
    kStateCloseWait = 8,
    kStateLastAck = 9,
    kStateListen = 10,
    kStateClosing = 11,
    kStateCount = 12,
};

constexpr StateMask state_bit(int s) { return StateMask{1} << s; }

// SS_ALL of iproute2 6.1: states 0..11.
constexpr StateMask kAllStates = (StateMask{1} << kStateCount) - 1;
// The default for TCP-like tables: everything but LISTEN, CLOSE, TIME-WAIT and SYN-RECV.
constexpr StateMask kConnDefault = kAllStates & ~(state_bit(kStateListen) | state_bit(kStateClose) |
                                                  state_bit(kStateTimeWait) |
                                                  state_bit(kStateSynRecv));

// The state as ss prints it: ESTAB, SYN-SENT, ..., UNCONN for CLOSE, UNKNOWN for 0.
std::string_view state_name(int state);

// Number of states selected by a mask.
int state_count(StateMask mask);

// A state name or group (`established`, `time-wait`, `connected`, `bucket`, ...), compared
// case-insensitively as ss does. nullopt for a name ss rejects.
std::optional<StateMask> parse_state_name(std::string_view word);

// The leading `state X` / `exclude X` / `excl X` words of a FILTER, applied as ss applies them.
struct StateWords {
    std::optional<StateMask> mask;  // set when at least one state/exclude word was given
    std::size_t consumed = 0;       // number of argv words used up
};

// Errors carry ss's own message and exit code.
struct StateWordError {
    std::string message;
    int exit_code;
};

// Parses state/exclude words at the front of `words`. Returns the selection, or the error ss
// gives: `ss: wrong state name: X` (255), or a missing argument (255).
std::optional<StateWordError> parse_state_words(std::span<const std::string> words,
                                                StateWords& out);

}  // namespace sstrace
