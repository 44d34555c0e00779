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
// enters one of them joins, one that leaves them goes. UDP and raw sockets are held from the
// listing (by cookie) until their destroy event; no event announces one created later, nor a
// change of its state (a connect()), so those are not held. A timewait socket goes at its end event
// (EventKind::TimeWaitEnd) when the stream follows those; otherwise, or if that event is lost,
// when its timer is due (TCP's fixed 60 s after the entry; for a listed one, the timer the dump
// showed). A tuple reused early (tcp_tw_reuse) enters again, which the table counts as a change.
#pragma once

#include "sstrace/abi/events.h"
#include "sstrace/core/state.hpp"
#include "sstrace/model/event.hpp"
#include "sstrace/model/socket.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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

    // At most `max_sockets` entries; what does not fit is counted, not held (see dropped()).
    // `members`: the states whose sockets the table holds.
    explicit LiveTable(std::size_t max_sockets, StateMask members = kAllStates);

    // The stream reports the ends of TIME-WAIT: a timewait socket then stays until its end
    // event, or until kEndSlackNs after its timer was due (counted in unseen_ends()).
    void follow_ends(bool on) { follow_ends_ = on; }
    static constexpr std::uint64_t kEndSlackNs = 10'000'000'000ull;

    // A socket a dump listed, in the namespace `netns_ino`, read at `now_ns` (CLOCK_MONOTONIC).
    void seed(const Socket& s, std::uint32_t netns_ino, std::uint64_t now_ns);
    // An event of the stream, in the order the ring buffer delivered them. The end of a
    // TIME-WAIT the table held gets its duration (ev.in_state_ns) when the table knows when it
    // began, and the owner its entry row named (a timewait socket has no storage for one);
    // the end of one it did not hold is Stale.
    Verdict apply(SocketEvent& ev);
    // Forgets the timewait sockets whose timer has fired by `now_ns`; returns how many.
    std::size_t expire(std::uint64_t now_ns);

    std::size_t size() const { return full_.size() + timewait_.size(); }
    // The UDP and raw sockets among them: a listing's, each until its destroy event (no event
    // tells of one created later before it is destroyed).
    std::size_t datagram_sockets() const;
    // Sockets the table could not hold (it was full): their later events count as new.
    std::uint64_t dropped() const { return dropped_; }
    // Timewait sockets forgotten by their timer while the stream followed the ends of
    // TIME-WAIT: each an end event that never came (a lost record).
    std::uint64_t unseen_ends() const { return unseen_ends_; }

    // Rows: each socket as the listing or its latest event showed it, in the kernel's record
    // layout (`encode` makes one of an event), for the tables a --watch capture starts each
    // file with. Off unless asked for (a row costs a record per socket).
    using RowEncoder = sstrace_event (*)(const SocketEvent&);
    void keep_rows(RowEncoder encode) { encode_ = encode; }
    // Every row, in the order the sockets joined the table (the listing's first), with when
    // the socket entered its state (0: unknown).
    void rows(const std::function<void(const sstrace_event&, std::uint64_t since_ns)>& visit) const;

    // TCP sockets per state (index: kernel state number).
    std::array<std::size_t, kStateCount> states() const;
    // The same, per network namespace (inode).
    std::map<std::uint32_t, std::array<std::size_t, kStateCount>> states_by_netns() const;

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
    struct Row {
        sstrace_event rec;
        std::uint64_t seq = 0;  // when it joined: rows() keeps that order
    };
    // A new row of `ev` (its socket in ev.new_state), last in the order; null when rows are
    // not kept.
    std::unique_ptr<Row> row_of(const SocketEvent& ev);
    struct Timewait {
        std::uint64_t since_ns = 0;  // when it entered TIME-WAIT (0: unknown)
        std::uint64_t due_ns = 0;    // when the table forgets it without an end event
        std::uint64_t listed_ns = 0; // when a dump read it (0: it entered in the stream)
        // the owner its entry row named (-p, -T: the full socket's), for its end row; a
        // listed one has none (a timewait socket has no process)
        std::vector<SocketOwner> owners;
        std::unique_ptr<Row> row;
    };
    void hold_timewait(const Tuple& t, std::uint64_t since_ns, std::uint64_t ends_ns,
                       std::uint64_t listed_ns, std::vector<SocketOwner> owners,
                       std::unique_ptr<Row> row);
    Verdict end_timewait(SocketEvent& ev);

    std::size_t max_;
    StateMask members_;
    struct Full {
        int state = 0;
        std::uint32_t netns = 0;
        bool tcp = true;  // false: a UDP or raw socket (known from a listing, left by its destroy)
        std::unique_ptr<Row> row;
    };
    std::unordered_map<std::uint64_t, Full> full_;  // cookie -> state and namespace
    // tuple -> when its timer fires; and the same ordered by that time, for expire() (an entry
    // whose tuple entered again since is skipped there)
    std::unordered_map<Tuple, Timewait, TupleHash> timewait_;
    struct Ending {
        std::uint64_t ns;
        Tuple tuple;
        bool operator>(const Ending& o) const { return ns > o.ns; }
    };
    std::priority_queue<Ending, std::vector<Ending>, std::greater<>> endings_;
    std::uint64_t dropped_ = 0;
    std::uint64_t unseen_ends_ = 0;
    bool follow_ends_ = false;
    RowEncoder encode_ = nullptr;
    std::uint64_t next_seq_ = 0;
};

}  // namespace sstrace
