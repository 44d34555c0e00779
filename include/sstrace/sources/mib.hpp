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

// The counters of one such file and when the kernel summed them: the middle of the read() that
// made the file's text (CLOCK_MONOTONIC ns, the clock of the records' timestamps; 0 when the file
// could not be read). A stream compares its records with the kernel's counters by time: a record
// counts when it is at or after this moment, as the counter increment before it does not.
struct MibRead {
    std::map<std::string, std::int64_t> counters;
    std::uint64_t mono_ns = 0;
    // The read() itself (tens of microseconds): the kernel summed a given counter at a moment
    // within it, so a record of this span may fall on either side of the counter's value.
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = 0;
};
MibRead read_mib_counters_timed(const std::string& path);

}  // namespace sstrace
