// SPDX-License-Identifier: GPL-2.0-only
// inet_diag answers (TCP, UDP, RAW, MPTCP, ...) -> Socket.
#include "parse.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/mptcp.h>
#include <sys/socket.h>

#include <cstring>

namespace sstrace::diag {

namespace {

void parse_mptcp_subflow(const AttrTable& sub, MptcpSubflow& out)
{
    out.flags = sub.get<std::uint32_t>(MPTCP_SUBFLOW_ATTR_FLAGS);
    out.token_rem = sub.get<std::uint32_t>(MPTCP_SUBFLOW_ATTR_TOKEN_REM);
    out.token_loc = sub.get<std::uint32_t>(MPTCP_SUBFLOW_ATTR_TOKEN_LOC);
    out.id_rem = sub.get<std::uint8_t>(MPTCP_SUBFLOW_ATTR_ID_REM);
    out.id_loc = sub.get<std::uint8_t>(MPTCP_SUBFLOW_ATTR_ID_LOC);
    out.map_seq = sub.get<std::uint64_t>(MPTCP_SUBFLOW_ATTR_MAP_SEQ);
    out.map_sfseq = sub.get<std::uint32_t>(MPTCP_SUBFLOW_ATTR_MAP_SFSEQ);
    out.ssn_offset = sub.get<std::uint32_t>(MPTCP_SUBFLOW_ATTR_SSN_OFFSET);
    out.map_datalen = sub.get<std::uint32_t>(MPTCP_SUBFLOW_ATTR_MAP_DATALEN);
}

void parse_tcp(const AttrTable& attrs, Socket::Tcp& tcp)
{
    tcp.info = attrs.get<tcp_info>(INET_DIAG_INFO);
    tcp.cong = attrs.text(INET_DIAG_CONG, 15);
    tcp.vegas = attrs.get<tcpvegas_info>(INET_DIAG_VEGASINFO);
    tcp.dctcp = attrs.get<tcp_dctcp_info>(INET_DIAG_DCTCPINFO);
    tcp.bbr = attrs.get<tcp_bbr_info>(INET_DIAG_BBRINFO);
    tcp.md5keys = attrs.get_array<tcp_diag_md5sig>(INET_DIAG_MD5SIG);
    if (attrs.has(INET_DIAG_ULP_INFO)) {
        AttrTable ulp;
        attrs.parse_nested(INET_DIAG_ULP_INFO, ulp);
        if (ulp.has(INET_ULP_INFO_NAME)) {
            tcp.ulp = ulp.text(INET_ULP_INFO_NAME, ulp.len(INET_ULP_INFO_NAME));
        }
        if (ulp.has(INET_ULP_INFO_MPTCP)) {
            AttrTable sub;
            ulp.parse_nested(INET_ULP_INFO_MPTCP, sub);
            parse_mptcp_subflow(sub, tcp.mptcp.emplace());
        }
    }
}

}  // namespace

bool parse_inet(const nlmsghdr* h, int table_protocol, Socket& out)
{
    AttrTable attrs;
    const auto* r = header_of<inet_diag_msg>(h, attrs);
    if (r == nullptr) {
        return false;
    }

    out.family = r->idiag_family;
    const auto own_protocol = attrs.get<std::uint8_t>(INET_DIAG_PROTOCOL);
    out.protocol = own_protocol ? *own_protocol : table_protocol;  // MPTCP's 262 is no u8
    out.state = r->idiag_state;
    out.rqueue = r->idiag_rqueue;
    out.wqueue = r->idiag_wqueue;
    out.uid = r->idiag_uid;
    out.inode = r->idiag_inode;
    out.cookie = cookie_of(r->id.idiag_cookie);
    out.ifindex = r->id.idiag_if;
    out.timer = SocketTimer{r->idiag_timer, r->idiag_expires, r->idiag_retrans};

    Socket::Inet& inet = out.inet;
    inet.local.addr.family = inet.peer.addr.family = r->idiag_family;
    const std::size_t alen = r->idiag_family == AF_INET ? 4 : 16;
    std::memcpy(inet.local.addr.bytes, r->id.idiag_src, alen);
    std::memcpy(inet.peer.addr.bytes, r->id.idiag_dst, alen);
    inet.local.port = ntohs(r->id.idiag_sport);
    inet.peer.port = ntohs(r->id.idiag_dport);

    out.mark = attrs.get<std::uint32_t>(INET_DIAG_MARK).value_or(0);
    out.cgroup_id = attrs.get<std::uint64_t>(INET_DIAG_CGROUP_ID);
    out.shutdown = attrs.get<std::uint8_t>(INET_DIAG_SHUTDOWN);
    if (r->idiag_family == AF_INET6) {
        if (auto v6only = attrs.get<std::uint8_t>(INET_DIAG_SKV6ONLY)) {
            inet.v6only = *v6only != 0;
        }
    }
    inet.tos = attrs.get<std::uint8_t>(INET_DIAG_TOS);
    inet.tclass = attrs.get<std::uint8_t>(INET_DIAG_TCLASS);
    inet.class_id = attrs.get<std::uint32_t>(INET_DIAG_CLASS_ID);
    if (attrs.len(INET_DIAG_SOCKOPT) >= sizeof(inet_diag_sockopt)) {
        inet.sockopt = attrs.get<inet_diag_sockopt>(INET_DIAG_SOCKOPT);
    }
    inet.meminfo = attrs.get<inet_diag_meminfo>(INET_DIAG_MEMINFO);
    out.skmem = get_skmem(attrs, INET_DIAG_SKMEMINFO);
    parse_tcp(attrs, out.tcp);
    return true;
}

}  // namespace sstrace::diag
