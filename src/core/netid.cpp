// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/netid.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace sstrace {

std::string_view inet_netid(int protocol)
{
    switch (protocol) {
    case 0:
        return "raw";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_MPTCP:
        return "mptcp";
    case IPPROTO_SCTP:
        return "sctp";
    case IPPROTO_DCCP:
        return "dccp";
    case IPPROTO_ICMPV6:
        return "icmp6";
    default:
        return "???";
    }
}

std::string_view unix_netid(int type)
{
    switch (type) {
    case SOCK_STREAM:
        return "u_str";
    case SOCK_SEQPACKET:
        return "u_seq";
    case SOCK_DGRAM:
        return "u_dgr";
    default:
        return "???";
    }
}

std::string_view packet_netid(int type) { return type == SOCK_RAW ? "p_raw" : "p_dgr"; }

}  // namespace sstrace
