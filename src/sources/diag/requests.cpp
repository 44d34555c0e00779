// SPDX-License-Identifier: GPL-2.0-only
#include "requests.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
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

// libmnl's MNL_ALIGN without its int arithmetic, which -Wsign-conversion rejects.
constexpr std::size_t aligned(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

// A netlink message of `type` whose fixed header is `Body`, with room for `attr_bytes` of
// attributes; put_attrs() adds them through libmnl, then the buffer is cut to the message.
template <typename Body>
class Message {
public:
    Message(std::uint16_t type, std::uint16_t flags, const Body& body, std::size_t attr_bytes = 0)
        : buf_(aligned(sizeof(nlmsghdr)) + aligned(sizeof(Body)) + attr_bytes)
    {
        nlh_ = mnl_nlmsg_put_header(buf_.data());
        nlh_->nlmsg_type = type;
        nlh_->nlmsg_flags = flags;
        nlh_->nlmsg_seq = kDumpSeq;
        auto* b = static_cast<Body*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(Body)));
        std::memcpy(b, &body, sizeof(Body));
    }

    nlmsghdr* header() { return nlh_; }

    std::vector<char> take() &&
    {
        buf_.resize(nlh_->nlmsg_len);
        return std::move(buf_);
    }

private:
    std::vector<char> buf_;
    nlmsghdr* nlh_;
};

std::vector<char> dump_of(const auto& body)
{
    return Message(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, body).take();
}

}  // namespace

std::vector<char> inet_dump(int family, int protocol, StateMask states, const Extensions& ext,
                            std::span<const std::uint8_t> bytecode)
{
    inet_diag_req_v2 r{};
    const bool ext_proto = protocol > 255;  // MPTCP: TCP plus the protocol as an attribute
    r.sdiag_family = static_cast<std::uint8_t>(family);
    r.sdiag_protocol = static_cast<std::uint8_t>(ext_proto ? IPPROTO_TCP : protocol);
    r.idiag_states = states;
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
    r.idiag_ext = flags;
    const std::size_t attr_bytes = aligned(sizeof(nlattr)) + aligned(bytecode.size()) +
                                   aligned(sizeof(nlattr)) + aligned(sizeof(std::uint32_t));
    Message msg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, r, attr_bytes);
    if (!bytecode.empty()) {
        mnl_attr_put(msg.header(), INET_DIAG_REQ_BYTECODE, bytecode.size(), bytecode.data());
    }
    if (ext_proto) {
        mnl_attr_put_u32(msg.header(), INET_DIAG_REQ_PROTOCOL, static_cast<std::uint32_t>(protocol));
    }
    return std::move(msg).take();
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
    inet_diag_req_v2 r{};
    r.sdiag_family = static_cast<std::uint8_t>(s.family);
    r.sdiag_protocol = static_cast<std::uint8_t>(protocol);
    inet_diag_sockid& id = r.id;
    id.idiag_sport = htons(s.inet.local.port);
    id.idiag_dport = htons(s.inet.peer.port);
    std::memcpy(id.idiag_src, s.inet.local.addr.bytes, sizeof(id.idiag_src));
    std::memcpy(id.idiag_dst, s.inet.peer.addr.bytes, sizeof(id.idiag_dst));
    id.idiag_if = s.ifindex;
    id.idiag_cookie[0] = static_cast<std::uint32_t>(s.cookie);
    id.idiag_cookie[1] = static_cast<std::uint32_t>(s.cookie >> 32);
    return Message(SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, r).take();
}

}  // namespace sstrace::diag
