// SPDX-License-Identifier: GPL-2.0-only
// A necessary condition of an INET_DIAG_REQ_BYTECODE program on the ports: what the iterator
// checks with a few compares before it runs the program's interpreter (bpf/iter_tcp.bpf.c).
//
// The program is a graph: the op at offset p goes to p + yes or p + no, offsets only move
// forward, and the socket is accepted when the walk stops exactly at the end. An accepted
// socket passed every port test on its path the way the path goes, so its ports lie in the
// ranges those tests leave; over all the paths that reach the end, in the smallest ranges
// holding each path's. Working on the program rather than on the expression keeps the result
// true to what the interpreters run (ss's operators of equal precedence, `not`, the jumps of a
// host with several addresses) without a second reading of the language.
#include "sstrace/filter/filter.hpp"

#include <linux/inet_diag.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace sstrace::filter {

namespace {

constexpr unsigned kPortMax = 0xffff;

// The program as the interpreters read it: bytes past the end read as 0 (the iterator's copy
// sits in a zeroed array; a NOP with a zero offset there rejects).
class Program {
public:
    explicit Program(std::span<const std::uint8_t> bc) : bc_(bc) {}

    int size() const { return static_cast<int>(bc_.size()); }
    unsigned u8(int off) const
    {
        return off >= 0 && off < size() ? bc_[static_cast<std::size_t>(off)] : 0u;
    }
    unsigned u16(int off) const { return u8(off) | (u8(off + 1) << 8); }
    std::int32_t s32(int off) const
    {
        const std::uint32_t v = u16(off) | (static_cast<std::uint32_t>(u16(off + 2)) << 16);
        std::int32_t s = 0;
        std::memcpy(&s, &v, sizeof(s));
        return s;
    }

    // Where each outcome of the op at `p` leads; -1 when that outcome is never taken or
    // rejects (an unknown op, an offset of 0).
    int yes_to(int p) const
    {
        const unsigned code = u8(p);
        if (!known(code) || code == INET_DIAG_BC_JMP || u8(p + 1) == 0) {
            return -1;
        }
        return p + static_cast<int>(u8(p + 1));
    }
    int no_to(int p) const
    {
        const unsigned code = u8(p);
        if (!known(code) || code == INET_DIAG_BC_NOP || u16(p + 2) == 0) {
            return -1;
        }
        return p + static_cast<int>(u16(p + 2));
    }

private:
    static bool known(unsigned code)
    {
        return code <= INET_DIAG_BC_CGROUP_COND;
    }

