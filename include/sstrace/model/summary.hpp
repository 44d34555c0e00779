// SPDX-License-Identifier: GPL-2.0-only
// The socket counters ss -s prints.
#pragma once

namespace sstrace {

struct SocketSummary {
    struct InUse {
        long long v4 = 0;
        long long v6 = 0;
    };
    long long sockets_used = 0;
    long long tcp_alloc = 0;
    long long tcp_timewait = 0;
    long long tcp_orphaned = 0;
    long long tcp_established = 0;  // the SNMP CurrEstab counter
    InUse raw;
    InUse udp;
    InUse tcp;
    InUse frag;
};

}  // namespace sstrace
