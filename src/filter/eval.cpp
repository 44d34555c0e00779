// SPDX-License-Identifier: GPL-2.0-only
// The userspace filter: ss's per-row evaluation (run_ssfilter) over a SockView.
// No exceptions, no allocation (fnmatch aside), bounded recursion (parentheses only).
#include "internal.hpp"

#include <fnmatch.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace sstrace::filter {

namespace {

// First `bits` bits of a and b equal (network order bytes).
bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, int bits)
{
    bits = std::clamp(bits, 0, 128);
    const auto whole = static_cast<std::size_t>(bits / 8);
    if (std::memcmp(a, b, whole) != 0) {
        return false;
    }
    const int rest = bits % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return ((a[whole] ^ b[whole]) & mask) == 0;
}

// ss compares the raw address words without looking at the family; an IPv4 condition also
// matches a v4-mapped IPv6 socket through its last four bytes.
bool inet_match(const SockView& s, const std::array<std::uint8_t, 16>& addr, const HostAddr& c)
{
    if (prefix_equal(addr.data(), c.bytes.data(), c.bits)) {
        return true;
    }
    if (c.family == AF_INET && s.family == AF_INET6) {
        static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(addr.data(), kMapped, sizeof(kMapped)) == 0) {
            return prefix_equal(addr.data() + 12, c.bytes.data(), std::min(c.bits, 32));
        }
    }
    return false;
}

bool host_match(const HostCond& h, const SockView& s, bool local)
{
    if (h.family == AF_UNIX) {
        if (s.family != AF_UNIX) {
            return false;
        }
        const std::optional<std::string>& name = local ? s.unix_path : s.unix_peer_path;
        const char* text = name ? name->c_str() : "";
        return fnmatch(h.pattern.c_str(), text, FNM_CASEFOLD) == 0;
    }
    const std::int64_t port = local ? s.lport : s.rport;
    if (h.port != -1 && h.port != port) {
        return false;
    }
    if (h.bits == 0) {
        return true;
    }
    switch (h.family) {
    case AF_PACKET:
    case AF_NETLINK:
        return s.family == h.family && s.proto == h.number;
    case AF_VSOCK:
        return s.family == AF_VSOCK && (local ? s.local_cid : s.remote_cid) == h.number;
    default:
        break;
    }
    if (s.family != AF_INET && s.family != AF_INET6) {
        return false;
    }
    const auto& addr = local ? s.local : s.remote;
    return std::any_of(h.addrs.begin(), h.addrs.end(),
                       [&](const HostAddr& a) { return inet_match(s, addr, a); });
}

bool autobound(const SockView& s, unsigned low, unsigned high)
{
    switch (s.family) {
    case AF_UNIX: {
        if (!s.unix_path) {
            return true;
        }
        const std::string& p = *s.unix_path;
        return p.size() == 6 && p[0] == '@' &&
               std::all_of(p.begin() + 1, p.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
               });
    }
    case AF_PACKET:
        return s.lport == 0 && s.proto == 0;
    case AF_NETLINK:
        return s.lport < 0;
    case AF_VSOCK:
        return s.lport > 1023;
    default:
        return s.lport >= std::int64_t{low} && s.lport <= std::int64_t{high};
    }
}

bool eval(const Node* n, const SockView& s, unsigned low, unsigned high)
{
    bool invert = false;
    while (n->kind == NodeKind::Not) {
        invert = !invert;
        n = n->child.get();
    }
    bool r = false;
    switch (n->kind) {
    case NodeKind::List:
        r = eval(n->items.front().second.get(), s, low, high);
        for (std::size_t i = 1; i < n->items.size(); ++i) {
            const Joiner j = n->items[i].first;
            if (j == Joiner::And ? r : !r) {
                r = eval(n->items[i].second.get(), s, low, high);
            }
        }
        break;
    case NodeKind::SrcCond:
        r = host_match(n->host, s, true);
        break;
    case NodeKind::DstCond:
        r = host_match(n->host, s, false);
        break;
    case NodeKind::SportGe:
        r = s.lport >= n->host.port;
        break;
    case NodeKind::SportLe:
        r = s.lport <= n->host.port;
        break;
    case NodeKind::DportGe:
        r = s.rport >= n->host.port;
        break;
    case NodeKind::DportLe:
        r = s.rport <= n->host.port;
        break;
    case NodeKind::Dev:
        r = s.ifindex == n->ifindex;
        break;
    case NodeKind::Mark:
        r = (s.mark & n->mask) == n->mark;
        break;
    case NodeKind::Cgroup:
        r = s.cgroup_id == n->cgroup_id;
        break;
    case NodeKind::Auto:
        r = autobound(s, low, high);
        break;
    case NodeKind::Not:
        break;  // unreachable: unwrapped above
    }
    return r != invert;
}

}  // namespace

bool Filter::matches(const SockView& s) const noexcept
{
    return !root_ || eval(root_.get(), s, eph_low_, eph_high_);
}

SockView make_inet_view(int family, const std::uint8_t* saddr, unsigned sport,
                        const std::uint8_t* daddr, unsigned dport)
{
    SockView v;
    v.family = family;
    const std::size_t n = family == AF_INET6 ? 16 : 4;
    std::memcpy(v.local.data(), saddr, n);
    std::memcpy(v.remote.data(), daddr, n);
    v.lport = sport;
    v.rport = dport;
    return v;
}

}  // namespace sstrace::filter
