// SPDX-License-Identifier: GPL-2.0-only
// `sstrace` without -E: the socket listing of iproute2 6.1's ss.
#include "sstrace/dump.hpp"

#include "netlink_diag.hpp"
#include "proc_users.hpp"
#include "sstrace/core/parse.hpp"
#include "sstrace/core/unique.hpp"
#include "sstrace/error.hpp"
#include "sstrace/ext_format.hpp"
#include "sstrace/filter.hpp"
#include "sstrace/selection.hpp"
#include "sstrace/ss_usage.hpp"
#include "sstrace/table.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/tcp.h>
#include <linux/mptcp.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOCK_DESTROY
#define SOCK_DESTROY 21
#endif

namespace sstrace {

namespace {

std::uint64_t cookie_of(const std::uint32_t cookie[2])
{
    return static_cast<std::uint64_t>(cookie[0]) |
           (static_cast<std::uint64_t>(cookie[1]) << 32);
}

const char* inet_netid(int protocol)
{
    switch (protocol) {
    case 0:
        return "raw";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_MPTCP:
        return "mptcp";
    case IPPROTO_SCTP:
        return "sctp";
    case IPPROTO_DCCP:
        return "dccp";
    case IPPROTO_ICMPV6:
        return "icmp6";
    default:
        return "???";
    }
}

const char* unix_netid(int type)
{
    switch (type) {
    case SOCK_STREAM:
        return "u_str";
    case SOCK_SEQPACKET:
        return "u_seq";
    case SOCK_DGRAM:
        return "u_dgr";
    default:
        return "???";
    }
}

std::string netlink_proto_name(int proto, bool numeric)
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

ServiceNames make_services(bool numeric, const Environment& env)
{
    const std::string path = env.proc_path(ProcFile::LocalPortRange);
    if (auto r = read_ephemeral_range(path.c_str())) {
        return ServiceNames(numeric, r->first, r->second);
    }
    return ServiceNames(numeric, 1024, 4999);
}

class Dumper {
public:
    Dumper(const Options& opts, const Environment& env, const Selection& sel,
           const DumpFilter& filter)
        : o_(opts),
          env_(env),
          sel_(sel),
          pred_(filter.row),
          bytecode_(filter.inet_bytecode),
          table_(stdout, stdout_screen_width()),
          services_(make_services(opts.numeric, env))
    {
        show_options_ = opts.timers;
        show_users_ = opts.processes || opts.threads;
    }

    void setup_columns()
    {
        table_.set_disabled(kColNetid, (sel_.tables & (sel_.tables - 1)) == 0);
        table_.set_disabled(kColState, (sel_.states & (sel_.states - 1)) == 0);
        table_.set_disabled(kColTail, true);  // 6.1 never enables it
        if (!o_.no_header) {
            table_.add_header();
        }
    }

    void run()
    {
        if (show_users_) {
            users_.scan(env_.proc_dir(), o_.threads);
        }
        if (sel_.has_table(kDbNetlink)) {
            show_netlink();
        }
        if ((sel_.tables & (table_bit(kDbPacketDgram) | table_bit(kDbPacketRaw))) != 0) {
            show_packet();
        }
        if ((sel_.tables & (table_bit(kDbUnixDgram) | table_bit(kDbUnixStream) |
                            table_bit(kDbUnixSeqpacket))) != 0) {
            show_unix();
        }
        if (sel_.has_table(kDbRaw)) {
            show_raw();
        }
        if (sel_.has_table(kDbUdp)) {
            show_inet(IPPROTO_UDP, "udp");
        }
        if (sel_.has_table(kDbTcp)) {
            show_inet(IPPROTO_TCP, "tcp");
        }
        if (sel_.has_table(kDbDccp)) {
            show_inet(IPPROTO_DCCP, last_proto_);
        }
        if (sel_.has_table(kDbSctp)) {
            show_inet(IPPROTO_SCTP, last_proto_);
        }
        if (sel_.has_table(kDbMptcp)) {
            show_inet(IPPROTO_MPTCP, last_proto_);
        }
        table_.flush();
    }

    // ss -D: the raw TCP dump.
    void raw_tcp_dump(std::FILE* out)
    {
        for (const int family : inet_families()) {
            auto req = inet_request(family, IPPROTO_TCP);
            diag().dump(req.data(), req.size(), [](const nlmsghdr*) { return 0; }, out);
        }
    }

private:
    DiagSocket& diag()
    {
        if (!diag_) {
            diag_ = std::make_unique<DiagSocket>();
        }
        return *diag_;
    }

    std::vector<int> inet_families() const
    {
        if (sel_.preferred_family == AF_INET6) {
            return {AF_INET6};
        }
        if (sel_.preferred_family == AF_INET) {
            return {AF_INET};
        }
        return {AF_INET, AF_INET6};
    }

    std::vector<char> inet_request(int family, int protocol) const
    {
        struct Req {
            nlmsghdr nlh;
            inet_diag_req_v2 r;
        };
        const bool ext_proto = protocol > 255;
        const std::size_t bc_len = bytecode_.empty() ? 0 : RTA_SPACE(bytecode_.size());
        const std::size_t attr_len = bc_len + (ext_proto ? RTA_SPACE(sizeof(std::uint32_t)) : 0);
        std::vector<char> buf(sizeof(Req) + attr_len, 0);
        auto* req = reinterpret_cast<Req*>(buf.data());
        req->nlh.nlmsg_len = static_cast<std::uint32_t>(buf.size());
        req->nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req->nlh.nlmsg_seq = 123456;
        req->r.sdiag_family = static_cast<std::uint8_t>(family);
        req->r.sdiag_protocol = static_cast<std::uint8_t>(ext_proto ? IPPROTO_TCP : protocol);
        req->r.idiag_states = sel_.states;
        std::uint8_t ext = 0;
        if (o_.memory) {
            ext |= 1u << (INET_DIAG_MEMINFO - 1);
            ext |= 1u << (INET_DIAG_SKMEMINFO - 1);
        }
        if (o_.info) {
            ext |= 1u << (INET_DIAG_INFO - 1);
            ext |= 1u << (INET_DIAG_VEGASINFO - 1);
            ext |= 1u << (INET_DIAG_CONG - 1);
        }
        if (o_.tos) {
            ext |= 1u << (INET_DIAG_TOS - 1);
            ext |= 1u << (INET_DIAG_TCLASS - 1);
        }
        req->r.idiag_ext = ext;
        if (!bytecode_.empty()) {
            auto* rta = reinterpret_cast<rtattr*>(buf.data() + sizeof(Req));
            rta->rta_type = INET_DIAG_REQ_BYTECODE;
            rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(bytecode_.size()));
            std::memcpy(RTA_DATA(rta), bytecode_.data(), bytecode_.size());
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

    void clear_fields()
    {
        for (auto& f : fields_) {
            f.clear();
        }
    }

    void emit_row() { table_.add_row(fields_); }

    void state_fields(const char* netid, int state, long long rq, long long wq)
    {
        fields_[kColNetid] = netid;
        fields_[kColState] = std::string(state_name(state));
        // ss keeps the queues in an int: values above INT_MAX print negative there too.
        fields_[kColRecvQ].clear();
        appendf(fields_[kColRecvQ], "%-6d", static_cast<int>(static_cast<std::uint32_t>(rq)));
        fields_[kColSendQ].clear();
        appendf(fields_[kColSendQ], "%-6d", static_cast<int>(static_cast<std::uint32_t>(wq)));
    }

    const std::string& ifname(unsigned ifindex)
    {
        auto it = ifnames_.find(ifindex);
        if (it == ifnames_.end()) {
            it = ifnames_.emplace(ifindex, interface_name(ifindex)).first;
        }
        return it->second;
    }

    void append_users(std::string& out, std::uint64_t ino)
    {
        if (!show_users_) {
            return;
        }
        const std::string u = users_.users(ino);
        if (!u.empty()) {
            out += " users:(";
            out += u;
            out += ')';
        }
    }

    const char* nl_tab() const { return o_.oneline ? " " : "\n\t"; }

    // ---- inet ---------------------------------------------------------------------------

    std::string raw_port_text(unsigned port)
    {
        if (port == 0) {
            return "*";
        }
        if (o_.numeric) {
            return std::to_string(port);
        }
        const protoent* pe = ::getprotobynumber(static_cast<int>(port));
        if (pe != nullptr) {
            return pe->p_name;
        }
        return fmt::format("ipproto-{}", port);
    }

    void inet_addr_fields(Column addr_col, Column port_col, const InetAddr& a, unsigned port,
                          unsigned ifindex, bool v6only, bool raw)
    {
        std::string& f = fields_[addr_col];
        f = format_inet_host(a, v6only, o_.resolve);
        if (ifindex != 0) {
            f += '%';
            f += ifname(ifindex);
        }
        f += ':';
        if (raw) {
            fields_[port_col] = raw_port_text(port);
        } else {
            fields_[port_col] = services_.port_text(port, proto_for_services_);
        }
    }

    // TCPDIAG_FILE: replays a -D dump instead of asking the kernel (TCP only). Like ss, it
    // stops at the first NLMSG_DONE, so only the IPv4 half of a dump is shown.
    void replay_tcpdiag_file(const std::string& path)
    {
        const UniqueFile fp(std::fopen(path.c_str(), "r"));
        if (!fp) {
            std::fprintf(stderr, "fopen($TCPDIAG_FILE): %s\n", std::strerror(errno));
            return;
        }
        std::vector<char> buf(16384);
        for (;;) {
            auto* h = reinterpret_cast<nlmsghdr*>(buf.data());
            if (std::fread(h, 1, sizeof(*h), fp.get()) != sizeof(*h)) {
                if (std::feof(fp.get()) != 0) {
                    std::fputs("Unexpected EOF reading $TCPDIAG_FILE", stderr);
                }
                return;
            }
            if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > buf.size()) {
                return;
            }
            const std::size_t rest = NLMSG_ALIGN(h->nlmsg_len - sizeof(*h));
            if (std::fread(h + 1, 1, rest, fp.get()) != rest) {
                if (std::feof(fp.get()) != 0) {
                    std::fputs("Unexpected EOF reading $TCPDIAG_FILE", stderr);
                }
                return;
            }
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                return;
            }
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
                return;
            }
            replaying_ = true;
            inet_message(h, IPPROTO_TCP);
            replaying_ = false;
        }
    }

