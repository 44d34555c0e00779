// SPDX-License-Identifier: GPL-2.0-only
// The Netid column: ss's name for the table a socket belongs to.
#pragma once

#include <string_view>

namespace sstrace {

// tcp, udp, raw (protocol 0), mptcp, sctp, dccp, icmp6, else ???.
std::string_view inet_netid(int protocol);

// u_str, u_dgr, u_seq by socket type, else ???.
std::string_view unix_netid(int type);

// p_raw for SOCK_RAW, else p_dgr.
std::string_view packet_netid(int type);

inline constexpr std::string_view kNetlinkNetid = "nl";

}  // namespace sstrace
