// SPDX-License-Identifier: GPL-2.0-only
// Operands of the filter language: hosts and ports, devices, marks, cgroups (the system
// resolvers behind them are in resolvers.cpp). Behaviour follows ss 6.1 as recorded in
// ss-behaviour.md 3.4.
#include "internal.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <strings.h>

namespace sstrace::filter {

namespace {

// strtol(base 0) into an int: whole string, no overflow (iproute2's get_integer rules).
bool to_int(const std::string& s, int& out)
{
    if (s.empty()) {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 0);
    if (end == s.c_str() || *end != '\0' || errno == ERANGE || v > INT_MAX || v < INT_MIN) {
        return false;
    }
    out = static_cast<int>(v);
    return true;
}

// strtoul(base 0) with an upper bound; a leading '-' wraps and fails the bound as in C.
bool to_unsigned(const std::string& s, unsigned long max, unsigned long& out)
{
    if (s.empty()) {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    const unsigned long v = std::strtoul(s.c_str(), &end, 0);
    if (end == s.c_str() || *end != '\0' || errno == ERANGE || v > max) {
        return false;
    }
    out = v;
    return true;
}

// Dotted IPv4 with C number syntax per part; missing parts are zero on the right
// (`127.1` is 127.1.0.0).
bool parse_ipv4(const std::string& s, std::array<std::uint8_t, 16>& bytes)
{
    const char* cp = s.c_str();
    for (int i = 0; i < 4; ++i) {
        char* end = nullptr;
        errno = 0;
        const unsigned long n = std::strtoul(cp, &end, 0);
        if (n > 255 || end == cp) {
            return false;
        }
        bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n);
        if (*end == '\0') {
            return true;
        }
        if (i == 3 || *end != '.') {
            return false;
        }
        cp = end + 1;
    }
    return true;
}

int af_bits(int family)
{
    return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

// A netmask after '/': a number, or a dotted IPv4 mask with contiguous bits.
bool parse_netmask(const std::string& s, unsigned& plen)
{
    unsigned long v = 0;
    if (to_unsigned(s, UINT_MAX, v)) {
        plen = static_cast<unsigned>(v);
        return true;
    }
    if (s.find(':') != std::string::npos) {
        return false;
    }
    std::array<std::uint8_t, 16> b{};
    if (!parse_ipv4(s, b)) {
        return false;
    }
    const std::uint32_t m = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    const std::uint32_t inv = ~m;
    if ((inv & (inv + 1)) != 0) {  // not of the form 1...10...0
        return false;
    }
    unsigned bits = 0;
    for (std::uint32_t x = m; x != 0; x <<= 1) {
        ++bits;
    }
    plen = bits;
    return true;
}

// ADDR[/PLEN] with `default`, `any`, `all` meaning "any address". Sets addr (family may stay
// 0 for the keywords without a family).
bool parse_prefix(const std::string& text, int fam, HostAddr& addr)
{
    const std::size_t slash = text.find('/');
    const std::string base = text.substr(0, slash);
    addr = HostAddr{};
    bool any = false;
    if (base == "default" || base == "all" || base == "any") {
        addr.family = fam;
        any = true;
    } else if (base.find(':') != std::string::npos) {
        addr.family = AF_INET6;
        if (fam != AF_UNSPEC && fam != AF_INET6) {
            return false;
        }
        if (inet_pton(AF_INET6, base.c_str(), addr.bytes.data()) != 1) {
            return false;
        }
    } else {
        addr.family = AF_INET;
        if (fam != AF_UNSPEC && fam != AF_INET) {
            return false;
        }
        if (!parse_ipv4(base, addr.bytes)) {
            return false;
        }
    }
    int bits = af_bits(addr.family);
    if (slash != std::string::npos) {
        unsigned plen = 0;
        if (any || !parse_netmask(text.substr(slash + 1), plen) ||
            plen > static_cast<unsigned>(bits)) {
            return false;
        }
        bits = static_cast<int>(plen);
    } else if (any) {
        bits = 0;
    }
    addr.bits = bits;
    return true;
}

struct NamedNumber {
    const char* name;
    std::uint32_t value;
};

// Link-layer protocol names (as `ss -0` prints them), from <linux/if_ether.h>.
constexpr NamedNumber kLinkProtos[] = {
    {"loop", 0x0060},     {"pup", 0x0200},      {"pupat", 0x0201},    {"ip", 0x0800},
    {"x25", 0x0805},      {"arp", 0x0806},      {"bpq", 0x08ff},      {"ieeepup", 0x0a00},
    {"ieeepupat", 0x0a01}, {"dec", 0x6000},     {"dna_dl", 0x6001},   {"dna_rc", 0x6002},
    {"dna_rt", 0x6003},   {"lat", 0x6004},      {"diag", 0x6005},     {"cust", 0x6006},
    {"sca", 0x6007},      {"teb", 0x6558},      {"rarp", 0x8035},     {"atalk", 0x809b},
    {"aarp", 0x80f3},     {"8021q", 0x8100},    {"ipx", 0x8137},      {"ipv6", 0x86dd},
    {"ppp_disc", 0x8863}, {"ppp_ses", 0x8864},  {"mpls_uc", 0x8847},  {"mpls_mc", 0x8848},
    {"atmmpoa", 0x884c},  {"atmfate", 0x8884},  {"aoe", 0x88a2},      {"8021ad", 0x88a8},
    {"tipc", 0x88ca},     {"lldp", 0x88cc},     {"802_3", 0x0001},    {"ax25", 0x0002},
    {"all", 0x0003},      {"802_2", 0x0004},    {"snap", 0x0005},     {"ddcmp", 0x0006},
    {"wan_ppp", 0x0007},  {"ppp_mp", 0x0008},   {"localtalk", 0x0009}, {"can", 0x000c},
    {"ppptalk", 0x0010},  {"tr_802_2", 0x0011}, {"mobitex", 0x0015},  {"control", 0x0016},
    {"irda", 0x0017},     {"econet", 0x0018},
};

// Netlink protocol names (as `ss -f netlink` prints them).
constexpr NamedNumber kNetlinkProtos[] = {
    {"rtnl", 0},        {"unused", 1},     {"usersock", 2},   {"fw", 3},
    {"tcpdiag", 4},     {"nflog", 5},      {"xfrm", 6},       {"selinux", 7},
    {"iscsi", 8},       {"audit", 9},      {"fiblookup", 10}, {"connector", 11},
    {"nft", 12},        {"ip6fw", 13},     {"dec-rt", 14},    {"uevent", 15},
    {"genl", 16},       {"scsi-trans", 18}, {"ecryptfs", 19}, {"rdma", 20},
    {"crypto", 21},     {"smc", 22},
};

bool link_proto(const std::string& s, std::uint32_t& out)
{
    for (const auto& p : kLinkProtos) {
        if (strcasecmp(p.name, s.c_str()) == 0) {
            out = p.value;
            return true;
        }
    }
    unsigned long v = 0;
    if (!to_unsigned(s, 0xffff, v)) {
        return false;
    }
    out = static_cast<std::uint32_t>(v);
    return true;
}

bool netlink_proto(const std::string& s, std::uint32_t& out)
{
    for (const auto& p : kNetlinkProtos) {
        if (s == p.name) {
            out = p.value;
            return true;
        }
    }
    unsigned long v = 0;
    if (!to_unsigned(s, 0xff, v)) {  // protocol numbers are 0-255
        return false;
    }
    out = static_cast<std::uint32_t>(v);
    return true;
}

bool starts_with(const std::string& s, std::string_view p)
{
    return s.compare(0, p.size(), p) == 0;
}

// A port word after sport/dport may start with one ':'.
std::string strip_colon(const std::string& s)
{
    return starts_with(s, ":") ? s.substr(1) : s;
}

// Splits `PROTO:PORT` (link, netlink): removes the port part from `s` and returns it, or
// nullopt when there is none. After sport/dport the whole operand is the port.
std::optional<std::string> take_port_part(std::string& s, bool is_port)
{
    if (is_port) {
        std::string port = strip_colon(s);
        s.clear();
        return port;
    }
    const std::size_t colon = s.find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    std::string port = s.substr(colon + 1);
    s.erase(colon);
    return port;
}

}  // namespace

namespace detail {

std::optional<HostCond> parse_hostcond(const std::string& tok, bool is_port, int preferred_family,
                                       const ParseOptions& opts, std::string& err,
                                       std::optional<int>& family_reset)
{
    HostCond h;
    int fam = preferred_family;
    std::string s = tok;

    // an explicit family prefix overrides the family in force
    static constexpr struct {
        std::string_view prefix;
        int family;
    } kPrefixes[] = {
        {"unix:", AF_UNIX},       {"link:", AF_PACKET}, {"netlink:", AF_NETLINK},
        {"vsock:", AF_VSOCK},     {"inet:", AF_INET},   {"inet6:", AF_INET6},
    };
    for (const auto& p : kPrefixes) {
        if (starts_with(s, p.prefix)) {
            s.erase(0, p.prefix.size());
            fam = p.family;
            break;
        }
    }

    if (fam == AF_UNIX) {
        h.family = AF_UNIX;
        h.pattern = s;
        h.bits = static_cast<int>(std::min<std::size_t>(s.size(), 1u << 20) * 8);
        family_reset = AF_UNIX;
        return h;
    }

    if (fam == AF_PACKET) {
        h.family = AF_PACKET;
        // after sport/dport the whole operand is the port (an ifindex or interface name)
        if (const auto port = take_port_part(s, is_port)) {
            if (!port->empty() && *port != "*") {
                int v = 0;
                if (to_int(*port, v)) {
                    h.port = v;
                } else {
                    const unsigned idx = opts.resolvers.ifindex ? opts.resolvers.ifindex(*port) : 0;
                    if (idx == 0 || idx > INT_MAX) {
                        return std::nullopt;
                    }
                    h.port = idx;
                }
            }
        }
        if (!s.empty() && s != "*") {
            h.bits = 32;
            if (!link_proto(s, h.number)) {
                return std::nullopt;
            }
        }
        family_reset = AF_PACKET;
        return h;
    }

    if (fam == AF_NETLINK) {
        h.family = AF_NETLINK;
        // after sport/dport the whole operand is the port id (or `kernel`)
        if (const auto port = take_port_part(s, is_port)) {
            if (!port->empty() && *port != "*") {
                int v = 0;
                if (to_int(*port, v)) {
                    h.port = v;
                } else if (*port == "kernel") {
                    h.port = 0;
                } else {
                    return std::nullopt;
                }
            }
        }
        if (!s.empty() && s != "*") {
            h.bits = 32;
            if (!netlink_proto(s, h.number)) {
                return std::nullopt;
            }
        }
        family_reset = AF_NETLINK;
        return h;
    }

    if (fam == AF_VSOCK) {
        h.family = AF_VSOCK;
        std::optional<std::string> port;
        if (is_port) {
            port = strip_colon(s);
        } else if (const std::size_t colon = s.find(':'); colon != std::string::npos) {
            port = s.substr(colon + 1);
            s.erase(colon);
        }
        unsigned long v = 0;
        if (port && *port != "*") {
            if (!to_unsigned(*port, 0xffffffffUL, v)) {
                return std::nullopt;
            }
            // ss stores the u32 in its int port field
            h.port = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
        }
        if (!is_port && !s.empty() && s != "*") {
            h.bits = 32;
            if (!to_unsigned(s, 0xffffffffUL, v)) {
                return std::nullopt;
            }
            h.number = static_cast<std::uint32_t>(v);
        }
        family_reset = AF_VSOCK;
        return h;
    }

    std::string addr = s;
    std::optional<std::string> port;
    if (!s.empty() && s[0] == '[') {
        const std::size_t close = s.find(']', 1);
        if (close == std::string::npos) {
            return std::nullopt;  // only "Cannot parse dst/src address."
        }
        addr = s.substr(1, close - 1);
        port = s.substr(close + 1);
    } else if (!s.empty() && s[0] == '*') {
        port = s.substr(1);
    } else {
        const std::size_t slash = s.find('/');
        const std::size_t colon = s.rfind(':');
        if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
            port = s.substr(colon);
            addr = s.substr(0, colon);
        }
    }
    if (is_port) {
        // after sport/dport the whole operand (inside brackets, if any) is the port
        port = (!s.empty() && s[0] == '[') ? addr : s;
    }

