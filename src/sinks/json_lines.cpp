// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/json_lines.hpp"

#include "sstrace/core/netid.hpp"
#include "sstrace/core/state.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include <ctime>

namespace sstrace {

namespace {

using nlohmann::ordered_json;

std::string address_text(const InetAddr& a)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.family == AF_INET) {
        ::inet_ntop(AF_INET, a.bytes, buf, sizeof(buf));
    } else {
        ::inet_ntop(AF_INET6, a.bytes, buf, sizeof(buf));
    }
    return buf;
}

ordered_json endpoint(const Endpoint& e)
{
    return ordered_json{{"addr", address_text(e.addr)}, {"port", e.port}};
}

const char* family_name(int family)
{
    switch (family) {
    case AF_INET: return "inet";
    case AF_INET6: return "inet6";
    case AF_UNIX: return "unix";
    case AF_PACKET: return "packet";
    case AF_NETLINK: return "netlink";
    default: return "unknown";
    }
}

const char* timer_name(unsigned kind)
{
    static constexpr const char* kNames[] = {"off", "on", "keepalive", "timewait", "persist",
                                             "unknown"};
    return kNames[std::min(kind, 5u)];
}

// tcp_info's fields by the kernel's names without the tcpi_ prefix, as numbers.
ordered_json tcp_info_json(const tcp_info& i)
{
    ordered_json j;
    j["state"] = i.tcpi_state;
    j["ca_state"] = i.tcpi_ca_state;
    j["retransmits"] = i.tcpi_retransmits;
    j["probes"] = i.tcpi_probes;
    j["backoff"] = i.tcpi_backoff;
    j["options"] = i.tcpi_options;
    j["snd_wscale"] = i.tcpi_snd_wscale;
    j["rcv_wscale"] = i.tcpi_rcv_wscale;
    j["delivery_rate_app_limited"] = i.tcpi_delivery_rate_app_limited;
    j["rto"] = i.tcpi_rto;
    j["ato"] = i.tcpi_ato;
    j["snd_mss"] = i.tcpi_snd_mss;
    j["rcv_mss"] = i.tcpi_rcv_mss;
    j["unacked"] = i.tcpi_unacked;
    j["sacked"] = i.tcpi_sacked;
    j["lost"] = i.tcpi_lost;
    j["retrans"] = i.tcpi_retrans;
    j["fackets"] = i.tcpi_fackets;
    j["last_data_sent"] = i.tcpi_last_data_sent;
    j["last_ack_sent"] = i.tcpi_last_ack_sent;
    j["last_data_recv"] = i.tcpi_last_data_recv;
    j["last_ack_recv"] = i.tcpi_last_ack_recv;
    j["pmtu"] = i.tcpi_pmtu;
    j["rcv_ssthresh"] = i.tcpi_rcv_ssthresh;
    j["rtt"] = i.tcpi_rtt;
    j["rttvar"] = i.tcpi_rttvar;
    j["snd_ssthresh"] = i.tcpi_snd_ssthresh;
    j["snd_cwnd"] = i.tcpi_snd_cwnd;
    j["advmss"] = i.tcpi_advmss;
    j["reordering"] = i.tcpi_reordering;
    j["rcv_rtt"] = i.tcpi_rcv_rtt;
    j["rcv_space"] = i.tcpi_rcv_space;
    j["total_retrans"] = i.tcpi_total_retrans;
    j["pacing_rate"] = i.tcpi_pacing_rate;
    j["max_pacing_rate"] = i.tcpi_max_pacing_rate;
    j["bytes_acked"] = i.tcpi_bytes_acked;
    j["bytes_received"] = i.tcpi_bytes_received;
    j["segs_out"] = i.tcpi_segs_out;
    j["segs_in"] = i.tcpi_segs_in;
    j["notsent_bytes"] = i.tcpi_notsent_bytes;
    j["min_rtt"] = i.tcpi_min_rtt;
    j["data_segs_in"] = i.tcpi_data_segs_in;
    j["data_segs_out"] = i.tcpi_data_segs_out;
    j["delivery_rate"] = i.tcpi_delivery_rate;
    j["busy_time"] = i.tcpi_busy_time;
    j["rwnd_limited"] = i.tcpi_rwnd_limited;
    j["sndbuf_limited"] = i.tcpi_sndbuf_limited;
    j["delivered"] = i.tcpi_delivered;
    j["delivered_ce"] = i.tcpi_delivered_ce;
    j["bytes_sent"] = i.tcpi_bytes_sent;
    j["bytes_retrans"] = i.tcpi_bytes_retrans;
    j["dsack_dups"] = i.tcpi_dsack_dups;
    j["reord_seen"] = i.tcpi_reord_seen;
    j["rcv_ooopack"] = i.tcpi_rcv_ooopack;
    j["snd_wnd"] = i.tcpi_snd_wnd;
    return j;
}