    std::span<const std::uint8_t> bc_;
};

// The ports a socket can have and still take this outcome of the op at `p`: `in` narrowed by
// the op's port test, or `in` unchanged when the outcome says nothing expressible as a range
// (an address, a port it differs from, not a port test).
PortPrefilter narrow(const Program& prog, int p, bool yes, PortPrefilter in)
{
    const unsigned code = prog.u8(p);
    const bool src = code == INET_DIAG_BC_S_GE || code == INET_DIAG_BC_S_LE ||
                     code == INET_DIAG_BC_S_EQ || code == INET_DIAG_BC_S_COND;
    std::uint32_t& lo = src ? in.sport_min : in.dport_min;
    std::uint32_t& hi = src ? in.sport_max : in.dport_max;
    auto at_least = [&](std::uint32_t v) { lo = std::max(lo, v); };
    auto at_most = [&](std::uint32_t v) { hi = std::min(hi, v); };
    // GE/LE/EQ: the port is the `no` field of the op after this one
    const unsigned v = prog.u16(p + 6);
    switch (code) {
    case INET_DIAG_BC_S_GE:
    case INET_DIAG_BC_D_GE:
        if (yes) {
            at_least(v);
        } else if (v == 0) {
            at_least(kPortMax + 1);  // port < 0: none
        } else {
            at_most(v - 1);
        }
        break;
    case INET_DIAG_BC_S_LE:
    case INET_DIAG_BC_D_LE:
        if (yes) {
            at_most(v);
        } else {
            at_least(v + 1);  // past 0xffff: none
        }
        break;
    case INET_DIAG_BC_S_EQ:
    case INET_DIAG_BC_D_EQ:
        if (yes) {
            at_least(v);
            at_most(v);
        }
        break;
    case INET_DIAG_BC_S_COND:
    case INET_DIAG_BC_D_COND: {
        // struct inet_diag_hostcond after the op: family, prefix_len, 2 bytes, int port
        const std::int32_t port = prog.s32(p + 8);
        if (!yes || port == -1) {
            break;
        }
        if (port < 0 || port > static_cast<std::int32_t>(kPortMax)) {
            at_least(kPortMax + 1);  // a port no socket has
        } else {
            at_least(static_cast<std::uint32_t>(port));
            at_most(static_cast<std::uint32_t>(port));
        }
        break;
    }
    default:
        break;
    }
    return in;
}

bool none(const PortPrefilter& pf)
{
    return pf.sport_min > pf.sport_max || pf.dport_min > pf.dport_max;
}

// The smallest ranges holding both.
PortPrefilter hull(const PortPrefilter& a, const PortPrefilter& b)
{
    PortPrefilter h;
    h.sport_min = std::min(a.sport_min, b.sport_min);
    h.sport_max = std::max(a.sport_max, b.sport_max);
    h.dport_min = std::min(a.dport_min, b.dport_min);
    h.dport_max = std::max(a.dport_max, b.dport_max);
    return h;
}

std::string range_text(const char* name, std::uint32_t lo, std::uint32_t hi)
{
    if (lo > hi) {
        return fmt::format("{} none", name);
    }
    if (lo == hi) {
        return fmt::format("{} {}", name, lo);
    }
    return fmt::format("{} {}-{}", name, lo, hi);
}

}  // namespace

bool PortPrefilter::narrows() const
{
    return sport_min > 0 || sport_max < kPortMax || dport_min > 0 || dport_max < kPortMax;
}

bool PortPrefilter::admits(unsigned sport, unsigned dport) const
{
    return sport >= sport_min && sport <= sport_max && dport >= dport_min && dport <= dport_max;
}

std::string PortPrefilter::to_string() const
{
    std::string out;
    if (sport_min > 0 || sport_max < kPortMax) {
        out = range_text("sport", sport_min, sport_max);
    }
    if (dport_min > 0 || dport_max < kPortMax) {
        out += (out.empty() ? "" : ", ") + range_text("dport", dport_min, dport_max);
    }
    return out.empty() ? "none" : out;
}

PortPrefilter port_prefilter(std::span<const std::uint8_t> bc)
{
    if (bc.empty()) {
        return {};
    }
    // The ports each offset can be reached with, over every path from offset 0 that the port
    // tests on it allow (one range per port: the hull of the paths'). Offsets only move
    // forward, so one pass in order sees every way into an offset before leaving it.
    const Program prog(bc);
    const int n = prog.size();
    std::vector<std::optional<PortPrefilter>> at(static_cast<std::size_t>(n) + 1);
    at[0] = PortPrefilter{};
    for (int p = 0; p < n; ++p) {
        const std::optional<PortPrefilter>& here = at[static_cast<std::size_t>(p)];
        if (!here) {
            continue;
        }
        for (const bool yes : {true, false}) {
            const int to = yes ? prog.yes_to(p) : prog.no_to(p);
            if (to <= p || to > n) {
                continue;  // never taken, or past the end: rejected
            }
            const PortPrefilter out = narrow(prog, p, yes, *here);
            if (none(out)) {
                continue;  // no socket takes this path
            }
            std::optional<PortPrefilter>& there = at[static_cast<std::size_t>(to)];
            there = there ? hull(*there, out) : out;
        }
    }
    if (!at[static_cast<std::size_t>(n)]) {
        PortPrefilter nothing;  // no path ends at the end: the program accepts no socket
        nothing.sport_min = kPortMax + 1;
        return nothing;
    }
    return *at[static_cast<std::size_t>(n)];
}

}  // namespace sstrace::filter
