// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/inet_format.hpp"

#include "sstrace/core/port_range.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace sstrace {

namespace {

std::string numeric_host(const InetAddr& addr)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(addr.family, addr.bytes, buf, sizeof(buf)) == nullptr) {
        return "???";
    }
    return buf;
}

std::optional<std::string> resolve_host(const InetAddr& addr)
{
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (addr.family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, addr.bytes, 4);
        len = sizeof(sockaddr_in);
    } else if (std::all_of(addr.bytes, addr.bytes + 10, [](std::uint8_t b) { return b == 0; }) &&
               addr.bytes[10] == 0xff && addr.bytes[11] == 0xff) {
        // v4-mapped: the resolver is asked about the IPv4 address, as ss does.
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, addr.bytes + 12, 4);
        len = sizeof(sockaddr_in);
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, addr.bytes, 16);
        len = sizeof(sockaddr_in6);
    }
    char host[NI_MAXHOST] = {};
    if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof(host), nullptr, 0,
                    NI_NAMEREQD) != 0) {
        return std::nullopt;
    }
    return std::string(host);
}

}  // namespace

std::string format_inet_host(const InetAddr& addr, bool v6only, bool resolve)
{
    if (addr.family == AF_INET6 && addr.is_unspecified()) {
        return v6only ? "[::]" : "*";
    }
    if (resolve && !addr.is_unspecified()) {
        if (auto name = resolve_host(addr)) {
            return name->find(':') == std::string::npos ? *name : "[" + *name + "]";
        }
    }
    if (addr.family == AF_INET) {
        return numeric_host(addr);
    }
    return "[" + numeric_host(addr) + "]";
}

std::string interface_name(unsigned ifindex)
{
    char buf[IF_NAMESIZE] = {};
    if (if_indextoname(ifindex, buf) != nullptr) {
        return buf;
    }
    return fmt::format("if{}", ifindex);
}

ServiceNames::ServiceNames(bool numeric)
    : ServiceNames(numeric, 1024, 4999)
{
    if (auto r = read_ephemeral_range()) {
        eph_low_ = r->first;
        eph_high_ = r->second;
    }
}

ServiceNames::ServiceNames(bool numeric, unsigned ephemeral_low, unsigned ephemeral_high)
    : numeric_(numeric), eph_low_(ephemeral_low), eph_high_(ephemeral_high)
{
}

const std::string& ServiceNames::port_text(unsigned port, std::string_view proto)
{
    std::uint64_t proto_key = 0;
    for (char c : proto) {
        proto_key = proto_key * 131 + static_cast<unsigned char>(c);
    }
    const std::uint64_t key = (proto_key << 16) | (port & 0xffff);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
        return it->second;
    }
    std::string text;
    if (port == 0) {
        text = "*";
    } else if (numeric_ || (port >= eph_low_ && port <= eph_high_)) {
        text = std::to_string(port);
    } else {
        const std::string proto_str(proto);
        const servent* se = getservbyport(static_cast<int>(htons(static_cast<std::uint16_t>(port))),
                                          proto.empty() ? nullptr : proto_str.c_str());
        text = se != nullptr ? se->s_name : std::to_string(port);
    }
    return cache_.emplace(key, std::move(text)).first->second;
}

}  // namespace sstrace
