// SPDX-License-Identifier: GPL-2.0-only
// INET_DIAG_REQ_BYTECODE: the compiler (ss-behaviour.md 3.5) and, for tests, a model of the
// kernel's audit and interpreter (net/ipv4/inet_diag.c).
//
// Every compiled fragment of length L follows one convention: "true" leaves it at offset L,
// "false" jumps to L + 4. Fragments are combined like ss combines them:
//   A and B : A B, with A's jumps to its false exit moved to B's false exit
//   A or B  : A JMP(L_B + 4) B
//   not A   : A JMP(8)
#include "internal.hpp"

#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace sstrace::filter {

namespace {

using Code = std::vector<std::uint8_t>;

constexpr std::size_t kOpLen = 4;  // sizeof(struct inet_diag_bc_op)
constexpr std::size_t kMaxLen = 0xffff - 8;  // `no` is a u16 and may point 4 past the end

void put_op(Code& c, unsigned code, unsigned yes, unsigned no)
{
    c.push_back(static_cast<std::uint8_t>(code));
    c.push_back(static_cast<std::uint8_t>(yes));
    const auto n = static_cast<std::uint16_t>(no);
    std::uint8_t b[2];
    std::memcpy(b, &n, 2);
    c.push_back(b[0]);
    c.push_back(b[1]);
}

template <typename T>
void put(Code& c, T v)
{
    std::uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    c.insert(c.end(), b, b + sizeof(T));
}

std::uint16_t get_no(const std::uint8_t* op)
{
    std::uint16_t n = 0;
    std::memcpy(&n, op + 2, 2);
    return n;
}

void set_no(std::uint8_t* op, std::uint16_t n)
{
    std::memcpy(op + 2, &n, 2);
}

// One S_COND/D_COND op with its hostcond.
void put_hostcond(Code& c, unsigned code, int family, int bits, std::int64_t port,
                  const std::uint8_t* addr, std::size_t alen)
{
    const std::size_t oplen = kOpLen + sizeof(inet_diag_hostcond) + alen;
    put_op(c, code, static_cast<unsigned>(oplen), static_cast<unsigned>(oplen + 4));
    inet_diag_hostcond hc{};
    hc.family = static_cast<std::uint8_t>(family);
    hc.prefix_len = static_cast<std::uint8_t>(bits);
    hc.port = static_cast<int>(port);
    std::uint8_t raw[sizeof(inet_diag_hostcond)];
    std::memcpy(raw, &hc, sizeof(hc));
    c.insert(c.end(), raw, raw + sizeof(raw));
    c.insert(c.end(), addr, addr + alen);
}

std::optional<Code> compile_host(const HostCond& h, unsigned code)
{
    if (h.family != AF_UNSPEC && h.family != AF_INET && h.family != AF_INET6) {
        return std::nullopt;  // unix/link/netlink/vsock operands have no inet bytecode
    }
    Code c;
    if (h.bits == 0 || h.addrs.empty()) {
        static constexpr std::uint8_t kZero[16] = {};
        put_hostcond(c, code, h.family, 0, h.port, kZero, h.family == AF_INET6 ? 16 : 4);
        return c;
    }
    // a host with several addresses: entries joined by jumps to the end (OR)
    std::size_t total = 0;
    for (std::size_t i = 0; i < h.addrs.size(); ++i) {
        const HostAddr& a = h.addrs[i];
        if (a.family != AF_INET && a.family != AF_INET6) {
            return std::nullopt;
        }
        total += kOpLen + sizeof(inet_diag_hostcond) + (a.family == AF_INET6 ? 16 : 4);
        if (i + 1 < h.addrs.size()) {
            total += kOpLen;
        }
    }
    if (total > kMaxLen) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < h.addrs.size(); ++i) {
        const HostAddr& a = h.addrs[i];
        const std::size_t alen = a.family == AF_INET6 ? 16 : 4;
        put_hostcond(c, code, a.family, std::min(a.bits, static_cast<int>(alen * 8)), h.port,
                     a.bytes.data(), alen);
        if (i + 1 < h.addrs.size()) {
            put_op(c, INET_DIAG_BC_JMP, 4, static_cast<unsigned>(total - c.size()));
        }
    }
    return c;
}

std::optional<Code> compile_port(unsigned code, std::int64_t port)
{
    Code c;
    put_op(c, code, 8, 12);
    put_op(c, 0, 0, static_cast<unsigned>(static_cast<std::uint16_t>(port)));  // u16, as ss
    return c;
}

// a and b: retarget a's "false" exits (offset len(a)+4) to the end of b's.
void append_and(Code& a, const Code& b)
{
    const std::size_t l1 = a.size();
    std::size_t off = 0;
    while (off < l1) {
        std::uint8_t* op = a.data() + off;
        const std::size_t left = l1 - off;
        if (get_no(op) == left + 4) {
            set_no(op, static_cast<std::uint16_t>(get_no(op) + b.size()));
        }
        const std::size_t yes = op[1];
        if (yes == 0) {
            break;  // not produced by this compiler
        }
        off += yes;
    }
    a.insert(a.end(), b.begin(), b.end());
}

