// SPDX-License-Identifier: GPL-2.0-only
// What the filter language sees of a listed socket.
#include "sstrace/filter/filter.hpp"

#include <sys/socket.h>

#include <algorithm>

namespace sstrace::filter {

SockView view_of(const Socket& s)
{
    SockView v;
    v.family = s.family;
    switch (s.family) {
    case AF_INET:
    case AF_INET6:
        std::copy(std::begin(s.inet.local.addr.bytes), std::end(s.inet.local.addr.bytes),
                  v.local.begin());
        std::copy(std::begin(s.inet.peer.addr.bytes), std::end(s.inet.peer.addr.bytes),
                  v.remote.begin());
        v.lport = s.inet.local.port;
        v.rport = s.inet.peer.port;
        v.ifindex = s.ifindex;
        v.mark = s.mark;
        v.cgroup_id = s.cgroup_id.value_or(0);
        break;
    case AF_UNIX:
        v.lport = static_cast<std::int64_t>(s.inode);
        v.rport = s.unix_domain.peer_inode;
        if (!s.unix_domain.name.empty()) {
            v.unix_path = s.unix_domain.name;
        }
        break;
    case AF_PACKET:
        v.proto = static_cast<std::uint32_t>(s.protocol);
        v.lport = s.ifindex;
        v.ifindex = s.ifindex;
        break;
    case AF_NETLINK:
        v.proto = static_cast<std::uint32_t>(s.protocol);
        v.lport = s.netlink.portid;  // negative: not bound yet
        v.rport = s.netlink.dst_portid;
        break;
    default:
        break;
    }
    return v;
}

SockView view_of(const SocketEvent& e)
{
    SockView v = view_of(e.socket);
    v.mark = e.filter_facts.mark;
    v.cgroup_id = e.filter_facts.cgroup_id;
    v.port_locked = e.filter_facts.port_locked;
    return v;
}

}  // namespace sstrace::filter