    void show_inet(int protocol, const char* service_proto)
    {
        if (!sel_.has_family(AF_INET) && !sel_.has_family(AF_INET6)) {
            return;  // e.g. a `unix:` operand narrowed the families: ss skips inet tables
        }
        proto_for_services_ = service_proto;
        last_proto_ = service_proto;
        if (protocol == IPPROTO_TCP) {
            if (const auto& file = env_.tcpdiag_file()) {
                replay_tcpdiag_file(*file);
                return;
            }
        }
        if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP && env_.has_proc_root()) {
            return;  // no /proc text for dccp, sctp, mptcp: with PROC_ROOT ss skips them
        }
        if (protocol == IPPROTO_TCP && env_.proc_forced(ProcFile::Tcp)) {
            show_proc_inet(IPPROTO_TCP, ProcFile::Tcp, ProcFile::Tcp6);
            return;
        }
        if (protocol == IPPROTO_UDP && env_.proc_forced(ProcFile::Udp)) {
            show_proc_inet(IPPROTO_UDP, ProcFile::Udp, ProcFile::Udp6);
            return;
        }
        kill_failed_ = false;
        for (const int family : inet_families()) {
            auto req = inet_request(family, protocol);
            const int rc = diag().dump(req.data(), req.size(), [&](const nlmsghdr* h) {
                return inet_message(h, protocol);
            });
            if (rc == 0) {
                continue;
            }
            if (rc == -ENOENT && protocol == IPPROTO_DCCP) {
                // ss 6.1 retries with the legacy DCCPDIAG_GETSOCK, which this kernel rejects.
                std::fputs("RTNETLINK answers: Invalid argument\n", stderr);
                return;
            }
            if (!kill_failed_ && rc != -ENOENT && rc != -EOPNOTSUPP) {
                print_dump_error(rc);
            }
            // A failed dump (a refused SOCK_DESTROY included) ends this table, as in ss; for UDP
            // ss then lists the table from /proc.
            if (protocol == IPPROTO_UDP) {
                show_proc_inet(IPPROTO_UDP, ProcFile::Udp, ProcFile::Udp6);
            }
            return;
        }
    }

    // A dump that the kernel refused with something else than "no such table".
    static void print_dump_error(int rc)
    {
        std::fprintf(stderr, "RTNETLINK answers: %s\n", std::strerror(-rc));
    }

    int kill_socket(const inet_diag_msg* r, int protocol)
    {
        struct Req {
            nlmsghdr nlh;
            inet_diag_req_v2 r;
        } req{};
        req.nlh.nlmsg_len = sizeof(req);
        req.nlh.nlmsg_type = SOCK_DESTROY;
        req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        req.r.sdiag_family = r->idiag_family;
        req.r.sdiag_protocol = static_cast<std::uint8_t>(protocol);
        req.r.id = r->id;
        if (!kill_sock_) {
            kill_sock_ = std::make_unique<DiagSocket>();
        }
        return kill_sock_->request(&req, sizeof(req));
    }

    int inet_message(const nlmsghdr* h, int protocol)
    {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
            return 0;  // truncated: nothing to show
        }
        const auto* r = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
        if (!replaying_ && !sel_.has_family(r->idiag_family)) {
            return 0;
        }
        parse_attrs(attrs_, r + 1, h->nlmsg_len - NLMSG_LENGTH(sizeof(*r)));
        SockRow row;
        row.family = r->idiag_family;
        row.protocol = protocol;
        row.state = r->idiag_state;
        row.local.family = row.peer.family = r->idiag_family;
        const std::size_t alen = r->idiag_family == AF_INET ? 4 : 16;
        std::memcpy(row.local.bytes, r->id.idiag_src, alen);
        std::memcpy(row.peer.bytes, r->id.idiag_dst, alen);
        row.local_port = ntohs(r->id.idiag_sport);
        row.peer_port = ntohs(r->id.idiag_dport);
        row.ifindex = r->id.idiag_if;
        row.inode = r->idiag_inode;
        if (attrs_.has(INET_DIAG_MARK)) {
            std::memcpy(&row.mark, attrs_.data(INET_DIAG_MARK), sizeof(row.mark));
        }
        if (attrs_.has(INET_DIAG_CGROUP_ID)) {
            std::memcpy(&row.cgroup_id, attrs_.data(INET_DIAG_CGROUP_ID), sizeof(row.cgroup_id));
        }
        if (pred_ && !pred_(row)) {
            return 0;
        }
        if (o_.kill) {
            const int rc = kill_socket(r, protocol);
            if (rc == -EOPNOTSUPP || rc == -ENOENT) {
                return 0;
            }
            if (rc < 0) {
                std::fprintf(stderr, "SOCK_DESTROY answers: %s\n", std::strerror(-rc));
                kill_failed_ = true;
                return rc;
            }
        }
        int netproto = protocol;
        if (attrs_.has(INET_DIAG_PROTOCOL)) {
            netproto = *static_cast<const std::uint8_t*>(attrs_.data(INET_DIAG_PROTOCOL));
        }
        bool v6only = false;
        const bool has_v6only = r->idiag_family == AF_INET6 && attrs_.has(INET_DIAG_SKV6ONLY);
        if (has_v6only) {
            v6only = *static_cast<const std::uint8_t*>(attrs_.data(INET_DIAG_SKV6ONLY)) != 0;
        }
        clear_fields();
        state_fields(inet_netid(netproto), r->idiag_state, r->idiag_rqueue, r->idiag_wqueue);
        inet_addr_fields(kColLocalAddr, kColLocalPort, row.local, row.local_port, row.ifindex,
                         v6only, false);
        inet_addr_fields(kColPeerAddr, kColPeerPort, row.peer, row.peer_port, 0, v6only, false);
        std::string& ext = fields_[kColExt];
        append_users(ext, row.inode);
        if (show_options_) {
            append_timer(ext, r->idiag_timer, r->idiag_expires, r->idiag_retrans);
        }
        if (o_.extended) {
            if (r->idiag_uid != 0) {
                appendf(ext, " uid:%u", r->idiag_uid);
            }
            appendf(ext, " ino:%u", r->idiag_inode);
            appendf(ext, " sk:%llx", static_cast<unsigned long long>(cookie_of(r->id.idiag_cookie)));
            if (row.mark != 0) {
                appendf(ext, " fwmark:0x%x", row.mark);
            }
            if (row.cgroup_id != 0) {
                ext += " cgroup:";
                ext += cgroups_.path(row.cgroup_id);
            }
            if (has_v6only) {
                appendf(ext, " v6only:%u", v6only ? 1u : 0u);
            }
            if (attrs_.has(INET_DIAG_SHUTDOWN)) {
                const auto mask = *static_cast<const std::uint8_t*>(attrs_.data(INET_DIAG_SHUTDOWN));
                appendf(ext, " %c-%c", (mask & 1) != 0 ? '-' : '<', (mask & 2) != 0 ? '-' : '>');
            }
        }
        if (o_.tos) {
            if (attrs_.has(INET_DIAG_TOS)) {
                appendf(ext, " tos:%#x",
                        static_cast<unsigned>(*static_cast<const std::uint8_t*>(attrs_.data(INET_DIAG_TOS))));
            }
            if (attrs_.has(INET_DIAG_TCLASS)) {
                appendf(ext, " tclass:%#x",
                        static_cast<unsigned>(*static_cast<const std::uint8_t*>(attrs_.data(INET_DIAG_TCLASS))));
            }
            if (attrs_.has(INET_DIAG_CLASS_ID)) {
                std::uint32_t cls = 0;
                std::memcpy(&cls, attrs_.data(INET_DIAG_CLASS_ID), sizeof(cls));
                appendf(ext, " class_id:%#x", cls);
            }
        }
        if (o_.cgroup && attrs_.has(INET_DIAG_CGROUP_ID)) {
            ext += " cgroup:";
            ext += cgroups_.path(row.cgroup_id);
        }
        if (o_.inet_sockopt && attrs_.len(INET_DIAG_SOCKOPT) >= sizeof(inet_diag_sockopt)) {
            inet_diag_sockopt so{};
            std::memcpy(&so, attrs_.data(INET_DIAG_SOCKOPT), sizeof(so));
            ext += o_.oneline ? " inet-sockopt: (" : "\n\tinet-sockopt: (";
            if (so.recverr != 0) ext += " recverr";
            if (so.is_icsk != 0) ext += " is_icsk";
            if (so.freebind != 0) ext += " freebind";
            if (so.hdrincl != 0) ext += " hdrincl";
            if (so.mc_loop != 0) ext += " mc_loop";
            if (so.transparent != 0) ext += " transparent";
            if (so.mc_all != 0) ext += " mc_all";
            if (so.nodefrag != 0) ext += " nodefrag";
            if (so.bind_address_no_port != 0) ext += " bind_addr_no_port";
            if (so.recverr_rfc4884 != 0) ext += " recverr_rfc4884";
            if (so.defer_connect != 0) ext += " defer_connect";
            ext += ')';
        }
        if (o_.memory || (o_.info && netproto != IPPROTO_UDP)) {
            if (!o_.oneline) {
                ext += "\n\t";
            }
            tcp_show_info(ext, r);
        }
        emit_row();
        return 0;
    }

    void tcp_show_info(std::string& ext, const inet_diag_msg* r)
    {
        if (attrs_.has(INET_DIAG_SKMEMINFO)) {
            append_skmem(ext, std::span<const std::uint32_t>(
                                  static_cast<const std::uint32_t*>(attrs_.data(INET_DIAG_SKMEMINFO)),
                                  attrs_.len(INET_DIAG_SKMEMINFO) / sizeof(std::uint32_t)));
        } else if (attrs_.has(INET_DIAG_MEMINFO)) {
            inet_diag_meminfo mi{};
            std::memcpy(&mi, attrs_.data(INET_DIAG_MEMINFO),
                        std::min(sizeof(mi), attrs_.len(INET_DIAG_MEMINFO)));
            appendf(ext, " mem:(r%u,w%u,f%u,t%u)", mi.idiag_rmem, mi.idiag_wmem, mi.idiag_fmem,
                    mi.idiag_tmem);
        }
        if (attrs_.has(INET_DIAG_INFO)) {
            TcpInfoInput in;
            in.info = attrs_.data(INET_DIAG_INFO);
            in.info_len = attrs_.len(INET_DIAG_INFO);
            if (attrs_.has(INET_DIAG_CONG)) {
                const auto* s = static_cast<const char*>(attrs_.data(INET_DIAG_CONG));
                in.cong = std::string_view(s, strnlen(s, std::min<std::size_t>(attrs_.len(INET_DIAG_CONG), 15)));
            }
            in.vegas = attrs_.data(INET_DIAG_VEGASINFO);
            in.vegas_len = attrs_.len(INET_DIAG_VEGASINFO);
            in.dctcp = attrs_.data(INET_DIAG_DCTCPINFO);
            in.dctcp_len = attrs_.len(INET_DIAG_DCTCPINFO);
            in.bbr = attrs_.data(INET_DIAG_BBRINFO);
            in.bbr_len = attrs_.len(INET_DIAG_BBRINFO);
            in.state = r->idiag_state;
            in.show_options = show_options_;
            in.numeric = o_.numeric;
            append_tcp_info(ext, in);
        }
        if (attrs_.has(INET_DIAG_MD5SIG)) {
            append_md5keys(ext, attrs_.data(INET_DIAG_MD5SIG), attrs_.len(INET_DIAG_MD5SIG));
        }
        if (attrs_.has(INET_DIAG_ULP_INFO)) {
            AttrTable ulp;
            parse_attrs(ulp, attrs_.data(INET_DIAG_ULP_INFO), attrs_.len(INET_DIAG_ULP_INFO));
            if (ulp.has(INET_ULP_INFO_NAME)) {
                const auto* s = static_cast<const char*>(ulp.data(INET_ULP_INFO_NAME));
                ext += " tcp-ulp-";
                ext.append(s, strnlen(s, ulp.len(INET_ULP_INFO_NAME)));
            }
            if (ulp.has(INET_ULP_INFO_MPTCP)) {
                AttrTable sub;
                parse_attrs(sub, ulp.data(INET_ULP_INFO_MPTCP), ulp.len(INET_ULP_INFO_MPTCP));
                append_mptcp_subflow(ext, sub);
            }
        }
    }

    // MPTCP subflow details; 6.1 prints the sequence numbers in hex.
    static void append_mptcp_subflow(std::string& ext, const AttrTable& sub)
    {
        auto u32 = [&](int type) {
            std::uint32_t v = 0;
            std::memcpy(&v, sub.data(type), std::min(sizeof(v), sub.len(type)));
            return v;
        };
        auto u8 = [&](int type) {
            return sub.len(type) >= 1 ? *static_cast<const std::uint8_t*>(sub.data(type)) : 0;
        };
        if (sub.has(MPTCP_SUBFLOW_ATTR_FLAGS)) {
            const std::uint32_t flags = u32(MPTCP_SUBFLOW_ATTR_FLAGS);
            static constexpr std::pair<std::uint32_t, char> kCaps[] = {
                {MPTCP_SUBFLOW_FLAG_MCAP_REM, 'M'}, {MPTCP_SUBFLOW_FLAG_MCAP_LOC, 'm'},
                {MPTCP_SUBFLOW_FLAG_JOIN_REM, 'J'}, {MPTCP_SUBFLOW_FLAG_JOIN_LOC, 'j'},
                {MPTCP_SUBFLOW_FLAG_BKUP_REM, 'B'}, {MPTCP_SUBFLOW_FLAG_BKUP_LOC, 'b'},
                {MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED, 'e'}, {MPTCP_SUBFLOW_FLAG_CONNECTED, 'c'},
                {MPTCP_SUBFLOW_FLAG_MAPVALID, 'v'},
            };
            if (flags != 0) {
                ext += " flags:";
                for (const auto& [bit, ch] : kCaps) {
                    if ((flags & bit) != 0) {
                        ext += ch;
                    }
                }
            }
        }
        if (sub.has(MPTCP_SUBFLOW_ATTR_TOKEN_REM) && sub.has(MPTCP_SUBFLOW_ATTR_TOKEN_LOC) &&
            sub.has(MPTCP_SUBFLOW_ATTR_ID_REM) && sub.has(MPTCP_SUBFLOW_ATTR_ID_LOC)) {
            appendf(ext, " token:%04x(id:%u)/%04x(id:%u)", u32(MPTCP_SUBFLOW_ATTR_TOKEN_REM),
                    static_cast<unsigned>(u8(MPTCP_SUBFLOW_ATTR_ID_REM)),
                    u32(MPTCP_SUBFLOW_ATTR_TOKEN_LOC),
                    static_cast<unsigned>(u8(MPTCP_SUBFLOW_ATTR_ID_LOC)));
        }
        if (sub.has(MPTCP_SUBFLOW_ATTR_MAP_SEQ)) {
            std::uint64_t seq = 0;
            std::memcpy(&seq, sub.data(MPTCP_SUBFLOW_ATTR_MAP_SEQ),
                        std::min(sizeof(seq), sub.len(MPTCP_SUBFLOW_ATTR_MAP_SEQ)));
            appendf(ext, " seq:%llx", static_cast<unsigned long long>(seq));
        }
        if (sub.has(MPTCP_SUBFLOW_ATTR_MAP_SFSEQ)) {
            appendf(ext, " sfseq:%x", u32(MPTCP_SUBFLOW_ATTR_MAP_SFSEQ));
        }
        if (sub.has(MPTCP_SUBFLOW_ATTR_SSN_OFFSET)) {
            appendf(ext, " ssnoff:%x", u32(MPTCP_SUBFLOW_ATTR_SSN_OFFSET));
        }
        if (sub.has(MPTCP_SUBFLOW_ATTR_MAP_DATALEN)) {
            appendf(ext, " maplen:%x", u32(MPTCP_SUBFLOW_ATTR_MAP_DATALEN));
        }
    }

    // ---- raw (/proc/net/raw fallback) ----------------------------------------------------

    void show_raw()
    {
        proto_for_services_ = "raw";
        last_proto_ = "raw";
        if (!env_.proc_forced(ProcFile::Raw)) {
            bool netlink_ok = true;
            for (const int family : inet_families()) {
                auto req = inet_request(family, IPPROTO_RAW);
                const int rc = diag().dump(req.data(), req.size(), [&](const nlmsghdr* h) {
                    return inet_message(h, IPPROTO_RAW);
                });
                if (rc < 0) {
                    netlink_ok = false;
                    break;
                }
            }
            if (netlink_ok) {
                return;
            }
        }
        show_proc_inet(IPPROTO_RAW, ProcFile::Raw, ProcFile::Raw6);
    }

    // ss reads /proc text instead of netlink when PROC_ROOT or the table's PROC_NET_* is set.
    // The table from a sock_diag dump, or from the /proc text ss falls back to: when
    // PROC_NET_<X> (or PROC_ROOT) forces it, or when the dump fails.
    template <typename OnMessage, typename ReadProc>
    void dump_or_proc(const void* req, std::size_t len, OnMessage&& on_message, ProcFile file,
                      ReadProc&& read_proc)
    {
        if (env_.proc_forced(file) || diag().dump(req, len, on_message) < 0) {
            read_proc(env_.proc_path(file));
        }
    }

    // Calls fn(line) for every line of a /proc socket table after its header line.
    template <typename Fn>
    static void for_each_proc_line(const std::string& path, Fn&& fn)
    {
        const UniqueFile fp(std::fopen(path.c_str(), "r"));
        if (!fp) {
            return;
        }
        char line[256];
        if (std::fgets(line, sizeof(line), fp.get()) == nullptr) {
            return;
        }
        while (std::fgets(line, sizeof(line), fp.get()) != nullptr) {
            fn(static_cast<const char*>(line));
        }
    }

    void show_proc_inet(int protocol, ProcFile v4, ProcFile v6)
    {
        if (sel_.has_family(AF_INET)) {
            proc_inet(env_.proc_path(v4), AF_INET, protocol);
        }
        if (sel_.has_family(AF_INET6)) {
            proc_inet(env_.proc_path(v6), AF_INET6, protocol);
        }
    }

    static bool parse_hex_addr(std::string_view text, int family, InetAddr& a, unsigned& port)
    {
        const std::size_t colon = text.find(':');
        if (colon == std::string_view::npos) {
            return false;
        }
        const std::string addr(text.substr(0, colon));
        const std::string p(text.substr(colon + 1));
        a.family = family;
        const std::size_t words = family == AF_INET ? 1 : 4;
        if (addr.size() != words * 8) {
            return false;
        }
        for (std::size_t i = 0; i < words; ++i) {
            const auto w = parse_number<unsigned long long>(std::string_view(addr).substr(i * 8, 8), 16);
            if (!w) {
                return false;
            }
            const auto word = static_cast<std::uint32_t>(*w);
            std::memcpy(a.bytes + i * 4, &word, 4);
        }
        const auto pv = parse_number<unsigned long long>(p, 16);
        if (!pv) {
            return false;
        }
        port = static_cast<unsigned>(*pv);
        return true;
    }

    // One /proc/net/{tcp,udp,raw}[6] file, as ss's /proc path prints it.
    void proc_inet(const std::string& path, int family, int protocol)
    {
        std::ifstream in(path);
        if (!in) {
            return;
        }
        const long hz = ::sysconf(_SC_CLK_TCK) > 0 ? ::sysconf(_SC_CLK_TCK) : 100;
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream ls(line);
            std::string sl, loc, rem, st, queues, timer, retr, uid, probes, inode;
            if (!(ls >> sl >> loc >> rem >> st >> queues >> timer >> retr >> uid >> probes >> inode)) {
                continue;
            }
            const auto st_num = parse_number<unsigned long long>(st, 16);
            const std::size_t colon = queues.find(':');
            const std::size_t tcolon = timer.find(':');
            const auto inode_num = parse_number<unsigned long long>(inode, 10);
            if (!st_num || *st_num >= kStateCount || colon == std::string::npos ||
                tcolon == std::string::npos || !inode_num) {
                continue;
            }
            const auto wq_num = parse_number<unsigned long long>(std::string_view(queues).substr(0, colon), 16);
            const auto rq_num = parse_number<unsigned long long>(std::string_view(queues).substr(colon + 1), 16);
            if (!wq_num || !rq_num) {
                continue;
            }
            const int state = static_cast<int>(*st_num);
            if ((sel_.states & state_bit(state)) == 0) {
                continue;
            }
            SockRow row;
            row.family = family;
            row.protocol = protocol;
            row.state = state;
            if (!parse_hex_addr(loc, family, row.local, row.local_port) ||
                !parse_hex_addr(rem, family, row.peer, row.peer_port)) {
                continue;
            }
            row.inode = *inode_num;
            if (pred_ && !pred_(row)) {
                continue;
            }
            clear_fields();
            const char* netid = protocol == IPPROTO_TCP ? "tcp" : protocol == IPPROTO_UDP ? "udp" : "raw";
            state_fields(netid, state, static_cast<long long>(*rq_num), static_cast<long long>(*wq_num));
            const bool raw = protocol == IPPROTO_RAW;
            inet_addr_fields(kColLocalAddr, kColLocalPort, row.local, row.local_port, 0, false, raw);
            inet_addr_fields(kColPeerAddr, kColPeerPort, row.peer, row.peer_port, 0, false, raw);
            std::string& ext = fields_[kColExt];
            append_users(ext, row.inode);
            if (protocol == IPPROTO_TCP) {
                proc_tcp_ext(ext, ls, timer, tcolon, retr, uid, probes, *inode_num, hz);
            }
            emit_row();
        }
    }

    // The TCP extras of the /proc path: timers, -e (uid, ino, the kernel's socket pointer) and
    // the few tcp_info-like fields the text carries.
    void proc_tcp_ext(std::string& ext, std::istringstream& rest, const std::string& timer,
                      std::size_t tcolon, const std::string& retr, const std::string& uid_text,
                      const std::string& probes_text, unsigned long long inode, long hz)
    {
        std::string refcnt, pointer;
        long long rto = 0, ato = 0, qack = 0, cwnd = 2, ssthresh = -1;
        const bool full = static_cast<bool>(rest >> refcnt >> pointer >> rto >> ato >> qack >> cwnd >> ssthresh);
        if (!full) {
            rto = 0;
            cwnd = 2;
            ssthresh = -1;
            ato = 0;
            qack = 0;
        }
        const auto tr = parse_number<unsigned long long>(std::string_view(timer).substr(0, tcolon), 16).value_or(0);
        const auto when = parse_number<unsigned long long>(std::string_view(timer).substr(tcolon + 1), 16).value_or(0);
        const auto retrans = parse_number<unsigned long long>(retr, 16).value_or(0);
        const auto probes = parse_number<unsigned long long>(probes_text, 10).value_or(0);
        const auto uid = parse_number<unsigned long long>(uid_text, 10).value_or(0);
        if (show_options_) {
            const auto ms = (when * 1000 + static_cast<unsigned long long>(hz) - 1) /
                            static_cast<unsigned long long>(hz);
            append_timer(ext, static_cast<unsigned>(tr), ms,
                         static_cast<unsigned>(tr != 1 ? probes : retrans));
        }
        if (o_.extended) {
            if (uid != 0) {
                appendf(ext, " uid:%llu", uid);
            }
            appendf(ext, " ino:%llu", inode);
            const auto sk = parse_number<unsigned long long>(pointer, 16).value_or(0);
            appendf(ext, " sk:%llx", sk);
        }
        if (o_.info) {
            const double rto_s = rto != 3 * hz ? static_cast<double>(rto) / static_cast<double>(hz) : 0;
            if (rto_s != 0) {
                appendf(ext, " rto:%g", rto_s);
            }
            if (ato != 0) {
                appendf(ext, " ato:%g", static_cast<double>(ato) / static_cast<double>(hz));
            }
            const long long q = qack / 2;
            if (q != 0) {
                appendf(ext, " qack:%lld", q);
            }
            if ((q & 1) != 0) {
                ext += " bidir";
            }
            if (cwnd != 0) {
                appendf(ext, " cwnd:%lld", cwnd);
            }
            if (ssthresh != -1 && ssthresh != 0) {
                appendf(ext, " ssthresh:%lld", ssthresh);
            }
            ext += " reordering:0";
        }
    }

    // ---- unix ----------------------------------------------------------------------------

    void show_unix()
    {
        if (!sel_.has_family(AF_UNIX)) {
            return;
        }
        struct Req {
            nlmsghdr nlh;
            unix_diag_req r;
        } req{};
        req.nlh.nlmsg_len = sizeof(req);
        req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.nlh.nlmsg_seq = 123456;
        req.r.sdiag_family = AF_UNIX;
        req.r.udiag_states = sel_.states;
        req.r.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
        if (o_.memory) {
            req.r.udiag_show |= UDIAG_SHOW_MEMINFO;
        }
        if (o_.extended) {
            req.r.udiag_show |= UDIAG_SHOW_VFS | UDIAG_SHOW_ICONS;
        }
        dump_or_proc(&req, sizeof(req), [&](const nlmsghdr* h) { return unix_message(h); },
                     ProcFile::Unix, [&](const std::string& path) { proc_unix(path); });
    }

    // /proc/net/unix as ss 6.1 reads it: the kernel pointer lands in the peer field (so an
    // unconnected dgram socket counts as ESTAB), then queues and peer are zeroed; rows are
    // sorted by type and inode in batches.
    void proc_unix(const std::string& path)
    {
        const UniqueFile file(std::fopen(path.c_str(), "r"));
        if (!file) {
            return;
        }
        std::FILE* fp = file.get();
        struct Entry {
            int type;
            int state;
            unsigned ino;
            std::string name;
        };
        std::vector<Entry> batch;
        constexpr std::size_t kBatch = 1747;  // ss: 1 MiB worth of its struct sockstat
        auto print_batch = [&] {
            std::stable_sort(batch.begin(), batch.end(), [](const Entry& a, const Entry& b) {
                return a.type != b.type ? a.type < b.type : a.ino < b.ino;
            });
            for (const Entry& e : batch) {
                SockRow row;
                row.family = AF_UNIX;
                row.protocol = e.type;
                row.state = e.state;
                row.inode = e.ino;
                row.unix_path = e.name;
                row.local_port = e.ino;
                if (pred_ && !pred_(row)) {
                    continue;
                }
                clear_fields();
                state_fields(unix_netid(e.type), e.state, 0, 0);
                fields_[kColLocalAddr] = (e.name.empty() ? std::string("*") : e.name) + " ";
                fields_[kColLocalPort] = std::to_string(e.ino);
                fields_[kColPeerAddr] = "* ";
                fields_[kColPeerPort] = "0";
                append_users(fields_[kColExt], e.ino);
                emit_row();
            }
            batch.clear();
        };
        char line[512];
        if (std::fgets(line, sizeof(line), fp) == nullptr) {
            return;
        }
        while (std::fgets(line, sizeof(line), fp) != nullptr) {
            unsigned long long peer = 0;
            unsigned refcnt = 0;
            unsigned proto = 0;
            unsigned flags = 0;
            unsigned type = 0;
            unsigned st = 0;
            unsigned ino = 0;
            char name[256] = {};
            if (std::sscanf(line, "%llx: %x %x %x %x %x %u %255s", &peer, &refcnt, &proto, &flags,
                            &type, &st, &ino, name) < 8) {
                name[0] = '\0';
            }
            static constexpr int kStateMap[] = {kStateClose, kStateSynSent, kStateEstablished,
                                                kStateClosing};
            int state = static_cast<int>(st);
            if ((flags & (1u << 16)) != 0) {
                state = kStateListen;
            } else if (st > 0 && st <= 4) {
                state = kStateMap[st - 1];
                if (type == SOCK_DGRAM && state == kStateClose && static_cast<std::uint32_t>(peer) != 0) {
                    state = kStateEstablished;
                }
            }
            const int t = static_cast<int>(type);
            if ((t == SOCK_STREAM && !sel_.has_table(kDbUnixStream)) ||
                (t == SOCK_DGRAM && !sel_.has_table(kDbUnixDgram)) ||
                (t == SOCK_SEQPACKET && !sel_.has_table(kDbUnixSeqpacket)) ||
                state < 0 || state >= kStateCount || (sel_.states & state_bit(state)) == 0) {
                continue;
            }
            batch.push_back(Entry{t, state, ino, name});
            if (batch.size() > kBatch) {
                print_batch();
            }
        }
        print_batch();
    }

    int unix_message(const nlmsghdr* h)
    {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) {
            return 0;  // truncated: nothing to show
        }
        const auto* r = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
        const int type = r->udiag_type;
        if ((type == SOCK_STREAM && !sel_.has_table(kDbUnixStream)) ||
            (type == SOCK_DGRAM && !sel_.has_table(kDbUnixDgram)) ||
            (type == SOCK_SEQPACKET && !sel_.has_table(kDbUnixSeqpacket))) {
            return 0;
        }
        parse_attrs(attrs_, r + 1, h->nlmsg_len - NLMSG_LENGTH(sizeof(*r)));
        name_.clear();
        if (attrs_.has(UNIX_DIAG_NAME)) {
            const auto* n = static_cast<const char*>(attrs_.data(UNIX_DIAG_NAME));
            const std::size_t len = attrs_.len(UNIX_DIAG_NAME);
            if (len > 0 && n[0] == '\0') {
                name_.assign(n, len);
                for (char& c : name_) {
                    if (c == '\0') {
                        c = '@';
                    }
                }
            } else {
                name_.assign(n, strnlen(n, len));
            }
        }
        SockRow row;
        row.family = AF_UNIX;
        row.protocol = type;
        row.state = r->udiag_state;
        row.inode = r->udiag_ino;
        row.unix_path = name_;
        std::uint32_t peer = 0;
        if (attrs_.has(UNIX_DIAG_PEER)) {
            std::memcpy(&peer, attrs_.data(UNIX_DIAG_PEER), sizeof(peer));
        }
        row.local_port = r->udiag_ino;
        row.peer_port = peer;
        if (pred_ && !pred_(row)) {
            return 0;
        }
        long long rq = 0;
        long long wq = 0;
        if (attrs_.has(UNIX_DIAG_RQLEN)) {
            unix_diag_rqlen q{};
            std::memcpy(&q, attrs_.data(UNIX_DIAG_RQLEN), sizeof(q));
            rq = q.udiag_rqueue;
            wq = q.udiag_wqueue;
        }
        clear_fields();
        state_fields(unix_netid(type), r->udiag_state, rq, wq);
        fields_[kColLocalAddr] = name_.empty() && !attrs_.has(UNIX_DIAG_NAME) ? "*" : name_;
        if (fields_[kColLocalAddr].empty()) {
            fields_[kColLocalAddr] = "*";
        }
        fields_[kColLocalAddr] += ' ';
        fields_[kColLocalPort] = std::to_string(r->udiag_ino);
        fields_[kColPeerAddr] = "* ";
        fields_[kColPeerPort] = std::to_string(peer);
        std::string& ext = fields_[kColExt];
        append_users(ext, r->udiag_ino);
        if (o_.memory && attrs_.has(UNIX_DIAG_MEMINFO)) {
            append_skmem(ext, std::span<const std::uint32_t>(
                                  static_cast<const std::uint32_t*>(attrs_.data(UNIX_DIAG_MEMINFO)),
                                  attrs_.len(UNIX_DIAG_MEMINFO) / sizeof(std::uint32_t)));
        }
        if (o_.extended) {
            if (attrs_.has(UNIX_DIAG_SHUTDOWN)) {
                const auto mask = *static_cast<const std::uint8_t*>(attrs_.data(UNIX_DIAG_SHUTDOWN));
                appendf(ext, " %c-%c", (mask & 1) != 0 ? '-' : '<', (mask & 2) != 0 ? '-' : '>');
            }
            if (attrs_.has(UNIX_DIAG_VFS)) {
                unix_diag_vfs v{};
                std::memcpy(&v, attrs_.data(UNIX_DIAG_VFS), sizeof(v));
                appendf(ext, " ino:%u dev:%u/%u", v.udiag_vfs_ino, major(v.udiag_vfs_dev),
                        minor(v.udiag_vfs_dev));
            }
            if (attrs_.has(UNIX_DIAG_ICONS)) {
                ext += " peers:";
                const auto* p = static_cast<const std::uint32_t*>(attrs_.data(UNIX_DIAG_ICONS));
                const std::size_t n = attrs_.len(UNIX_DIAG_ICONS) / sizeof(std::uint32_t);
                for (std::size_t i = 0; i < n; ++i) {
                    appendf(ext, " %u", p[i]);
                }
            }
        }
        emit_row();
        return 0;
    }

    // ---- packet --------------------------------------------------------------------------

    void show_packet()
    {
        if (!sel_.has_family(AF_PACKET) || (sel_.states & state_bit(kStateClose)) == 0) {
            return;
        }
        struct Req {
            nlmsghdr nlh;
            packet_diag_req r;
        } req{};
        req.nlh.nlmsg_len = sizeof(req);
        req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.nlh.nlmsg_seq = 123456;
        req.r.sdiag_family = AF_PACKET;
        req.r.pdiag_show = PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO | PACKET_SHOW_FILTER |
                           PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT;
        dump_or_proc(&req, sizeof(req), [&](const nlmsghdr* h) { return packet_message(h); },
                     ProcFile::Packet,
                     [&](const std::string& path) { proc_packet(path); });
    }

    // /proc/net/packet, as ss reads it (6.1 checks the packet type before reading it, so
    // the /proc path never filters p_raw/p_dgr; nor does it know the socket cookie).
    void proc_packet(const std::string& path)
    {
        for_each_proc_line(path, [&](const char* line) {
            unsigned long long sk = 0;
            int type = 0;
            unsigned prot = 0;
            int iface = 0;
            int running = 0;
            unsigned rq = 0;
            unsigned uid = 0;
            unsigned ino = 0;
            if (std::sscanf(line, "%llx %*d %d %x %d %d %u %u %u", &sk, &type, &prot, &iface,
                            &running, &rq, &uid, &ino) != 8) {
                return;
            }
            SockRow row;
            row.family = AF_PACKET;
            row.protocol = static_cast<int>(prot);
            row.state = kStateClose;
            row.inode = ino;
            row.ifindex = static_cast<unsigned>(iface);
            row.local_port = row.ifindex;
            if (pred_ && !pred_(row)) {
                return;
            }
            clear_fields();
            state_fields(type == SOCK_RAW ? "p_raw" : "p_dgr", kStateClose, rq, 0);
            fields_[kColLocalAddr] = prot == 3 ? std::string("*") : ethertype_name(prot, o_.numeric);
            fields_[kColLocalAddr] += ':';
            fields_[kColLocalPort] = iface == 0 ? std::string("*") : ifname(row.ifindex);
            fields_[kColPeerAddr] = "*";
            std::string& ext = fields_[kColExt];
            append_users(ext, ino);
            if (o_.extended) {
                if (uid != 0) {
                    appendf(ext, " uid:%u", uid);
                }
                appendf(ext, " ino:%u sk:0", ino);
            }
            emit_row();
        });
    }

    int packet_message(const nlmsghdr* h)
    {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(packet_diag_msg))) {
            return 0;  // truncated: nothing to show
        }
        const auto* r = static_cast<const packet_diag_msg*>(NLMSG_DATA(h));
        parse_attrs(attrs_, r + 1, h->nlmsg_len - NLMSG_LENGTH(sizeof(*r)));
        if (!attrs_.has(PACKET_DIAG_MEMINFO)) {
            return 0;
        }
        const int type = r->pdiag_type;
        if ((type == SOCK_RAW && !sel_.has_table(kDbPacketRaw)) ||
            (type == SOCK_DGRAM && !sel_.has_table(kDbPacketDgram))) {
            return 0;
        }
        const auto* mem = static_cast<const std::uint32_t*>(attrs_.data(PACKET_DIAG_MEMINFO));
        const std::size_t mem_n = attrs_.len(PACKET_DIAG_MEMINFO) / sizeof(std::uint32_t);
        packet_diag_info info{};
        const bool has_info = attrs_.len(PACKET_DIAG_INFO) >= sizeof(info);
        if (has_info) {
            std::memcpy(&info, attrs_.data(PACKET_DIAG_INFO), sizeof(info));
        }
        std::uint32_t uid = 0;
        if (attrs_.has(PACKET_DIAG_UID)) {
            std::memcpy(&uid, attrs_.data(PACKET_DIAG_UID), sizeof(uid));
        }
        SockRow row;
        row.family = AF_PACKET;
        row.protocol = r->pdiag_num;
        row.state = kStateClose;
        row.inode = r->pdiag_ino;
        row.ifindex = has_info ? static_cast<unsigned>(info.pdi_index) : 0;
        row.local_port = row.ifindex;
        if (pred_ && !pred_(row)) {
            return 0;
        }
        clear_fields();
        state_fields(type == SOCK_RAW ? "p_raw" : "p_dgr", kStateClose,
                     mem_n > SK_MEMINFO_RMEM_ALLOC ? mem[SK_MEMINFO_RMEM_ALLOC] : 0, 0);
        fields_[kColLocalAddr] = r->pdiag_num == 3 ? std::string("*") : ethertype_name(r->pdiag_num, o_.numeric);
        fields_[kColLocalAddr] += ':';
        fields_[kColLocalPort] = row.ifindex == 0 ? std::string("*") : ifname(row.ifindex);
        fields_[kColPeerAddr] = "*";
        std::string& ext = fields_[kColExt];
        append_users(ext, r->pdiag_ino);
        if (o_.extended) {
            if (uid != 0) {
                appendf(ext, " uid:%u", uid);
            }
            appendf(ext, " ino:%u", r->pdiag_ino);
            appendf(ext, " sk:%llx", static_cast<unsigned long long>(cookie_of(r->pdiag_cookie)));
            if (has_info) {
                appendf(ext, "%sver:%d", nl_tab(), static_cast<int>(info.pdi_version));
                appendf(ext, " cpy_thresh:%d", static_cast<int>(info.pdi_copy_thresh));
                ext += " flags( ";
                if ((info.pdi_flags & PDI_RUNNING) != 0) ext += "running";
                if ((info.pdi_flags & PDI_AUXDATA) != 0) ext += " auxdata";
                if ((info.pdi_flags & PDI_ORIGDEV) != 0) ext += " origdev";
                if ((info.pdi_flags & PDI_VNETHDR) != 0) ext += " vnethdr";
                if ((info.pdi_flags & PDI_LOSS) != 0) ext += " loss";
                if (info.pdi_flags == 0) ext += "0";
                ext += " )";
            }
            append_ring(ext, PACKET_DIAG_RX_RING, "ring_rx(");
            append_ring(ext, PACKET_DIAG_TX_RING, "ring_tx(");
            if (attrs_.has(PACKET_DIAG_FANOUT)) {
                std::uint32_t fanout = 0;
                std::memcpy(&fanout, attrs_.data(PACKET_DIAG_FANOUT), sizeof(fanout));
                const unsigned ftype = (fanout >> 16) & 0xffff;
                appendf(ext, "%sfanout(id:%u,type:", nl_tab(), fanout & 0xffff);
                static constexpr const char* kTypes[] = {"hash", "lb", "cpu", "roll", "random", "qm"};
                if (ftype < 6) {
                    ext += kTypes[ftype];
                } else {
                    appendf(ext, "0x%x", ftype);
                }
                ext += ')';
            }
        }
        if (o_.bpf && attrs_.has(PACKET_DIAG_FILTER)) {
            const auto* p = static_cast<const unsigned char*>(attrs_.data(PACKET_DIAG_FILTER));
            const std::size_t n = attrs_.len(PACKET_DIAG_FILTER) / 8;
            appendf(ext, "%sbpf filter (%zu): ", nl_tab(), n);
            for (std::size_t i = 0; i < n; ++i) {
                std::uint16_t code = 0;
                std::uint32_t k = 0;
                std::memcpy(&code, p + i * 8, 2);
                std::memcpy(&k, p + i * 8 + 4, 4);
                appendf(ext, " 0x%02x %u %u %u,", code, static_cast<unsigned>(p[i * 8 + 2]),
                        static_cast<unsigned>(p[i * 8 + 3]), k);
            }
        }
        if (o_.memory) {
            append_skmem(ext, std::span<const std::uint32_t>(mem, mem_n));
        }
        emit_row();
        return 0;
    }

    void append_ring(std::string& ext, int attr, const char* name)
    {
        if (attrs_.len(attr) < sizeof(packet_diag_ring)) {
            return;
        }
        packet_diag_ring ring{};
        std::memcpy(&ring, attrs_.data(attr), sizeof(ring));
        ext += nl_tab();
        ext += name;
        appendf(ext, "blk_size:%d", static_cast<int>(ring.pdr_block_size));
        appendf(ext, ",blk_nr:%d", static_cast<int>(ring.pdr_block_nr));
        appendf(ext, ",frm_size:%d", static_cast<int>(ring.pdr_frame_size));
        appendf(ext, ",frm_nr:%d", static_cast<int>(ring.pdr_frame_nr));
        appendf(ext, ",tmo:%d", static_cast<int>(ring.pdr_retire_tmo));
        appendf(ext, ",features:0x%x", ring.pdr_features);
        ext += ')';
    }

    // ---- netlink -------------------------------------------------------------------------

    void show_netlink()
    {
        if (!sel_.has_family(AF_NETLINK) || (sel_.states & state_bit(kStateClose)) == 0) {
            return;
        }
        struct Req {
            nlmsghdr nlh;
            netlink_diag_req r;
        } req{};
        req.nlh.nlmsg_len = sizeof(req);
        req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.nlh.nlmsg_seq = 123456;
        req.r.sdiag_family = AF_NETLINK;
        req.r.sdiag_protocol = NDIAG_PROTO_ALL;
        req.r.ndiag_show = NDIAG_SHOW_GROUPS | NDIAG_SHOW_MEMINFO;
        dump_or_proc(&req, sizeof(req), [&](const nlmsghdr* h) { return netlink_message(h); },
                     ProcFile::Netlink,
                     [&](const std::string& path) { proc_netlink(path); });
    }

    // /proc/net/netlink: no peer, the kernel's socket pointer and dump flag as sk= and cb=.
    void proc_netlink(const std::string& path)
    {
        for_each_proc_line(path, [&](const char* line) {
            unsigned long long sk = 0;
            int prot = 0;
            long long pid = 0;
            unsigned groups = 0;
            int rq = 0;
            int wq = 0;
            unsigned long long cb = 0;
            if (std::sscanf(line, "%llx %d %lld %x %d %d %llx", &sk, &prot, &pid, &groups, &rq,
                            &wq, &cb) != 7) {
                return;
            }
            const auto portid = static_cast<int>(static_cast<std::uint32_t>(pid));
            SockRow row;
            row.family = AF_NETLINK;
            row.protocol = prot;
            row.state = kStateClose;
            row.local_port = static_cast<unsigned>(portid);
            if (pred_ && !pred_(row)) {
                return;
            }
            clear_fields();
            state_fields("nl", kStateClose, rq, wq);
            fields_[kColLocalAddr] = netlink_proto_name(prot, o_.numeric) + ":";
            fields_[kColLocalPort] = netlink_proc_name(portid);
            fields_[kColPeerAddr] = "*";
            if (o_.extended) {
                appendf(fields_[kColExt], " sk=%llx cb=%llx groups=0x%08x", sk, cb, groups);
            }
            emit_row();
        });
    }

    std::string netlink_proc_name(int pid)
    {
        if (pid == -1) {
            return "*";
        }
        if (o_.numeric) {
            return std::to_string(pid);
        }
        if (pid == 0) {
            return "kernel";
        }
        if (pid > 0) {
            const std::string path = fmt::format("{}/{}/stat", env_.proc_dir(), pid);
            std::ifstream in(path);
            std::string content;
            if (in && std::getline(in, content)) {
                const std::size_t open = content.find('(');
                const std::size_t close = content.find(')', open == std::string::npos ? 0 : open);
                if (open != std::string::npos && close != std::string::npos && close > open + 1) {
                    return content.substr(open + 1, close - open - 1) + "/" + std::to_string(pid);
                }
            }
        }
        return std::to_string(pid);
    }

    int netlink_message(const nlmsghdr* h)
    {
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(netlink_diag_msg))) {
            return 0;  // truncated: nothing to show
        }
        const auto* r = static_cast<const netlink_diag_msg*>(NLMSG_DATA(h));
        parse_attrs(attrs_, r + 1, h->nlmsg_len - NLMSG_LENGTH(sizeof(*r)));
        unsigned groups = 0;
        if (attrs_.len(NETLINK_DIAG_GROUPS) >= sizeof(std::uint32_t)) {
            std::memcpy(&groups, attrs_.data(NETLINK_DIAG_GROUPS), sizeof(groups));
        }
        long long rq = 0;
        long long wq = 0;
        const auto* mem = static_cast<const std::uint32_t*>(attrs_.data(NETLINK_DIAG_MEMINFO));
        const std::size_t mem_n = attrs_.len(NETLINK_DIAG_MEMINFO) / sizeof(std::uint32_t);
        if (mem != nullptr && mem_n > SK_MEMINFO_WMEM_ALLOC) {
            rq = mem[SK_MEMINFO_RMEM_ALLOC];
            wq = mem[SK_MEMINFO_WMEM_ALLOC];
        }
        SockRow row;
        row.family = AF_NETLINK;
        row.protocol = r->ndiag_protocol;
        row.state = kStateClose;
        row.inode = r->ndiag_ino;
        row.local_port = r->ndiag_portid;
        row.peer_port = r->ndiag_dst_portid;
        if (pred_ && !pred_(row)) {
            return 0;
        }
        clear_fields();
        state_fields("nl", kStateClose, rq, wq);
        fields_[kColLocalAddr] = netlink_proto_name(r->ndiag_protocol, o_.numeric) + ":";
        fields_[kColLocalPort] = netlink_proc_name(static_cast<int>(r->ndiag_portid));
        if (r->ndiag_state == 1) {  // NETLINK_CONNECTED
            fields_[kColPeerAddr] = std::to_string(r->ndiag_dst_group) + ":";
            fields_[kColPeerPort] = std::to_string(static_cast<int>(r->ndiag_dst_portid));
        } else {
            fields_[kColPeerAddr] = "*";
        }
        std::string& ext = fields_[kColExt];
        if (o_.extended) {
            appendf(ext, " sk=%llx cb=%llx groups=0x%08x", 0ULL, 0ULL, groups);
        }
        if (o_.memory) {
            ext += '\t';
            if (mem != nullptr) {
                append_skmem(ext, std::span<const std::uint32_t>(mem, mem_n));
            }
        }
        emit_row();
        return 0;
    }

    const Options& o_;
    const Environment& env_;
    Selection sel_;
    const RowPredicate& pred_;
    const std::vector<std::uint8_t>& bytecode_;
    Table table_;
    ServiceNames services_;
    std::unique_ptr<DiagSocket> diag_;  // opened on first use: the /proc paths need none
    std::unique_ptr<DiagSocket> kill_sock_;
    SocketUsers users_;
    CgroupPaths cgroups_;
    AttrTable attrs_;
    std::array<std::string, kColCount> fields_;
    std::unordered_map<unsigned, std::string> ifnames_;
    std::string name_;
    const char* proto_for_services_ = "tcp";
    const char* last_proto_ = "tcp";
    bool show_options_ = false;
    bool show_users_ = false;
    bool kill_failed_ = false;
    bool replaying_ = false;
};

