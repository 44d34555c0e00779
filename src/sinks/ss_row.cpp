// SPDX-License-Identifier: GPL-2.0-only
// The ss row: columns every family shares, and inet sockets (unix, packet and netlink sockets
// are in ss_row_local.cpp).
#include "sstrace/sinks/ss_row.hpp"

#include "ss_row_parts.hpp"
#include "sstrace/core/netid.hpp"
#include "sstrace/core/state.hpp"
#include "sstrace/sinks/ext_format.hpp"

#include <fmt/format.h>
#include <linux/mptcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <iterator>

namespace sstrace {

namespace {

// A raw socket's "port" from /proc text is its IP protocol, printed by name.
std::string raw_port_text(unsigned port, bool numeric)
{
    if (port == 0) {
        return "*";
    }
    if (numeric) {
        return std::to_string(port);
    }
    if (const protoent* pe = ::getprotobynumber(static_cast<int>(port))) {
        return pe->p_name;
    }
    return fmt::format("ipproto-{}", port);
}

// MPTCP subflow details; 6.1 prints the sequence numbers in hex.
void append_mptcp_subflow(std::string& out, const MptcpSubflow& sub)
{
    auto to = std::back_inserter(out);
    if (sub.flags && *sub.flags != 0) {
        static constexpr std::pair<std::uint32_t, char> kFlags[] = {
            {MPTCP_SUBFLOW_FLAG_MCAP_REM, 'M'}, {MPTCP_SUBFLOW_FLAG_MCAP_LOC, 'm'},
            {MPTCP_SUBFLOW_FLAG_JOIN_REM, 'J'}, {MPTCP_SUBFLOW_FLAG_JOIN_LOC, 'j'},
            {MPTCP_SUBFLOW_FLAG_BKUP_REM, 'B'}, {MPTCP_SUBFLOW_FLAG_BKUP_LOC, 'b'},
            {MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED, 'e'}, {MPTCP_SUBFLOW_FLAG_CONNECTED, 'c'},
            {MPTCP_SUBFLOW_FLAG_MAPVALID, 'v'},
        };
        out += " flags:";
        for (const auto& [bit, ch] : kFlags) {
            if ((*sub.flags & bit) != 0) {
                out += ch;
            }
        }
    }
    if (sub.token_rem && sub.token_loc && sub.id_rem && sub.id_loc) {
        fmt::format_to(to, " token:{:04x}(id:{})/{:04x}(id:{})", *sub.token_rem, *sub.id_rem,
                       *sub.token_loc, *sub.id_loc);
    }
    if (sub.map_seq) {
        fmt::format_to(to, " seq:{:x}", *sub.map_seq);
    }
    if (sub.map_sfseq) {
        fmt::format_to(to, " sfseq:{:x}", *sub.map_sfseq);
    }
    if (sub.ssn_offset) {
        fmt::format_to(to, " ssnoff:{:x}", *sub.ssn_offset);
    }
    if (sub.map_datalen) {
        fmt::format_to(to, " maplen:{:x}", *sub.map_datalen);
    }
}

void append_sockopt(std::string& out, const inet_diag_sockopt& so, bool oneline)
{
    out += oneline ? " inet-sockopt: (" : "\n\tinet-sockopt: (";
    const std::pair<bool, const char*> kOptions[] = {
        {so.recverr != 0, " recverr"},
        {so.is_icsk != 0, " is_icsk"},
        {so.freebind != 0, " freebind"},
        {so.hdrincl != 0, " hdrincl"},
        {so.mc_loop != 0, " mc_loop"},
        {so.transparent != 0, " transparent"},
        {so.mc_all != 0, " mc_all"},
        {so.nodefrag != 0, " nodefrag"},
        {so.bind_address_no_port != 0, " bind_addr_no_port"},
        {so.recverr_rfc4884 != 0, " recverr_rfc4884"},
        {so.defer_connect != 0, " defer_connect"},
    };
    for (const auto& [set, name] : kOptions) {
        if (set) {
            out += name;
        }
    }
    out += ')';
}

}  // namespace

void append_shutdown(std::string& out, std::uint8_t mask)
{
    fmt::format_to(std::back_inserter(out), " {}-{}", (mask & 1) != 0 ? '-' : '<',
                   (mask & 2) != 0 ? '-' : '>');
}

SsColumns::SsColumns(const RowOptions& options, ServiceNames services, std::string proc_dir)
    : options_(options), services_(std::move(services)), proc_dir_(std::move(proc_dir))
{
}

SsRowRenderer::SsRowRenderer(const RowOptions& options, Table& table, ServiceNames services,
                             std::string proc_dir)
    : table_(table), columns_(options, std::move(services), std::move(proc_dir))
{
}

void SsRowRenderer::render(const Socket& s)
{
    if (const SsColumns::Fields* f = columns_.columns(s)) {
        table_.add_row(*f);
    }
}

void SsRowRenderer::begin(const Selection& sel, bool header)
{
    table_.set_disabled(kColNetid, (sel.tables & (sel.tables - 1)) == 0);
    table_.set_disabled(kColState, (sel.states & (sel.states - 1)) == 0);
    table_.set_disabled(kColTail, true);  // 6.1 never enables it
    if (header) {
        table_.add_header();
    }
}

void SsColumns::begin_table(TableId table)
{
    switch (table) {
    case kDbRaw:
        service_proto_ = "raw";
        break;
    case kDbUdp:
        service_proto_ = "udp";
        break;
    case kDbTcp:
        service_proto_ = "tcp";
        break;
    default:
        break;
    }
}

const SsColumns::Fields* SsColumns::columns(const Socket& s)
{
    for (auto& f : fields_) {
        f.clear();
    }
    switch (s.family) {
    case AF_INET:
    case AF_INET6:
        inet_row(s);
        break;
    case AF_UNIX:
        unix_row(s);
        break;
    case AF_PACKET:
        packet_row(s);
        break;
    case AF_NETLINK:
        netlink_row(s);
        break;
    default:
        return nullptr;
    }
    return &fields_;
}

void SsColumns::state_fields(std::string_view netid, int state, std::uint32_t rq,
                                 std::uint32_t wq)
{
    fields_[kColNetid] = netid;
    fields_[kColState] = state_name(state);
    // ss prints the queues as "%-6d" of an int: values above INT_MAX print negative there too.
    // (format_int and a pad: this runs twice per row, where a format string is measurable.)
    auto queue = [](std::string& f, std::uint32_t v) {
        const fmt::format_int text(static_cast<int>(v));
        f.assign(text.data(), text.size());
        if (f.size() < 6) {
            f.append(6 - f.size(), ' ');
        }
    };
    queue(fields_[kColRecvQ], rq);
    queue(fields_[kColSendQ], wq);
}

const std::string& SsColumns::ifname(unsigned ifindex)
{
    auto it = ifnames_.find(ifindex);
    if (it == ifnames_.end()) {
        it = ifnames_.emplace(ifindex, interface_name(ifindex)).first;
    }
    return it->second;
}

void SsColumns::append_users(std::string& out, const Socket& s) const
{
    if (!options_.users || s.owners.empty()) {
        return;
    }
    auto to = std::back_inserter(out);
    out += " users:(";
    // ss lists the holders in the reverse of the order it found them.
    for (auto o = s.owners.rbegin(); o != s.owners.rend(); ++o) {
        if (o != s.owners.rbegin()) {
            out += ',';
        }
        const std::string& comm =
            options_.threads && !o->thread_comm.empty() ? o->thread_comm : o->comm;
        fmt::format_to(to, "(\"{}\",pid={}", comm, o->pid);
        if (options_.threads) {
            fmt::format_to(to, ",tid={}", o->tid);
        }
        if (o->fd >= 0) {
            fmt::format_to(to, ",fd={}", o->fd);
        }
        out += ')';
    }
    out += ')';
}

void SsColumns::address_fields(Column addr_col, Column port_col, const Endpoint& e,
                                   unsigned ifindex, bool v6only, bool raw_ports)
{
    std::string& f = fields_[addr_col];
    append_inet_host(f, e.addr, v6only, options_.resolve);
    if (ifindex != 0) {
        f += '%';
        f += ifname(ifindex);
    }
    f += ':';
    if (raw_ports) {
        fields_[port_col] = raw_port_text(e.port, options_.numeric);
    } else {
        fields_[port_col] = services_.port_text(e.port, service_proto_);
    }
}

void SsColumns::inet_row(const Socket& s)
{
    // ss names the /proc tables it read, and prints a raw socket's protocol by name there.
    const bool proc = s.origin == Origin::ProcText;
    std::string_view netid = inet_netid(s.protocol);
    if (proc) {
        netid = s.protocol == IPPROTO_TCP ? "tcp" : s.protocol == IPPROTO_UDP ? "udp" : "raw";
    }
    state_fields(netid, s.state, s.rqueue, s.wqueue);
    const bool v6only = s.inet.v6only.value_or(false);
    const bool raw_ports = proc && s.protocol == IPPROTO_RAW;
    address_fields(kColLocalAddr, kColLocalPort, s.inet.local, s.ifindex, v6only, raw_ports);
    address_fields(kColPeerAddr, kColPeerPort, s.inet.peer, 0, v6only, raw_ports);
    std::string& ext = fields_[kColExt];
    append_users(ext, s);
    if (proc) {
        proc_tcp_details(ext, s);
    } else {
        inet_details(ext, s);
    }
}

// ` timer:(...)` (-o), then ` uid:N ino:N sk:COOKIE` (-e): where every inet row starts.
void SsColumns::timer_and_ids(std::string& out, const Socket& s) const
{
    if (options_.timers) {
        append_timer(out, s.timer);
    }
    if (options_.extended) {
        auto to = std::back_inserter(out);
        if (s.uid != 0) {
            fmt::format_to(to, " uid:{}", s.uid);
        }
        fmt::format_to(to, " ino:{} sk:{:x}", s.inode, s.cookie);
    }
}

void SsColumns::inet_details(std::string& out, const Socket& s)
{
    auto to = std::back_inserter(out);
    timer_and_ids(out, s);
    if (options_.extended) {
        if (s.mark != 0) {
            fmt::format_to(to, " fwmark:0x{:x}", s.mark);
        }
        if (s.cgroup_id.value_or(0) != 0) {
            out += " cgroup:";
            out += cgroups_.path(*s.cgroup_id);
        }
        if (s.inet.v6only) {
            fmt::format_to(to, " v6only:{}", *s.inet.v6only ? 1 : 0);
        }
        if (s.shutdown) {
            append_shutdown(out, *s.shutdown);
        }
    }
    if (options_.tos) {
        if (s.inet.tos) {
            out += " tos:" + alt_hex(*s.inet.tos);
        }
        if (s.inet.tclass) {
            out += " tclass:" + alt_hex(*s.inet.tclass);
        }
        if (s.inet.class_id) {
            out += " class_id:" + alt_hex(*s.inet.class_id);
        }
    }
    if (options_.cgroup && s.cgroup_id) {
        out += " cgroup:";
        out += cgroups_.path(*s.cgroup_id);
    }
    if (options_.inet_sockopt && s.inet.sockopt) {
        append_sockopt(out, *s.inet.sockopt, options_.oneline);
    }
    if (options_.memory || (options_.info && s.protocol != IPPROTO_UDP)) {
        if (!options_.oneline) {
            out += "\n\t";
        }
        tcp_details(out, s);
    }
}

void SsColumns::tcp_details(std::string& out, const Socket& s) const
{
    if (s.skmem) {
        append_skmem(out, s.skmem->view());
    } else if (const auto& mi = s.inet.meminfo) {
        fmt::format_to(std::back_inserter(out), " mem:(r{},w{},f{},t{})", mi->idiag_rmem,
                       mi->idiag_wmem, mi->idiag_fmem, mi->idiag_tmem);
    }
    const Socket::Tcp& tcp = s.tcp;
    append_tcp_info(out, tcp, s.state, options_.timers, options_.numeric);
    if (tcp.md5keys) {
        append_md5keys(out, *tcp.md5keys);
    }
    if (tcp.ulp) {
        out += " tcp-ulp-";
        out += *tcp.ulp;
    }
    if (tcp.mptcp) {
        append_mptcp_subflow(out, *tcp.mptcp);
    }
}

// What ss prints of a /proc/net/tcp line: timer, uid, inode, the kernel's socket address, and
// the figures the line carries. UDP and RAW lines have none of it.
void SsColumns::proc_tcp_details(std::string& out, const Socket& s) const
{
    if (!s.tcp.proc) {
        return;
    }
    timer_and_ids(out, s);
    if (!options_.info) {
        return;
    }
    const ProcTcpInfo& p = *s.tcp.proc;
    auto to = std::back_inserter(out);
    const auto hz = static_cast<double>(p.hz);
    const double rto = p.rto != 3 * p.hz ? static_cast<double>(p.rto) / hz : 0;
    if (rto != 0) {
        fmt::format_to(to, " rto:{:g}", rto);
    }
    if (p.ato != 0) {
        fmt::format_to(to, " ato:{:g}", static_cast<double>(p.ato) / hz);
    }
    const long long qack = p.qack / 2;
    if (qack != 0) {
        fmt::format_to(to, " qack:{}", qack);
    }
    if ((qack & 1) != 0) {
        out += " bidir";
    }
    if (p.cwnd != 0) {
        fmt::format_to(to, " cwnd:{}", p.cwnd);
    }
    if (p.ssthresh != -1 && p.ssthresh != 0) {
        fmt::format_to(to, " ssthresh:{}", p.ssthresh);
    }
    out += " reordering:0";
}

}  // namespace sstrace
