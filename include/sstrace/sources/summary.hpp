// SPDX-License-Identifier: GPL-2.0-only
// The counters of ss -s, from /proc/net/sockstat, sockstat6 and snmp.
#pragma once

#include "sstrace/core/env.hpp"
#include "sstrace/model/summary.hpp"

namespace sstrace {

// Missing files or counters read as 0, as in ss.
SocketSummary read_summary(const Environment& env);

}  // namespace sstrace