std::string netid_of(const Socket& s)
{
    switch (s.family) {
    case AF_INET:
    case AF_INET6: return std::string(inet_netid(s.protocol));
    case AF_UNIX: return std::string(unix_netid(s.type));
    case AF_PACKET: return std::string(packet_netid(s.type));
    case AF_NETLINK: return std::string(kNetlinkNetid);
    default: return "???";
    }
}

// The fields a socket has wherever it is printed (a listing's row, an event).
void socket_fields(ordered_json& j, const Socket& s, bool ids)
{
    j["netid"] = netid_of(s);
    j["family"] = family_name(s.family);
    j["state"] = std::string(state_name(s.state));
    j["recv_q"] = s.rqueue;
    j["send_q"] = s.wqueue;
    switch (s.family) {
    case AF_INET:
    case AF_INET6:
        j["local"] = endpoint(s.inet.local);
        j["peer"] = endpoint(s.inet.peer);
        if (s.ifindex != 0) {
            j["ifindex"] = s.ifindex;
        }
        break;
    case AF_UNIX:
        j["local"] = {{"path", s.unix_domain.name}};
        j["peer"] = {{"inode", s.unix_domain.peer_inode}};
        break;
    case AF_PACKET:
        j["local"] = {{"protocol", s.protocol}, {"ifindex", s.ifindex}};
        break;
    case AF_NETLINK:
        j["local"] = {{"protocol", s.protocol}, {"port", s.netlink.portid}};
        j["peer"] = {{"port", s.netlink.dst_portid}, {"group", s.netlink.dst_group}};
        break;
    default:
        break;
    }
    j["cookie"] = s.cookie;
    if (ids) {
        j["uid"] = s.uid;
        j["inode"] = s.inode;
    }
}

// What a listing adds, when the options asked the kernel for it.
void listing_fields(ordered_json& j, const Socket& s)
{
    if (s.timer.kind != 0) {
        j["timer"] = {{"name", timer_name(s.timer.kind)},
                      {"expires_ms", s.timer.expires_ms},
                      {"retrans", s.timer.retrans}};
    }
    if (s.mark != 0) {
        j["mark"] = s.mark;
    }
    if (s.cgroup_id) {
        j["cgroup_id"] = *s.cgroup_id;
    }
    if (s.skmem) {
        static constexpr const char* kNames[] = {"rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf",
                                                 "fwd_alloc",  "wmem_queued", "optmem",
                                                 "backlog",    "drops"};
        ordered_json m;
        const auto v = s.skmem->view();
        for (std::size_t i = 0; i < v.size() && i < std::size(kNames); ++i) {
            m[kNames[i]] = v[i];
        }
        j["skmem"] = std::move(m);
    }
    if (s.tcp.info) {
        j["tcp_info"] = tcp_info_json(*s.tcp.info);
    }
    if (!s.tcp.cong.empty()) {
        j["congestion"] = s.tcp.cong;
    }
    if (!s.owners.empty()) {
        ordered_json users = ordered_json::array();
        for (const SocketOwner& o : s.owners) {
            ordered_json u{{"comm", o.comm}, {"pid", o.pid}, {"fd", o.fd}};
            if (o.tid != 0) {
                u["tid"] = o.tid;
            }
            users.push_back(std::move(u));
        }
        j["users"] = std::move(users);
    }
}

void put_line(std::string& out, const ordered_json& j)
{
    // names (a unix socket's path, a process's comm) need not be UTF-8
    out += j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    out.push_back('\n');
}

