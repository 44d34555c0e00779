// SPDX-License-Identifier: GPL-2.0-only
// The live socket table: the sockets a dump listed, kept current by the events that follow.
// A full socket is known by its cookie (the dump's sk: and the BPF programs' cookie agree); a
// timewait socket by its tuple and namespace (it carries its full socket's cookie only if that
// one had a cookie when it entered TIME-WAIT, which a socket opened before the stream may not).
//
// Seeded from a dump taken after the stream started, it tells every queued event apart: an
// event that the dump already reflects (a duplicate), one from before the dump read the socket
// (stale), and a change the listing did not show (new). No gap and no duplicate at the seam,
// whatever the order in which the kernel delivered the two.
//
// The table holds the sockets of a selection of states (a watch's state words): a socket that
// enters one of them joins, one that leaves them goes. The end of a TIME-WAIT is not traced: a
// timewait socket is forgotten when its timer would have fired (TCP's fixed 60 s after the
// entry; for a listed one, the timer the dump showed). A tuple reused earlier (tcp_tw_reuse)
// enters again, which the table counts as a change.
#pragma once

#include "sstrace/core/state.hpp"
#include "sstrace/model/event.hpp"
#include "sstrace/model/socket.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace sstrace {

class LiveTable {
public:
    enum class Verdict {
        New,        // a change the table did not hold: apply it, and show it
        Duplicate,  // the table already holds its result (the dump read the socket after it)
        Stale,      // an earlier step of a chain the table is already past
    };

    // TCP's TIME-WAIT length (TCP_TIMEWAIT_LEN: not a sysctl).
    static constexpr std::uint64_t kTimeWaitNs = 60'000'000'000ull;
    // How far the end of a listed timewait socket's timer may be from 60 s after an entry of
    // the same tuple for the two to be one entry (the dump reports it in milliseconds, read
    // some time after the kernel wrote it).
    static constexpr std::uint64_t kSameEntryNs = 500'000'000ull;

    // At most `max_sockets` entries; what does not fit is counted, not held (see dropped()).
    // `members`: the states whose sockets the table holds.
    explicit LiveTable(std::size_t max_sockets, StateMask members = kAllStates);

    // A socket a dump listed, in the namespace `netns_ino`, read at `now_ns` (CLOCK_MONOTONIC).
    void seed(const Socket& s, std::uint32_t netns_ino, std::uint64_t now_ns);
    // An event of the stream, in the order the ring buffer delivered them.
    Verdict apply(const SocketEvent& ev);
    // Forgets the timewait sockets whose timer has fired by `now_ns`; returns how many.
    std::size_t expire(std::uint64_t now_ns);

    std::size_t size() const { return full_.size() + timewait_.size(); }
    // Sockets the table could not hold (it was full): their later events count as new.
    std::uint64_t dropped() const { return dropped_; }

    // Sockets per state (index: kernel state number).
    std::array<std::size_t, kStateCount> states() const;

private:
    struct Tuple {
        std::uint32_t netns = 0;
        int family = 0;
        std::array<std::uint8_t, 16> local{};
        std::array<std::uint8_t, 16> peer{};
        std::uint16_t lport = 0;
        std::uint16_t pport = 0;
        bool operator==(const Tuple&) const = default;
    };
    struct TupleHash {
        std::size_t operator()(const Tuple& t) const;
    };
    static Tuple tuple_of(const Socket& s, std::uint32_t netns);
    bool member(int state) const { return state >= 0 && (members_ & state_bit(state)) != 0; }
    bool room();
    void hold_timewait(const Tuple& t, std::uint64_t ends_ns);

    std::size_t max_;
    StateMask members_;
    std::unordered_map<std::uint64_t, int> full_;  // cookie -> state
    // tuple -> when its timer fires; and the same ordered by that time, for expire() (an entry
    // whose tuple entered again since is skipped there)
    std::unordered_map<Tuple, std::uint64_t, TupleHash> timewait_;
    struct Ending {
        std::uint64_t ns;
        Tuple tuple;
        bool operator>(const Ending& o) const { return ns > o.ns; }
    };
    std::priority_queue<Ending, std::vector<Ending>, std::greater<>> endings_;
    std::uint64_t dropped_ = 0;
};

}  // namespace sstrace
