// SPDX-License-Identifier: GPL-2.0-only
// The parsed tree: its canonical text (Filter::to_string) and node queries.
#include "internal.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>

namespace sstrace::filter {

namespace {

void node_text(const Node& n, std::string& out)
{
    switch (n.kind) {
    case NodeKind::List: {
        // left-to-right grouping made explicit: (or (and a b) c)
        std::string acc;
        node_text(*n.items.front().second, acc);
        for (std::size_t i = 1; i < n.items.size(); ++i) {
            std::string rhs;
            node_text(*n.items[i].second, rhs);
            acc = fmt::format("({} {} {})", n.items[i].first == Joiner::And ? "and" : "or", acc,
                              rhs);
        }
        out += acc;
        return;
    }
    case NodeKind::Not:
        out += "(not ";
        node_text(*n.child, out);
        out += ")";
        return;
    case NodeKind::SrcCond:
        out += "(src " + detail::hostcond_text(n.host) + ")";
        return;
    case NodeKind::DstCond:
        out += "(dst " + detail::hostcond_text(n.host) + ")";
        return;
    case NodeKind::SportGe:
        out += fmt::format("(sport>= {})", n.host.port);
        return;
    case NodeKind::SportLe:
        out += fmt::format("(sport<= {})", n.host.port);
        return;
    case NodeKind::DportGe:
        out += fmt::format("(dport>= {})", n.host.port);
        return;
    case NodeKind::DportLe:
        out += fmt::format("(dport<= {})", n.host.port);
        return;
    case NodeKind::Dev:
        out += fmt::format("(dev {})", n.ifindex);
        return;
    case NodeKind::Mark:
        out += fmt::format("(fwmark {:#x}/{:#x})", n.mark, n.mask);
        return;
    case NodeKind::Cgroup:
        out += fmt::format("(cgroup {})", n.cgroup_id);
        return;
    case NodeKind::Auto:
        out += "(autobound)";
        return;
    }
}

bool node_contains(const Node& n, NodeKind kind)
{
    if (n.kind == kind) {
        return true;
    }
    if (n.kind == NodeKind::Not) {
        const Node* c = n.child.get();
        while (c->kind == NodeKind::Not && kind != NodeKind::Not) {
            c = c->child.get();
        }
        return node_contains(*c, kind);
    }
    if (n.kind == NodeKind::List) {
        for (const auto& it : n.items) {
            if (node_contains(*it.second, kind)) {
                return true;
            }
        }
    }
    return false;
}

}  // namespace

namespace detail {

std::string hostcond_text(const HostCond& h)
{
    std::string out;
    switch (h.family) {
    case AF_UNIX:
        return "unix:" + h.pattern;
    case AF_PACKET:
        out = "link:";
        break;
    case AF_NETLINK:
        out = "netlink:";
        break;
    case AF_VSOCK:
        out = "vsock:";
        break;
    case AF_INET:
        out = "inet:";
        break;
    case AF_INET6:
        out = "inet6:";
        break;
    default:
        break;
    }
    if (h.family == AF_PACKET || h.family == AF_NETLINK || h.family == AF_VSOCK) {
        out += h.bits != 0 ? fmt::format("{:#x}", h.number) : "*";
    } else if (h.bits == 0) {
        out += "*";
    } else {
        for (std::size_t i = 0; i < h.addrs.size(); ++i) {
            const HostAddr& a = h.addrs[i];
            char buf[INET6_ADDRSTRLEN] = {};
            inet_ntop(a.family, a.bytes.data(), buf, sizeof(buf));
            out += fmt::format("{}{}{}{}/{}", i ? "," : "", a.family == AF_INET6 ? "[" : "", buf,
                               a.family == AF_INET6 ? "]" : "", a.bits);
        }
    }
    out += h.port == -1 ? std::string(":*") : fmt::format(":{}", h.port);
    return out;
}

}  // namespace detail

std::string Filter::to_string() const
{
    if (!root_) {
        return "(all)";
    }
    std::string out;
    node_text(*root_, out);
    return out;
}

bool Filter::contains(NodeKind kind) const
{
    return root_ && node_contains(*root_, kind);
}

}  // namespace sstrace::filter