void append_or(Code& a, const Code& b)
{
    put_op(a, INET_DIAG_BC_JMP, 4, static_cast<unsigned>(b.size() + 4));
    a.insert(a.end(), b.begin(), b.end());
}

void append_not(Code& a)
{
    put_op(a, INET_DIAG_BC_JMP, 4, 8);
}

std::optional<Code> compile(const Node* n)
{
    std::size_t nots = 0;
    while (n->kind == NodeKind::Not) {
        ++nots;
        n = n->child.get();
    }
    std::optional<Code> c;
    switch (n->kind) {
    case NodeKind::List: {
        c = compile(n->items.front().second.get());
        for (std::size_t i = 1; c && i < n->items.size(); ++i) {
            auto rhs = compile(n->items[i].second.get());
            if (!rhs || c->size() + rhs->size() + kOpLen > kMaxLen) {
                return std::nullopt;
            }
            if (n->items[i].first == Joiner::And) {
                append_and(*c, *rhs);
            } else {
                append_or(*c, *rhs);
            }
        }
        break;
    }
    case NodeKind::SrcCond:
        c = compile_host(n->host, INET_DIAG_BC_S_COND);
        break;
    case NodeKind::DstCond:
        c = compile_host(n->host, INET_DIAG_BC_D_COND);
        break;
    case NodeKind::SportGe:
        c = compile_port(INET_DIAG_BC_S_GE, n->host.port);
        break;
    case NodeKind::SportLe:
        c = compile_port(INET_DIAG_BC_S_LE, n->host.port);
        break;
    case NodeKind::DportGe:
        c = compile_port(INET_DIAG_BC_D_GE, n->host.port);
        break;
    case NodeKind::DportLe:
        c = compile_port(INET_DIAG_BC_D_LE, n->host.port);
        break;
    case NodeKind::Dev:
        return std::nullopt;  // ss never compiles dev: the whole filter stays in userspace
    case NodeKind::Mark: {
        Code m;
        put_op(m, INET_DIAG_BC_MARK_COND, kOpLen + 8, kOpLen + 8 + 4);
        put<std::uint32_t>(m, n->mark);
        put<std::uint32_t>(m, n->mask);
        c = std::move(m);
        break;
    }
    case NodeKind::Cgroup: {
        Code m;
        put_op(m, INET_DIAG_BC_CGROUP_COND, kOpLen + 8, kOpLen + 8 + 4);
        put<std::uint64_t>(m, n->cgroup_id);
        c = std::move(m);
        break;
    }
    case NodeKind::Auto: {
        Code m;
        put_op(m, INET_DIAG_BC_AUTO, 4, 8);
        c = std::move(m);
        break;
    }
    case NodeKind::Not:
        break;
    }
    if (!c || c->size() + nots * kOpLen > kMaxLen) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < nots; ++i) {
        append_not(*c);
    }
    return c;
}

// --- the kernel's side -----------------------------------------------------------------------

bool valid_cc(const std::uint8_t* bc, int len, int cc)
{
    while (len >= 0) {
        if (cc > len) {
            return false;
        }
        if (cc == len) {
            return true;
        }
        const int yes = bc[1];
        if (yes < 4 || (yes & 3) != 0) {
            return false;
        }
        len -= yes;
        bc += yes;
    }
    return false;
}

bool bits_match(const std::uint8_t* a, const std::uint8_t* b, int bits)
{
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

}  // namespace

std::optional<std::vector<std::uint8_t>> compile_bytecode(const Filter& f)
{
    if (f.empty()) {
        return std::nullopt;
    }
    return compile(f.root());
}

