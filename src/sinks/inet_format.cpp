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

// Decimal digits of `v` into the end of `buf`; returns where they start.
char* put_decimal(char* end, unsigned v)
{
    do {
        *--end = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return end;
}

// inet_ntop's text. IPv4 is formatted here: glibc formats it with sprintf, which was a tenth of
// a 100k-socket listing.
void append_numeric_host(std::string& out, const InetAddr& addr)
{
    if (addr.family == AF_INET) {
        for (int i = 0; i < 4; ++i) {
            char buf[3];
            const char* start = put_decimal(buf + sizeof(buf), addr.bytes[i]);
            if (i != 0) {
                out += '.';
            }
            out.append(start, static_cast<std::size_t>(buf + sizeof(buf) - start));
        }
        return;
    }
    char buf[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(addr.family, addr.bytes, buf, sizeof(buf)) == nullptr) {
        out += "???";
        return;
    }
    out += buf;
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
    std::string out;
    append_inet_host(out, addr, v6only, resolve);
    return out;
}

void append_inet_host(std::string& out, const InetAddr& addr, bool v6only, bool resolve)
{
    if (addr.family == AF_INET6 && addr.is_unspecified()) {
        out += v6only ? "[::]" : "*";
        return;
    }
    if (resolve && !addr.is_unspecified()) {
        if (auto name = resolve_host(addr)) {
            const bool bracket = name->find(':') != std::string::npos;
            if (bracket) {
                out += '[';
            }
            out += *name;
            if (bracket) {
                out += ']';
            }
            return;
        }
    }
    if (addr.family == AF_INET) {
        append_numeric_host(out, addr);
        return;
    }
    out += '[';
    append_numeric_host(out, addr);
    out += ']';
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

std::string_view ServiceNames::port_text(unsigned port, std::string_view proto)
{
    if (port == 0) {
        return "*";
    }
    if (numeric_ || (port >= eph_low_ && port <= eph_high_)) {
        char* end = digits_.data() + digits_.size();
        const char* start = put_decimal(end, port);
        return {start, static_cast<std::size_t>(end - start)};
    }
    std::uint64_t proto_key = 0;
    for (char c : proto) {
        proto_key = proto_key * 131 + static_cast<unsigned char>(c);
    }
    const std::uint64_t key = (proto_key << 16) | (port & 0xffff);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
        return it->second;
    }
    const std::string proto_str(proto);
    const servent* se = getservbyport(static_cast<int>(htons(static_cast<std::uint16_t>(port))),
                                      proto.empty() ? nullptr : proto_str.c_str());
    std::string text = se != nullptr ? se->s_name : std::to_string(port);
    return cache_.emplace(key, std::move(text)).first->second;
}

}  // namespace sstrace