    if (port && !port->empty()) {
        std::string p = *port;
        if (p[0] == ':') {
            p.erase(0, 1);
        }
        if (!p.empty() && p[0] != '*') {
            int v = 0;
            if (to_int(p, v)) {
                h.port = v;
            } else {
                std::optional<int> udp;
                std::optional<int> tcp;
                if (opts.resolvers.service) {
                    if (opts.udp) {
                        udp = opts.resolvers.service(p, "udp");
                    }
                    if (opts.tcp) {
                        tcp = opts.resolvers.service(p, "tcp");
                    }
                }
                if (udp && tcp && *udp != *tcp) {
                    err += fmt::format("Error: ambiguous port \"{}\".\n", p);
                    return std::nullopt;
                }
                const std::optional<int> found = udp ? udp : tcp;
                if (!found || *found <= 0) {
                    err += fmt::format("Error: \"{}\" does not look like a port.\n", p);
                    return std::nullopt;
                }
                h.port = *found;
            }
        }
    }

    if (!is_port && !addr.empty() && addr[0] != '*') {
        HostAddr a;
        if (parse_prefix(addr, fam, a)) {
            h.bits = a.bits;
            h.family = a.family;
            if (a.bits != 0) {
                h.addrs.push_back(a);
            }
        } else {
            std::vector<HostAddr> found;
            if (opts.resolvers.host) {
                const int first = fam == AF_UNSPEC ? AF_INET : fam;
                found = opts.resolvers.host(addr, first);
                if (fam == AF_UNSPEC) {
                    auto v6 = opts.resolvers.host(addr, AF_INET6);
                    found.insert(found.end(), v6.begin(), v6.end());
                }
            }
            if (found.empty()) {
                err += fmt::format("Error: an inet prefix is expected rather than \"{}\".\n",
                                   addr);
                return std::nullopt;
            }
            h.addrs = std::move(found);
            h.bits = h.addrs.front().bits;
            h.family = h.addrs.front().family;
        }
    }
    if (fam != AF_UNSPEC) {
        family_reset = fam;
    }
    return h;
}

std::optional<unsigned> parse_devcond(const std::string& tok, const ParseOptions& opts)
{
    unsigned idx = opts.resolvers.ifindex ? opts.resolvers.ifindex(tok) : 0;
    if (idx != 0) {
        return idx;
    }
    unsigned long v = 0;
    if (!to_unsigned(tok, UINT_MAX, v)) {
        return std::nullopt;
    }
    return static_cast<unsigned>(v);
}

std::optional<std::pair<std::uint32_t, std::uint32_t>> parse_markmask(const std::string& tok)
{
    long mark = 0;
    long mask = 0;
    if (tok.find('/') != std::string::npos) {
        if (std::sscanf(tok.c_str(), "%li/%li", &mark, &mask) != 2) {
            return std::nullopt;
        }
    } else {
        mask = 0xffffffffL;
        if (std::sscanf(tok.c_str(), "%li", &mark) != 1) {
            return std::nullopt;
        }
    }
    return std::pair{static_cast<std::uint32_t>(static_cast<unsigned long>(mark)),
                     static_cast<std::uint32_t>(static_cast<unsigned long>(mask))};
}

std::optional<std::uint64_t> parse_cgroupcond(const std::string& tok, const ParseOptions& opts,
                                              std::string& err)
{
    if (tok.empty()) {
        err += "Invalid cgroup2 path\n";
        return std::nullopt;
    }
    if (!opts.resolvers.cgroup) {
        err += "Failed to get cgroup2 ID: No such file or directory\n";
        return std::nullopt;
    }
    std::string why;
    auto id = opts.resolvers.cgroup(tok, why);
    if (!id) {
        if (!why.empty()) {
            err += why;
            if (why.back() != '\n') {
                err += '\n';
            }
        }
        return std::nullopt;
    }
    if (*id == 0) {
        return std::nullopt;
    }
    return id;
}

}  // namespace detail

}  // namespace sstrace::filter
