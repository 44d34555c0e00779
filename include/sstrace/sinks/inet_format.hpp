// SPDX-License-Identifier: GPL-2.0-only
// Address, port and service text exactly as ss prints them for inet sockets.
#pragma once

#include "sstrace/model/inet_addr.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sstrace {

// Address text without the port: `127.0.0.1`, `0.0.0.0`, `[::1]`, `[::ffff:127.0.0.1]`, `*`
// (an all-zero IPv6 address of a socket that is not v6only), `[::]` (v6only).
// With `resolve`, a host name from the resolver replaces the address (bracketed if it contains
// ':'), as `ss -r` does.
std::string format_inet_host(const InetAddr& addr, bool v6only, bool resolve);
// The same text, appended to `out` (a listing's hot path: no string of its own per address).
void append_inet_host(std::string& out, const InetAddr& addr, bool v6only, bool resolve);

// Interface name for an index (`lo`), `if<N>` when unknown, as ss's ll_index_to_name does.
std::string interface_name(unsigned ifindex);

// Port/service resolution with ss's rules: 0 is `*`; numeric with -n; ports inside the local
// ephemeral range are never looked up; otherwise getservbyport(proto), falling back to the
// number. Looked-up results are cached per (port, proto), so the resolver is consulted once per
// port; numbers are formatted on the spot (a listing of 100k sockets has tens of thousands of
// ephemeral ports, and a cache of them cost more than it saved).
class ServiceNames {
public:
    // `numeric`: ss -n. The ephemeral range is read from the current network namespace's
    // /proc/sys/net/ipv4/ip_local_port_range (1024-4999 if unreadable, as ss assumes).
    explicit ServiceNames(bool numeric);
    ServiceNames(bool numeric, unsigned ephemeral_low, unsigned ephemeral_high);

    // proto: "tcp", "udp", "raw", or empty for "any protocol" (what ss -E uses). The text is
    // valid until the next call.
    std::string_view port_text(unsigned port, std::string_view proto = {});

private:
    bool numeric_;
    unsigned eph_low_;
    unsigned eph_high_;
    std::unordered_map<std::uint64_t, std::string> cache_;
    std::array<char, 8> digits_{};
};

}  // namespace sstrace
