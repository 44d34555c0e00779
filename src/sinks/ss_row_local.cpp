// SPDX-License-Identifier: GPL-2.0-only
// The ss rows of unix, packet and netlink sockets.
#include "sstrace/sinks/ss_row.hpp"

#include "ss_row_parts.hpp"
#include "sstrace/core/netid.hpp"
#include "sstrace/core/state.hpp"
#include "sstrace/sinks/ext_format.hpp"

#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <iterator>
#include <map>

namespace sstrace {

namespace {

std::string netlink_protocol_name(int proto, bool numeric)
{
    static const std::map<int, const char*> kNames{
        {0, "rtnl"},       {1, "unused"},     {2, "usersock"},   {3, "fw"},
        {4, "tcpdiag"},    {5, "nflog"},      {6, "xfrm"},       {7, "selinux"},
        {8, "iscsi"},      {9, "audit"},      {10, "fiblookup"}, {11, "connector"},
        {12, "nft"},       {13, "ip6fw"},     {14, "dec-rt"},    {15, "uevent"},
        {16, "genl"},      {18, "scsi-trans"}, {19, "ecryptfs"}, {20, "rdma"},
        {21, "crypto"},    {22, "smc"},
    };
    if (!numeric && proto >= 0 && proto < 256) {
        const auto it = kNames.find(proto);
        if (it != kNames.end()) {
            return it->second;
        }
    }
    return std::to_string(proto);
}

std::string ethertype_name(unsigned proto, bool numeric)
{
    if (numeric) {
        return fmt::format("[{}]", proto);
    }
    static const std::map<unsigned, const char*> kNames{
        {0x0001, "802_3"},  {0x0002, "ax25"},    {0x0004, "802_2"},    {0x0005, "snap"},
        {0x0060, "loop"},   {0x0800, "ip"},      {0x0805, "x25"},      {0x0806, "arp"},
        {0x8035, "rarp"},   {0x809B, "atalk"},   {0x80F3, "aarp"},     {0x8100, "802.1Q"},
        {0x8137, "ipx"},    {0x86DD, "ipv6"},    {0x8863, "ppp_disc"}, {0x8864, "ppp_ses"},
        {0x8847, "mpls_uc"}, {0x8848, "mpls_mc"}, {0x88A8, "802.1ad"}, {0x88CC, "lldp"},
        {0x6558, "teb"},    {0x000C, "can"},     {0x0019, "control"}, {0x0017, "irda"},
    };
    const auto it = kNames.find(proto);
    if (it != kNames.end()) {
        return it->second;
    }
    return fmt::format("[{}]", proto);
}

void append_ring(std::string& out, const char* nl_tab, const char* name,
                 const packet_diag_ring& ring)
{
    fmt::format_to(std::back_inserter(out),
                   "{}{}blk_size:{},blk_nr:{},frm_size:{},frm_nr:{},tmo:{},features:0x{:x})",
                   nl_tab, name, static_cast<int>(ring.pdr_block_size),
                   static_cast<int>(ring.pdr_block_nr), static_cast<int>(ring.pdr_frame_size),
                   static_cast<int>(ring.pdr_frame_nr), static_cast<int>(ring.pdr_retire_tmo),
                   ring.pdr_features);
}

}  // namespace

void SsColumns::unix_row(const Socket& s)
{
    const Socket::UnixDomain& u = s.unix_domain;
    state_fields(unix_netid(s.type), s.state, s.rqueue, s.wqueue);
    fields_[kColLocalAddr] = u.name.empty() ? "*" : u.name;
    fields_[kColLocalAddr] += ' ';
    fields_[kColLocalPort] = std::to_string(s.inode);
    fields_[kColPeerAddr] = "* ";
    fields_[kColPeerPort] = std::to_string(u.peer_inode);
    std::string& ext = fields_[kColExt];
    append_users(ext, s);
    if (options_.memory && s.skmem) {
        append_skmem(ext, s.skmem->view());
    }
    if (!options_.extended) {
        return;
    }
    if (s.shutdown) {
        append_shutdown(ext, *s.shutdown);
    }
    if (u.vfs) {
        fmt::format_to(std::back_inserter(ext), " ino:{} dev:{}/{}", u.vfs->udiag_vfs_ino,
                       major(u.vfs->udiag_vfs_dev), minor(u.vfs->udiag_vfs_dev));
    }
    if (u.pending) {
        ext += " peers:";
        for (const std::uint32_t ino : *u.pending) {
            fmt::format_to(std::back_inserter(ext), " {}", ino);
        }
    }
}

void SsColumns::packet_row(const Socket& s)
{
    state_fields(packet_netid(s.type), kStateClose, s.rqueue, 0);
    const auto proto = static_cast<unsigned>(s.protocol);
    fields_[kColLocalAddr] = proto == 3 ? std::string("*") : ethertype_name(proto, options_.numeric);
    fields_[kColLocalAddr] += ':';
    fields_[kColLocalPort] = s.ifindex == 0 ? std::string("*") : ifname(s.ifindex);
    fields_[kColPeerAddr] = "*";
    std::string& ext = fields_[kColExt];
    append_users(ext, s);
    if (options_.extended) {
        packet_details(ext, s);
    }
    if (options_.bpf && s.packet.filter) {
        auto to = std::back_inserter(ext);
        fmt::format_to(to, "{}bpf filter ({}): ", nl_tab(), s.packet.filter->size());
        for (const sock_filter& insn : *s.packet.filter) {
            fmt::format_to(to, " 0x{:02x} {} {} {},", insn.code, insn.jt, insn.jf, insn.k);
        }
    }
    if (options_.memory && s.skmem) {
        append_skmem(ext, s.skmem->view());
    }
}

void SsColumns::packet_details(std::string& out, const Socket& s)
{
    auto to = std::back_inserter(out);
    if (s.uid != 0) {
        fmt::format_to(to, " uid:{}", s.uid);
    }
    fmt::format_to(to, " ino:{} sk:{:x}", s.inode, s.cookie);
    const Socket::Packet& p = s.packet;
    if (p.info) {
        fmt::format_to(to, "{}ver:{} cpy_thresh:{} flags( ", nl_tab(),
                       static_cast<int>(p.info->pdi_version),
                       static_cast<int>(p.info->pdi_copy_thresh));
        const std::uint32_t flags = p.info->pdi_flags;
        if ((flags & PDI_RUNNING) != 0) {
            out += "running";
        }
        if ((flags & PDI_AUXDATA) != 0) {
            out += " auxdata";
        }
        if ((flags & PDI_ORIGDEV) != 0) {
            out += " origdev";
        }
        if ((flags & PDI_VNETHDR) != 0) {
            out += " vnethdr";
        }
        if ((flags & PDI_LOSS) != 0) {
            out += " loss";
        }
        if (flags == 0) {
            out += "0";
        }
        out += " )";
    }
    if (p.rx_ring) {
        append_ring(out, nl_tab(), "ring_rx(", *p.rx_ring);
    }
    if (p.tx_ring) {
        append_ring(out, nl_tab(), "ring_tx(", *p.tx_ring);
    }
    if (p.fanout) {
        static constexpr const char* kTypes[] = {"hash", "lb", "cpu", "roll", "random", "qm"};
        const unsigned type = (*p.fanout >> 16) & 0xffff;
        fmt::format_to(to, "{}fanout(id:{},type:", nl_tab(), *p.fanout & 0xffff);
        if (type < std::size(kTypes)) {
            out += kTypes[type];
        } else {
            fmt::format_to(to, "0x{:x}", type);
        }
        out += ')';
    }
}

void SsColumns::netlink_row(const Socket& s)
{
    const Socket::Netlink& n = s.netlink;
    state_fields(kNetlinkNetid, kStateClose, s.rqueue, s.wqueue);
    fields_[kColLocalAddr] = netlink_protocol_name(s.protocol, options_.numeric) + ":";
    fields_[kColLocalPort] = netlink_port_owner(n.portid);
    if (n.connected) {
        fields_[kColPeerAddr] = std::to_string(n.dst_group) + ":";
        fields_[kColPeerPort] = std::to_string(n.dst_portid);
    } else {
        fields_[kColPeerAddr] = "*";
    }
    std::string& ext = fields_[kColExt];
    if (options_.extended) {
        // From sock_diag ss 6.1 prints zeros for both addresses.
        fmt::format_to(std::back_inserter(ext), " sk={:x} cb={:x} groups=0x{:08x}", n.sk_addr,
                       n.cb_addr, n.groups);
    }
    if (options_.memory && s.origin == Origin::SockDiag) {
        ext += '\t';
        if (s.skmem) {
            append_skmem(ext, s.skmem->view());
        }
    }
}

// `*` for an unbound socket, `kernel`, or `COMM/PID` from /proc/PID/stat (numbers with -n).
std::string SsColumns::netlink_port_owner(int portid) const
{
    if (portid == -1) {
        return "*";
    }
    if (options_.numeric) {
        return std::to_string(portid);
    }
    if (portid == 0) {
        return "kernel";
    }
    if (portid > 0) {
        std::ifstream in(fmt::format("{}/{}/stat", proc_dir_, portid));
        std::string content;
        if (in && std::getline(in, content)) {
            const std::size_t open = content.find('(');
            const std::size_t close = content.find(')', open == std::string::npos ? 0 : open);
            if (open != std::string::npos && close != std::string::npos && close > open + 1) {
                return content.substr(open + 1, close - open - 1) + "/" + std::to_string(portid);
            }
        }
    }
    return std::to_string(portid);
}

}  // namespace sstrace
