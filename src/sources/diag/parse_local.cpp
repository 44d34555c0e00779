// SPDX-License-Identifier: GPL-2.0-only
// unix_diag, packet_diag and netlink_diag answers -> Socket.
#include "parse.hpp"
#include "sstrace/core/state.hpp"

#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>

namespace sstrace::diag {

namespace {

// ss prints an abstract name (leading NUL) with every NUL as '@'.
std::string unix_name(const AttrTable& attrs)
{
    if (!attrs.has(UNIX_DIAG_NAME)) {
        return {};
    }
    const auto* n = static_cast<const char*>(attrs.data(UNIX_DIAG_NAME));
    const std::size_t len = attrs.len(UNIX_DIAG_NAME);
    if (len == 0 || n[0] != '\0') {
        return attrs.text(UNIX_DIAG_NAME, len);
    }
    std::string name(n, len);
    std::replace(name.begin(), name.end(), '\0', '@');
    return name;
}

}  // namespace

bool parse_unix(const nlmsghdr* h, Socket& out)
{
    AttrTable attrs;
    const auto* r = header_of<unix_diag_msg>(h, attrs);
    if (r == nullptr) {
        return false;
    }
    out.family = AF_UNIX;
    out.type = r->udiag_type;
    out.state = r->udiag_state;
    out.inode = r->udiag_ino;
    out.cookie = cookie_of(r->udiag_cookie);
    if (auto q = attrs.get<unix_diag_rqlen>(UNIX_DIAG_RQLEN)) {
        out.rqueue = q->udiag_rqueue;
        out.wqueue = q->udiag_wqueue;
    }
    out.shutdown = attrs.get<std::uint8_t>(UNIX_DIAG_SHUTDOWN);
    out.skmem = get_skmem(attrs, UNIX_DIAG_MEMINFO);
    Socket::UnixDomain& u = out.unix_domain;
    u.name = unix_name(attrs);
    u.peer_inode = attrs.get<std::uint32_t>(UNIX_DIAG_PEER).value_or(0);
    u.vfs = attrs.get<unix_diag_vfs>(UNIX_DIAG_VFS);
    u.pending = attrs.get_array<std::uint32_t>(UNIX_DIAG_ICONS);
    return true;
}

bool parse_packet(const nlmsghdr* h, Socket& out)
{
    AttrTable attrs;
    const auto* r = header_of<packet_diag_msg>(h, attrs);
    if (r == nullptr) {
        return false;
    }
    out.skmem = get_skmem(attrs, PACKET_DIAG_MEMINFO);
    if (!out.skmem) {
        return false;  // ss shows no packet socket without its memory figures
    }
    out.family = AF_PACKET;
    out.type = r->pdiag_type;
    out.protocol = r->pdiag_num;
    out.state = kStateClose;
    out.inode = r->pdiag_ino;
    out.cookie = cookie_of(r->pdiag_cookie);
    out.uid = attrs.get<std::uint32_t>(PACKET_DIAG_UID).value_or(0);
    out.rqueue = out.skmem->count > SK_MEMINFO_RMEM_ALLOC
                     ? out.skmem->values[SK_MEMINFO_RMEM_ALLOC]
                     : 0;
    Socket::Packet& p = out.packet;
    if (attrs.len(PACKET_DIAG_INFO) >= sizeof(packet_diag_info)) {
        p.info = attrs.get<packet_diag_info>(PACKET_DIAG_INFO);
        out.ifindex = static_cast<unsigned>(p.info->pdi_index);
    }
    if (attrs.len(PACKET_DIAG_RX_RING) >= sizeof(packet_diag_ring)) {
        p.rx_ring = attrs.get<packet_diag_ring>(PACKET_DIAG_RX_RING);
    }
    if (attrs.len(PACKET_DIAG_TX_RING) >= sizeof(packet_diag_ring)) {
        p.tx_ring = attrs.get<packet_diag_ring>(PACKET_DIAG_TX_RING);
    }
    p.fanout = attrs.get<std::uint32_t>(PACKET_DIAG_FANOUT);
    p.filter = attrs.get_array<sock_filter>(PACKET_DIAG_FILTER);
    return true;
}

bool parse_netlink(const nlmsghdr* h, Socket& out)
{
    AttrTable attrs;
    const auto* r = header_of<netlink_diag_msg>(h, attrs);
    if (r == nullptr) {
        return false;
    }
    out.family = AF_NETLINK;
    out.protocol = r->ndiag_protocol;
    out.state = kStateClose;
    out.inode = r->ndiag_ino;
    out.cookie = cookie_of(r->ndiag_cookie);
    out.skmem = get_skmem(attrs, NETLINK_DIAG_MEMINFO);
    if (out.skmem && out.skmem->count > SK_MEMINFO_WMEM_ALLOC) {
        out.rqueue = out.skmem->values[SK_MEMINFO_RMEM_ALLOC];
        out.wqueue = out.skmem->values[SK_MEMINFO_WMEM_ALLOC];
    }
    Socket::Netlink& n = out.netlink;
    n.portid = static_cast<std::int32_t>(r->ndiag_portid);
    n.dst_portid = static_cast<std::int32_t>(r->ndiag_dst_portid);
    n.dst_group = r->ndiag_dst_group;
    n.connected = r->ndiag_state == 1;  // NETLINK_CONNECTED
    if (attrs.len(NETLINK_DIAG_GROUPS) >= sizeof(std::uint32_t)) {
        n.groups = attrs.get<std::uint32_t>(NETLINK_DIAG_GROUPS).value_or(0);
    }
    return true;
}

}  // namespace sstrace::diag
