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

}  // namespace sstrace
