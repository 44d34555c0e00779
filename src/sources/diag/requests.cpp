// SPDX-License-Identifier: GPL-2.0-only
#include "requests.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>

#include <cstring>

#ifndef SOCK_DESTROY
#define SOCK_DESTROY 21
#endif

namespace sstrace::diag {

namespace {

constexpr std::uint32_t kDumpSeq = 123456;  // ss's sequence number for dumps

template <typename Body>
std::vector<char> dump_of(const Body& body)
{
    struct Req {
        nlmsghdr nlh;
        Body r;
    } req{};
    req.nlh.nlmsg_len = sizeof(req);
    req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nlh.nlmsg_seq = kDumpSeq;
    req.r = body;
    std::vector<char> buf(sizeof(req));
    std::memcpy(buf.data(), &req, sizeof(req));
    return buf;
}

}  // namespace

std::vector<char> inet_dump(int family, int protocol, StateMask states, const Extensions& ext,
                            std::span<const std::uint8_t> bytecode)
{
    struct Req {
        nlmsghdr nlh;
        inet_diag_req_v2 r;
    };
    const bool ext_proto = protocol > 255;
    const std::size_t bc_len = bytecode.empty() ? 0 : RTA_SPACE(bytecode.size());
    const std::size_t attr_len = bc_len + (ext_proto ? RTA_SPACE(sizeof(std::uint32_t)) : 0);
    std::vector<char> buf(sizeof(Req) + attr_len, 0);
    auto* req = reinterpret_cast<Req*>(buf.data());
    req->nlh.nlmsg_len = static_cast<std::uint32_t>(buf.size());
    req->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req->nlh.nlmsg_seq = kDumpSeq;
    req->r.sdiag_family = static_cast<std::uint8_t>(family);
    req->r.sdiag_protocol = static_cast<std::uint8_t>(ext_proto ? IPPROTO_TCP : protocol);
    req->r.idiag_states = states;
    std::uint8_t flags = 0;
    if (ext.memory) {
        flags |= 1u << (INET_DIAG_MEMINFO - 1);
        flags |= 1u << (INET_DIAG_SKMEMINFO - 1);
    }
    if (ext.info) {
        flags |= 1u << (INET_DIAG_INFO - 1);
        flags |= 1u << (INET_DIAG_VEGASINFO - 1);
        flags |= 1u << (INET_DIAG_CONG - 1);
    }
    if (ext.tos) {
        flags |= 1u << (INET_DIAG_TOS - 1);
        flags |= 1u << (INET_DIAG_TCLASS - 1);
    }
    req->r.idiag_ext = flags;
    if (!bytecode.empty()) {
        auto* rta = reinterpret_cast<rtattr*>(buf.data() + sizeof(Req));
        rta->rta_type = INET_DIAG_REQ_BYTECODE;
        rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(bytecode.size()));
        std::memcpy(RTA_DATA(rta), bytecode.data(), bytecode.size());
    }
    if (ext_proto) {
        auto* rta = reinterpret_cast<rtattr*>(buf.data() + sizeof(Req) + bc_len);
        rta->rta_type = 3;  // INET_DIAG_REQ_PROTOCOL
        rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(sizeof(std::uint32_t)));
        const auto p = static_cast<std::uint32_t>(protocol);
        std::memcpy(RTA_DATA(rta), &p, sizeof(p));
    }
    return buf;
}

std::vector<char> unix_dump(StateMask states, const Extensions& ext)
{
    unix_diag_req r{};
    r.sdiag_family = AF_UNIX;
    r.udiag_states = states;
    r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
    if (ext.memory) {
        r.udiag_show |= UDIAG_SHOW_MEMINFO;
    }
    if (ext.extended) {
        r.udiag_show |= UDIAG_SHOW_VFS | UDIAG_SHOW_ICONS;
    }
    return dump_of(r);
}

std::vector<char> packet_dump()
{
    packet_diag_req r{};
    r.sdiag_family = AF_PACKET;
    r.pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO | PACKET_SHOW_FILTER |
                   PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT;
    return dump_of(r);
}

std::vector<char> netlink_dump()
{
    netlink_diag_req r{};
    r.sdiag_family = AF_NETLINK;
    r.sdiag_protocol = NDIAG_PROTO_ALL;
    r.ndiag_show = NDIAG_SHOW_GROUPS | NDIAG_SHOW_MEMINFO;
    return dump_of(r);
}

std::vector<char> inet_destroy(const Socket& s, int protocol)
{
    struct Req {
        nlmsghdr nlh;
        inet_diag_req_v2 r;
    } req{};
    req.nlh.nlmsg_len = sizeof(req);
    req.nlh.nlmsg_type = SOCK_DESTROY;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.r.sdiag_family = static_cast<std::uint8_t>(s.family);
    req.r.sdiag_protocol = static_cast<std::uint8_t>(protocol);
    inet_diag_sockid& id = req.r.id;
    id.idiag_sport = htons(s.inet.local.port);
    id.idiag_dport = htons(s.inet.peer.port);
    std::memcpy(id.idiag_src, s.inet.local.addr.bytes, sizeof(id.idiag_src));
    std::memcpy(id.idiag_dst, s.inet.peer.addr.bytes, sizeof(id.idiag_dst));
    id.idiag_if = s.ifindex;
    id.idiag_cookie[0] = static_cast<std::uint32_t>(s.cookie);
    id.idiag_cookie[1] = static_cast<std::uint32_t>(s.cookie >> 32);
    std::vector<char> buf(sizeof(req));
    std::memcpy(buf.data(), &req, sizeof(req));
    return buf;
}

}  // namespace sstrace::diag
