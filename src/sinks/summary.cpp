// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/summary.hpp"

#include <fmt/format.h>

namespace sstrace {

void print_summary(const SocketSummary& s, std::FILE* out)
{
    const long long tcp_closed = s.tcp_alloc - (s.tcp.v4 + s.tcp.v6 - s.tcp_timewait);
    fmt::print(out, "Total: {}\n", s.sockets_used);
    fmt::print(out, "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})\n\n",
               s.tcp_alloc + s.tcp_timewait, s.tcp_established, tcp_closed, s.tcp_orphaned,
               s.tcp_timewait);
    fmt::print(out, "Transport Total     IP        IPv6\n");
    auto row = [&](const char* name, const SocketSummary::InUse& n) {
        fmt::print(out, "{}\t  {:<9} {:<9} {:<9}\n", name, n.v4 + n.v6, n.v4, n.v6);
    };
    row("RAW", s.raw);
    row("UDP", s.udp);
    row("TCP", s.tcp);
    row("INET", {s.raw.v4 + s.udp.v4 + s.tcp.v4, s.raw.v6 + s.udp.v6 + s.tcp.v6});
    row("FRAG", s.frag);
    fmt::print(out, "\n");
}

}  // namespace sstrace
