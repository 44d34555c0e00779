// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/state.hpp"

#include "sstrace/core/program.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>

namespace sstrace {

namespace {

constexpr std::array<std::string_view, kStateCount> kNames = {
    "UNKNOWN", "ESTAB",  "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
    "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING",
};

struct NamedSet {
    std::string_view name;
    StateMask mask;
};

constexpr StateMask kConnected = kAllStates & ~(state_bit(kStateListen) | state_bit(kStateClose));

// What iproute2 6.1 accepts after `state`/`exclude` (ss.c's sstate_namel plus the groups).
constexpr std::array<NamedSet, 20> kStateNames = {{
    {"all", kAllStates},
    {"connected", kConnected},
    {"synchronized", kConnected & ~state_bit(kStateSynSent)},
    {"bucket", state_bit(kStateSynRecv) | state_bit(kStateTimeWait)},
    {"big", kAllStates & ~(state_bit(kStateSynRecv) | state_bit(kStateTimeWait))},
    {"unknown", state_bit(kStateUnknown)},
    {"established", state_bit(kStateEstablished)},
    {"syn-sent", state_bit(kStateSynSent)},
    {"syn-recv", state_bit(kStateSynRecv)},
    {"syn-rcv", state_bit(kStateSynRecv)},
    {"fin-wait-1", state_bit(kStateFinWait1)},
    {"fin-wait-2", state_bit(kStateFinWait2)},
    {"time-wait", state_bit(kStateTimeWait)},
    {"closed", state_bit(kStateClose)},
    {"close", state_bit(kStateClose)},
    {"unconnected", state_bit(kStateClose)},
    {"close-wait", state_bit(kStateCloseWait)},
    {"last-ack", state_bit(kStateLastAck)},
    {"listening", state_bit(kStateListen)},
    {"closing", state_bit(kStateClosing)},
}};

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::string_view state_name(int state)
{
    if (state < 0 || state >= kStateCount) {
        return "UNDEF";
    }
    return kNames[static_cast<std::size_t>(state)];
}

int state_count(StateMask mask) { return std::popcount(mask); }

std::optional<StateMask> parse_state_name(std::string_view word)
{
    for (const auto& n : kStateNames) {
        if (iequals(n.name, word)) {
            return n.mask;
        }
    }
    return std::nullopt;
}

std::optional<StateWordError> parse_state_words(std::span<const std::string> words,
                                                StateWords& out)
{
    std::size_t i = 0;
    while (i < words.size()) {
        const std::string& w = words[i];
        const bool is_state = w == "state";
        const bool is_exclude = w == "exclude" || w == "excl";
        if (!is_state && !is_exclude) {
            break;
        }
        if (i + 1 >= words.size()) {
            return StateWordError{"Command line is not complete. Try option \"help\"", 255};
        }
        const auto mask = parse_state_name(words[i + 1]);
        if (!mask) {
            return StateWordError{
                fmt::format("{}: wrong state name: {}", program_name(), words[i + 1]), 255};
        }
        // The first state word decides the starting set: nothing for `state`, everything for
        // `exclude`. Later words add to or remove from it.
        if (!out.mask) {
            out.mask = is_state ? StateMask{0} : kAllStates;
        }
        out.mask = is_state ? (*out.mask | *mask) : (*out.mask & ~*mask);
        i += 2;
    }
    out.consumed = i;
    return std::nullopt;
}

}  // namespace sstrace
