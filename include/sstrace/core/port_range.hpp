// SPDX-License-Identifier: GPL-2.0-only
// The local (ephemeral) port range of the current network namespace.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace sstrace {

// The two numbers of ip_local_port_range; nullopt when unreadable or not a range.
std::optional<std::pair<unsigned, unsigned>> read_ephemeral_range(
    const std::string& path = "/proc/sys/net/ipv4/ip_local_port_range");

}  // namespace sstrace
