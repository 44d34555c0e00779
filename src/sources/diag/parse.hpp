// SPDX-License-Identifier: GPL-2.0-only
// sock_diag answers -> Socket, one parser per family (internal to src/sources).
#pragma once

#include "diag_socket.hpp"
#include "sstrace/model/socket.hpp"

#include <linux/netlink.h>

#include <algorithm>
#include <cstring>

namespace sstrace::diag {

// sock_diag's cookie: two 32-bit halves, low first.
inline std::uint64_t cookie_of(const std::uint32_t cookie[2])
{
    return static_cast<std::uint64_t>(cookie[0]) | (static_cast<std::uint64_t>(cookie[1]) << 32);
}

// The fixed header of a `Msg` answer, with its attributes parsed into `attrs`; nullptr when the
// message is too short to hold it.
template <typename Msg>
const Msg* header_of(const nlmsghdr* h, AttrTable& attrs)
{
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(Msg))) {
        return nullptr;
    }
    attrs.parse(h, sizeof(Msg));
    return static_cast<const Msg*>(NLMSG_DATA(h));
}

// A SK_MEMINFO array attribute (skmem:); nullopt when absent.
inline std::optional<SkMem> get_skmem(const AttrTable& attrs, int type)
{
    if (!attrs.has(type)) {
        return std::nullopt;
    }
    SkMem m;
    m.count = std::min(attrs.len(type) / sizeof(std::uint32_t), m.values.size());
    std::memcpy(m.values.data(), attrs.data(type), m.count * sizeof(std::uint32_t));
    return m;
}

// Each fills `out` (which starts empty) from one answer message and returns false when the
// message is too short to hold its family's header, or (packet) carries no memory figures, which
// ss skips. `table_protocol` is the IPPROTO_* the inet dump asked for; the message's own
// INET_DIAG_PROTOCOL wins when present.
bool parse_inet(const nlmsghdr* h, int table_protocol, Socket& out);
bool parse_unix(const nlmsghdr* h, Socket& out);
bool parse_packet(const nlmsghdr* h, Socket& out);
bool parse_netlink(const nlmsghdr* h, Socket& out);

}  // namespace sstrace::diag
