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
#pragma once

#include "sstrace/model/event.hpp"
#include "sstrace/model/socket.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>

namespace sstrace {

class LiveTable {
public:
    enum class Verdict {
        New,        // a change the table did not hold: apply it, and show it
        Duplicate,  // the table already holds its result (the dump read the socket after it)
        Stale,      // an earlier step of a chain the table is already past
    };

    // At most `max_sockets` entries; what does not fit is counted, not held (see dropped()).
    explicit LiveTable(std::size_t max_sockets);

    // A socket a dump listed, in the namespace `netns_ino`.
    void seed(const Socket& s, std::uint32_t netns_ino);
    // An event of the stream, in the order the ring buffer delivered them.
    Verdict apply(const SocketEvent& ev);

    std::size_t size() const { return full_.size() + timewait_.size(); }
    // Sockets the table could not hold (it was full): their later events count as new.
    std::uint64_t dropped() const { return dropped_; }

    // Full sockets per state (index: kernel state number), and timewait sockets.
    std::array<std::size_t, 12> states() const;

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
    bool room();

    std::size_t max_;
    std::unordered_map<std::uint64_t, int> full_;  // cookie -> state
    std::unordered_set<Tuple, TupleHash> timewait_;
    std::uint64_t dropped_ = 0;
};

}  // namespace sstrace
