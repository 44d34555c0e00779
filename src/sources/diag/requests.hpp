// SPDX-License-Identifier: GPL-2.0-only
// The sock_diag requests of a listing, as ss sends them (internal to src/sources).
#pragma once

#include "sstrace/core/state.hpp"
#include "sstrace/model/socket.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace sstrace::diag {

// What to ask for beyond the socket itself (ss: -m, -i, --tos, -e).
struct Extensions {
    bool memory = false;    // skmem (and the old meminfo)
    bool info = false;      // tcp_info, congestion control, vegas
    bool tos = false;       // tos and tclass
    bool extended = false;  // unix: vfs inode and pending connections
};

// One inet table (IPPROTO_*, MPTCP's 262 included) of one family.
std::vector<char> inet_dump(int family, int protocol, StateMask states, const Extensions& ext,
                            std::span<const std::uint8_t> bytecode);
std::vector<char> unix_dump(StateMask states, const Extensions& ext);
std::vector<char> packet_dump();
std::vector<char> netlink_dump();

// SOCK_DESTROY for an inet socket of the table `protocol` (ss -K), with an ack requested.
std::vector<char> inet_destroy(const Socket& s, int protocol);

}  // namespace sstrace::diag