// ---- -s -------------------------------------------------------------------------------

std::map<std::string, long long> read_keyed(const std::string& path)
{
    // "TCP: inuse 1 orphan 0 ..." -> {"TCP.inuse": 1, ...}
    std::map<std::string, long long> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string key;
        ls >> key;
        if (!key.empty() && key.back() == ':') {
            key.pop_back();
        }
        std::string name;
        long long value = 0;
        while (ls >> name >> value) {
            out[key + "." + name] = value;
        }
    }
    return out;
}

long long snmp_curr_estab(const Environment& env)
{
    std::ifstream in(env.proc_path(ProcFile::Snmp));
    std::string head;
    std::string vals;
    while (std::getline(in, head)) {
        if (head.rfind("Tcp:", 0) != 0 || !std::getline(in, vals)) {
            continue;
        }
        std::istringstream hs(head);
        std::istringstream vs(vals);
        std::string h;
        std::string v;
        while (hs >> h && vs >> v) {
            if (h == "CurrEstab") {
                const auto n = parse_number<unsigned long long>(v, 10);
                return n ? static_cast<long long>(*n) : 0;
            }
        }
    }
    return 0;
}

void print_summary(const Environment& env)
{
    auto s4 = read_keyed(env.proc_path(ProcFile::Sockstat));
    auto s6 = read_keyed(env.proc_path(ProcFile::Sockstat6));
    const long long estab = snmp_curr_estab(env);
    const long long tcp4 = s4["TCP.inuse"];
    const long long tcp6 = s6["TCP6.inuse"];
    const long long tw = s4["TCP.tw"];
    const long long alloc = s4["TCP.alloc"];
    std::printf("Total: %lld\n", s4["sockets.used"]);
    std::printf("TCP:   %lld (estab %lld, closed %lld, orphaned %lld, timewait %lld)\n",
                alloc + tw, estab, alloc - (tcp4 + tcp6 - tw), s4["TCP.orphan"], tw);
    std::printf("\n");
    std::printf("Transport Total     IP        IPv6\n");
    auto row = [](const char* name, long long v4, long long v6) {
        std::printf("%s\t  %-9lld %-9lld %-9lld\n", name, v4 + v6, v4, v6);
    };
    const long long raw4 = s4["RAW.inuse"];
    const long long raw6 = s6["RAW6.inuse"];
    const long long udp4 = s4["UDP.inuse"];
    const long long udp6 = s6["UDP6.inuse"];
    row("RAW", raw4, raw6);
    row("UDP", udp4, udp6);
    row("TCP", tcp4, tcp6);
    row("INET", raw4 + udp4 + tcp4, raw6 + udp6 + tcp6);
    row("FRAG", s4["FRAG.inuse"], s6["FRAG6.inuse"]);
    std::printf("\n");
}