const char* reason_name(CloseReason r)
{
    switch (r) {
    case CloseReason::Reset: return "reset";
    case CloseReason::Refused: return "refused";
    case CloseReason::Timeout: return "timeout";
    case CloseReason::Other: return "error";
    case CloseReason::None: break;
    }
    return nullptr;
}

}  // namespace

// RFC 3339 in UTC with nanoseconds: 2024-05-01T03:10:00.123456789Z
std::string rfc3339(std::int64_t ns)
{
    std::int64_t secs = ns / 1000000000;
    std::int64_t frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        --secs;
    }
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void append_socket_json(std::string& out, const Socket& s)
{
    ordered_json j;
    j["type"] = "socket";
    socket_fields(j, s, true);
    listing_fields(j, s);
    put_line(out, j);
}

JsonEventSink::JsonEventSink(const JsonOptions& options, OutputWriter* out)
    : options_(options), out_(out)
{
}

void JsonEventSink::append_event(const SocketEvent& ev, std::string& out) const
{
    ordered_json j;
    const std::int64_t wall = static_cast<std::int64_t>(ev.mono_ns) + clock_offset_;
    j["type"] = "event";
    j["event"] = ev.kind == EventKind::Destroy       ? "destroy"
                 : ev.kind == EventKind::TimeWaitEnd ? "time_wait_end"
                                                     : "state";
    j["time"] = rfc3339(wall);
    j["time_ns"] = wall;
    j["mono_ns"] = ev.mono_ns;
    j["cpu"] = ev.cpu;
    j["netns"] = ev.netns_ino;
    if (const auto it = options_.namespaces.find(ev.netns_ino); it != options_.namespaces.end()) {
        j["netns_name"] = it->second;
    }
    socket_fields(j, ev.socket, options_.extended);
    if (ev.kind == EventKind::StateEntry) {
        j["old_state"] = ev.old_state != 0 ? ordered_json(std::string(state_name(ev.old_state)))
                                           : ordered_json(nullptr);
        j["new_state"] = std::string(state_name(ev.new_state));
    } else if (ev.kind == EventKind::TimeWaitEnd) {
        j["old_state"] = std::string(state_name(ev.old_state));  // TIME-WAIT
        j["ended"] = ev.tw_end == TwEnd::Expired   ? "expired"
                     : ev.tw_end == TwEnd::Rearmed ? "rearmed"
                                                   : "early";
    } else {
        j["old_state"] = std::string(state_name(ev.old_state));  // the state it was destroyed in
    }
    if (ev.in_state_ns != 0) {
        j["in_state_ns"] = ev.in_state_ns;  // how long it was in old_state
    }
    if (const char* r = reason_name(ev.close_reason)) {
        j["close_reason"] = r;
    }
    if (ev.tw_orphan) {
        j["fin_wait2_substate"] = true;
    }
    if (ev.syn_unsent) {
        j["syn_unsent"] = true;
    }
    put_line(out, j);
}

void JsonEventSink::event(const SocketEvent& ev)
{
    append_event(ev, buf_);
    ++buf_rows_;
    ++rows_;
}

void JsonEventSink::loss(const EventLoss& lost)
{
    ordered_json j;
    const std::int64_t wall = static_cast<std::int64_t>(lost.mono_ns) + clock_offset_;
    j["type"] = "loss";
    j["time"] = rfc3339(wall);
    j["time_ns"] = wall;
    j["mono_ns"] = lost.mono_ns;
    j["lost"] = lost.total();
    j["ring_buffer_full"] = lost.ring_full;
    j["skipped_by_kernel"] = lost.skipped;
    j["time_wait_map_full"] = lost.map_full;
    j["not_written"] = lost.not_written;
    put_line(buf_, j);
    ++buf_extra_;
}

void JsonEventSink::flush()
{
    if (out_ != nullptr) {
        out_->push(buf_, buf_rows_, buf_extra_);
    }
    buf_.clear();
    buf_rows_ = 0;
    buf_extra_ = 0;
}

void JsonSocketWriter::socket(const Socket& s)
{
    append_socket_json(buf_, s);
    if (buf_.size() >= 65536) {
        flush();
    }
}

void JsonSocketWriter::flush()
{
    std::fwrite(buf_.data(), 1, buf_.size(), out_);
    buf_.clear();
}

}  // namespace sstrace