int audit_bytecode(std::span<const std::uint8_t> code, bool net_admin)
{
    const std::uint8_t* bc = code.data();
    const std::uint8_t* const start = code.data();
    const int total = static_cast<int>(code.size());
    int len = total;
    while (len > 0) {
        if (len < static_cast<int>(kOpLen)) {
            return -EINVAL;
        }
        int min_len = static_cast<int>(kOpLen);
        const unsigned op = bc[0];
        switch (op) {
        case INET_DIAG_BC_S_COND:
        case INET_DIAG_BC_D_COND: {
            min_len += static_cast<int>(sizeof(inet_diag_hostcond));
            if (len < min_len) {
                return -EINVAL;
            }
            inet_diag_hostcond hc{};
            std::memcpy(&hc, bc + kOpLen, sizeof(hc));
            int alen = 0;
            if (hc.family == AF_INET) {
                alen = 4;
            } else if (hc.family == AF_INET6) {
                alen = 16;
            } else if (hc.family != AF_UNSPEC) {
                return -EINVAL;
            }
            min_len += alen;
            if (len < min_len || hc.prefix_len > 8 * alen) {
                return -EINVAL;
            }
            break;
        }
        case INET_DIAG_BC_DEV_COND:
            min_len += 4;
            if (len < min_len) {
                return -EINVAL;
            }
            break;
        case INET_DIAG_BC_S_EQ:
        case INET_DIAG_BC_S_GE:
        case INET_DIAG_BC_S_LE:
        case INET_DIAG_BC_D_EQ:
        case INET_DIAG_BC_D_GE:
        case INET_DIAG_BC_D_LE:
            min_len += static_cast<int>(kOpLen);
            if (len < min_len) {
                return -EINVAL;
            }
            break;
        case INET_DIAG_BC_MARK_COND:
            if (!net_admin) {
                return -EPERM;
            }
            min_len += 8;
            if (len < min_len) {
                return -EINVAL;
            }
            break;
        case INET_DIAG_BC_CGROUP_COND:
            min_len += 8;
            if (len < min_len) {
                return -EINVAL;
            }
            break;
        case INET_DIAG_BC_AUTO:
        case INET_DIAG_BC_JMP:
        case INET_DIAG_BC_NOP:
            break;
        default:
            return -EINVAL;
        }
        const int yes = bc[1];
        const int no = get_no(bc);
        if (op != INET_DIAG_BC_NOP) {
            if (no < min_len || no > len + 4 || (no & 3) != 0) {
                return -EINVAL;
            }
            if (no < len && !valid_cc(start, total, len - no)) {
                return -EINVAL;
            }
        }
        if (yes < min_len || yes > len + 4 || (yes & 3) != 0) {
            return -EINVAL;
        }
        bc += yes;
        len -= yes;
    }
    return len == 0 ? 0 : -EINVAL;
}

bool run_bytecode(std::span<const std::uint8_t> code, const SockView& s)
{
    const std::uint8_t* bc = code.data();
    int len = static_cast<int>(code.size());
    while (len > 0) {
        bool yes = true;
        const unsigned op = bc[0];
        switch (op) {
        case INET_DIAG_BC_NOP:
            break;
        case INET_DIAG_BC_JMP:
            yes = false;
            break;
        case INET_DIAG_BC_S_EQ:
        case INET_DIAG_BC_S_GE:
        case INET_DIAG_BC_S_LE:
        case INET_DIAG_BC_D_EQ:
        case INET_DIAG_BC_D_GE:
        case INET_DIAG_BC_D_LE: {
            const bool src = op == INET_DIAG_BC_S_EQ || op == INET_DIAG_BC_S_GE ||
                             op == INET_DIAG_BC_S_LE;
            const std::int64_t port = src ? s.lport : s.rport;
            const std::int64_t v = get_no(bc + kOpLen);
            if (op == INET_DIAG_BC_S_EQ || op == INET_DIAG_BC_D_EQ) {
                yes = port == v;
            } else if (op == INET_DIAG_BC_S_GE || op == INET_DIAG_BC_D_GE) {
                yes = port >= v;
            } else {
                yes = port <= v;
            }
            break;
        }
        case INET_DIAG_BC_AUTO:
            yes = !s.port_locked;
            break;
        case INET_DIAG_BC_S_COND:
        case INET_DIAG_BC_D_COND: {
            inet_diag_hostcond hc{};
            std::memcpy(&hc, bc + kOpLen, sizeof(hc));
            const std::uint8_t* caddr = bc + kOpLen + sizeof(hc);
            const bool src = op == INET_DIAG_BC_S_COND;
            if (hc.port != -1 && hc.port != (src ? s.lport : s.rport)) {
                yes = false;
                break;
            }
            const std::uint8_t* addr = src ? s.local.data() : s.remote.data();
            if (hc.family != AF_UNSPEC && hc.family != s.family) {
                static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0,
                                                             0, 0, 0, 0, 0xff, 0xff};
                yes = s.family == AF_INET6 && hc.family == AF_INET &&
                      std::memcmp(addr, kMapped, 12) == 0 &&
                      bits_match(addr + 12, caddr, hc.prefix_len);
                break;
            }
            yes = hc.prefix_len == 0 || bits_match(addr, caddr, hc.prefix_len);
            break;
        }
        case INET_DIAG_BC_DEV_COND: {
            std::uint32_t ifindex = 0;
            std::memcpy(&ifindex, bc + kOpLen, 4);
            yes = s.ifindex == ifindex;
            break;
        }
        case INET_DIAG_BC_MARK_COND: {
            std::uint32_t mark = 0;
            std::uint32_t mask = 0;
            std::memcpy(&mark, bc + kOpLen, 4);
            std::memcpy(&mask, bc + kOpLen + 4, 4);
            yes = (s.mark & mask) == mark;
            break;
        }
        case INET_DIAG_BC_CGROUP_COND: {
            std::uint64_t id = 0;
            std::memcpy(&id, bc + kOpLen, 8);
            yes = s.cgroup_id == id;
            break;
        }
        default:
            return false;
        }
        const int step = yes ? bc[1] : get_no(bc);
        if (step <= 0) {
            return false;
        }
        len -= step;
        bc += step;
    }
    return len == 0;
}

}  // namespace sstrace::filter