// What the filter language sees of a row.
filter::SockView sock_view(const SockRow& r)
{
    filter::SockView v;
    v.family = r.family;
    std::copy(std::begin(r.local.bytes), std::end(r.local.bytes), v.local.begin());
    std::copy(std::begin(r.peer.bytes), std::end(r.peer.bytes), v.remote.begin());
    v.lport = r.local_port;
    v.rport = r.peer_port;
    if (r.family == AF_NETLINK) {
        v.lport = static_cast<std::int32_t>(r.local_port);  // portids are signed: -1 is `*`
        v.rport = static_cast<std::int32_t>(r.peer_port);
    }
    v.ifindex = r.ifindex;
    v.mark = r.mark;
    v.cgroup_id = r.cgroup_id;
    if (r.family == AF_UNIX && !r.unix_path.empty()) {
        v.unix_path = std::string(r.unix_path);
    }
    if (r.family == AF_PACKET || r.family == AF_NETLINK) {
        v.proto = static_cast<std::uint32_t>(r.protocol);
    }
    return v;
}

// The filter as ss builds it: the FILTER words, then the -F lines, parsed in the selection's
// context; a family prefix in the expression narrows the families to that one. Returns an exit
// code after printing ss's message, or nullopt with `out` set.
std::optional<int> build_dump_filter(SelectionResult& sel, std::FILE* file, DumpFilter& out)
{
    filter::ParseOptions po;
    po.preferred_family = sel.selection.preferred_family;
    po.tcp = sel.selection.has_table(kDbTcp);
    po.udp = sel.selection.has_table(kDbUdp);
    filter::ParseResult res = filter::parse(sel.expression, file, po);
    if (res.error) {
        std::fputs(res.error->message.c_str(), stderr);
        if (res.error->usage) {
            std::fputs(ss_usage_text(), stderr);
        }
        return res.error->exit_code;
    }
    if (res.filter.empty()) {
        return std::nullopt;
    }
    if (res.family_reset) {
        sel.selection.families = family_bit(*res.family_reset);
    }
    auto f = std::make_shared<filter::Filter>(std::move(res.filter));
    if (auto bc = filter::compile_bytecode(*f)) {
        out.inet_bytecode = std::move(*bc);
    }
    out.row = [f](const SockRow& r) { return f->matches(sock_view(r)); };
    return std::nullopt;
}

}  // namespace

