// SPDX-License-Identifier: GPL-2.0-only
// Typed inet addresses and endpoints.
#pragma once

#include <cstdint>

namespace sstrace {

// An inet address as the kernel reports it: network-order bytes, IPv4 in bytes 0-3 and the rest
// zero.
struct InetAddr {
    int family = 0;  // AF_INET or AF_INET6
    std::uint8_t bytes[16] = {};

    bool is_unspecified() const;
    bool operator==(const InetAddr&) const = default;
};

// An address and a port (host order). For raw sockets the port is the IP protocol number.
struct Endpoint {
    InetAddr addr;
    std::uint16_t port = 0;
    bool operator==(const Endpoint&) const = default;
};

}  // namespace sstrace
