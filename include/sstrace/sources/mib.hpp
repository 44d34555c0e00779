// SPDX-License-Identifier: GPL-2.0-only
// The kernel's per-namespace protocol counters (/proc/net/snmp, /proc/net/netstat).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace sstrace {

// Reads a file of line pairs "Tcp: Name1 Name2 ..." / "Tcp: 1 2 ..." and names each counter as
// nstat does: the prefix without its ':' followed by the name (TcpActiveOpens, TcpExtTW). A
// missing file gives an empty map.
std::map<std::string, std::int64_t> read_mib_counters(const std::string& path);

// The counters of one such file, and the span of the read() that made its text (CLOCK_MONOTONIC
// ns, the clock of the records' timestamps; both 0 when the file could not be read). The kernel
// summed each counter at some moment within it (the read takes tens of microseconds).
struct MibRead {
    std::map<std::string, std::int64_t> counters;
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = 0;

    bool read() const { return end_ns != 0; }
    // The moment that stands for the read: its middle.
    std::uint64_t mid_ns() const { return begin_ns + (end_ns - begin_ns) / 2; }
};
MibRead read_mib_counters_timed(const std::string& path);

}  // namespace sstrace