int run_dump(const Options& opts, const Environment& env)
{
    if (opts.context || opts.contexts) {
        std::fputs("ss: SELinux is not enabled.\n", stderr);
        return 1;
    }
    // -F FILE is opened while options are parsed, as ss does; its lines are read by the filter
    // parser after the argv words, as one stream.
    std::optional<filter::FilterError> file_error;
    UniqueFile filter_file;
    std::FILE* filter_fp = nullptr;
    if (!opts.filter_file.empty()) {
        filter_fp = filter::open_filter_file(opts.filter_file, file_error);
        if (file_error) {
            std::fputs(file_error->message.c_str(), stderr);
            return file_error->exit_code;
        }
        if (filter_fp != stdin) {
            filter_file.reset(filter_fp);
        }
    }
    SelectionResult sel = build_selection(opts);
    if (sel.exit_code && sel.with_usage) {
        if (!sel.message.empty()) {
            std::fprintf(stderr, "%s\n", sel.message.c_str());
        }
        std::fputs(ss_usage_text(), sel.usage_to_stdout ? stdout : stderr);
        return *sel.exit_code;
    }
    if (opts.summary) {
        print_summary(env);
        std::fflush(stdout);
        if (sel.do_default && opts.filter_words.empty()) {
            return 0;
        }
    }
    if (sel.exit_code) {
        if (!sel.message.empty()) {
            std::fprintf(stderr, "%s\n", sel.message.c_str());
        }
        return *sel.exit_code;
    }
    DumpFilter filter;
    if (!sel.expression.empty() || filter_fp != nullptr) {
        if (auto code = build_dump_filter(sel, filter_fp, filter)) {
            return *code;
        }
    }
    if (!opts.diag_file.empty()) {
        if (!sel.selection.has_table(kDbTcp)) {
            std::fputs("ss: tcpdiag dump requested and no tcp in filter.\n", stderr);
            return 0;
        }
        UniqueFile file;
        std::FILE* out = stdout;
        if (opts.diag_file != "-") {
            file.reset(std::fopen(opts.diag_file.c_str(), "w"));
            if (!file) {
                return 0;  // ss 6.1 checks the wrong variable and exits 0 silently
            }
            out = file.get();
        }
        Dumper d(opts, env, sel.selection, filter);
        d.raw_tcp_dump(out);
        std::fflush(out);
        return 0;
    }
    Dumper d(opts, env, sel.selection, filter);
    d.setup_columns();
    d.run();
    std::fflush(stdout);
    return 0;
}

}  // namespace sstrace
