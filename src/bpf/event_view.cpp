// SPDX-License-Identifier: GPL-2.0-only
// SockView of an eBPF event record, for filtering `sstrace -E` in userspace as ss -E does.
#include "sstrace/abi/events.h"
#include "sstrace/event_view.hpp"

#include <algorithm>

namespace sstrace::filter {

SockView make_event_view(const ::sstrace_event& ev)
{
    SockView v;
    v.family = ev.family;
    std::copy(std::begin(ev.saddr), std::end(ev.saddr), v.local.begin());
    std::copy(std::begin(ev.daddr), std::end(ev.daddr), v.remote.begin());
    v.lport = ev.sport;
    v.rport = ev.dport;
    v.ifindex = ev.ifindex;
    v.mark = ev.mark;
    v.cgroup_id = ev.cgroup_id;
    v.port_locked = (ev.userlocks & 8) != 0;  // SOCK_BINDPORT_LOCK
    return v;
}

}  // namespace sstrace::filter
