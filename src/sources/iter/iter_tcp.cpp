// SPDX-License-Identifier: GPL-2.0-only
#include "iter_tcp.hpp"

#include <netinet/in.h>

#include <cstring>
#include <optional>

namespace sstrace::iter {

void socket_of(const sstrace_iter_tcp& r, Socket& out)
{
    out.origin = Origin::BpfIterator;
    out.cookie = r.cookie;
    out.family = r.family;
    out.protocol = IPPROTO_TCP;
    out.state = r.state;
    out.rqueue = r.rqueue;
    out.wqueue = r.wqueue;
    out.uid = r.uid;
    out.inode = r.inode;
    out.ifindex = r.ifindex;
    out.mark = r.mark;
    out.timer = SocketTimer{};
    out.cgroup_id = (r.flags & SSTRACE_ITF_CGROUP) != 0 ? std::optional(r.cgroup_id) : std::nullopt;
    out.shutdown = (r.flags & SSTRACE_ITF_SHUTDOWN) != 0 ? std::optional(r.shutdown) : std::nullopt;

    Socket::Inet& inet = out.inet;
    inet.local.addr.family = inet.peer.addr.family = r.family;
    std::memcpy(inet.local.addr.bytes, r.saddr, sizeof(r.saddr));
    std::memcpy(inet.peer.addr.bytes, r.daddr, sizeof(r.daddr));
    inet.local.port = r.sport;
    inet.peer.port = r.dport;
    inet.v6only = (r.flags & SSTRACE_ITF_V6ONLY_SET) != 0
                      ? std::optional((r.flags & SSTRACE_ITF_V6ONLY) != 0)
                      : std::nullopt;
}

}  // namespace sstrace::iter
