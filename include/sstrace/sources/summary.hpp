// SPDX-License-Identifier: GPL-2.0-only
// The counters of ss -s, from /proc/net/sockstat, sockstat6 and snmp.
#pragma once

#include "sstrace/core/env.hpp"
#include "sstrace/model/summary.hpp"

namespace sstrace {

// Missing files or counters read as 0, as in ss.
SocketSummary read_summary(const Environment& env);

// The TCP sockets of the namespace as read_summary() counts them (inuse of both families plus
// TIME-WAIT), from sockstat and sockstat6 alone: what the listing's source rule measures, read
// without the rest of -s's counters.
long long read_tcp_socket_count(const Environment& env);

}  // namespace sstrace
