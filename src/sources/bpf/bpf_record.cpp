// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/bpf_record.hpp"

#include "sstrace/abi/events.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <optional>

namespace sstrace {

namespace {

CloseReason close_reason(std::uint8_t r)
{
    switch (r) {
    case SSTRACE_REASON_RESET:
        return CloseReason::Reset;
    case SSTRACE_REASON_REFUSED:
        return CloseReason::Refused;
    case SSTRACE_REASON_TIMEOUT:
        return CloseReason::Timeout;
    case SSTRACE_REASON_OTHER:
        return CloseReason::Other;
    default:
        return CloseReason::None;
    }
}

Endpoint endpoint(int family, const std::uint8_t (&addr)[16], std::uint16_t port)
{
    Endpoint e;
    e.addr.family = family;
    std::memcpy(e.addr.bytes, addr, sizeof(e.addr.bytes));
    e.port = port;
    return e;
}

// The owner block that follows the record when the stream asked for owners (-p, -T):
// [sstrace_event][sstrace_owner if SSTRACE_EVF_OWNER][sstrace_details if SSTRACE_EVF_DETAILS].
void decode_owner(std::span<const std::byte> record, const sstrace_event& r, Socket& s)
{
    s.owners.clear();
    if ((r.flags & SSTRACE_EVF_OWNER) == 0 ||
        record.size() < sstrace_owner_offset(r.flags) + sizeof(sstrace_owner)) {
        return;
    }
    sstrace_owner o{};
    std::memcpy(&o, record.data() + sstrace_owner_offset(r.flags), sizeof(o));
    if ((o.flags & SSTRACE_OWNER_KNOWN) == 0) {
        return;
    }
    SocketOwner& out = s.owners.emplace_back();
    out.comm.assign(o.comm, strnlen(o.comm, sizeof(o.comm)));
    out.thread_comm.assign(o.tcomm, strnlen(o.tcomm, sizeof(o.tcomm)));
    out.pid = static_cast<int>(o.pid);
    out.tid = static_cast<int>(o.tid);
    out.fd = (o.flags & SSTRACE_OWNER_FD) != 0 ? o.fd : -1;
}

// The details tail (-o -m -i), where the record carries one: what a listing of the socket
// would have shown at that moment. Every field is reset first (the event is reused).
void decode_details(std::span<const std::byte> record, const sstrace_event& r, SocketEvent& ev)
{
    Socket& s = ev.socket;
    s.timer = SocketTimer{};
    s.skmem.reset();
    s.shutdown.reset();
    s.tcp.info.reset();
    s.tcp.cong.clear();
    ev.lifetime_ns.reset();
    if ((r.flags & SSTRACE_EVF_DETAILS) == 0 ||
        record.size() < sstrace_details_offset(r.flags) + sizeof(sstrace_details)) {
        return;
    }
    sstrace_details d{};
    std::memcpy(&d, record.data() + sstrace_details_offset(r.flags), sizeof(d));
    // A destroyed socket has no timer (the programs read none; ss -E shows none). A TIME-WAIT
    // row stands for the timewait socket: the programs give its timer (timewait), as a listing
    // shows it.
    if ((d.what & SSTRACE_DETAIL_TIMER) != 0 && ev.kind != EventKind::Destroy) {
        s.timer.kind = d.timer_kind;
        s.timer.expires_ms = d.timer_ms;
        s.timer.retrans = d.timer_retrans;
    }
    // ss -E -e prints no <-> for a destroyed socket (the kernel's notification has none), nor
    // ss -e for a timewait socket (what a TIME-WAIT row stands for)
    if ((d.what & SSTRACE_DETAIL_SHUTDOWN) != 0 && ev.kind != EventKind::Destroy &&
        ev.new_state != SSTRACE_TCP_TIME_WAIT) {
        s.shutdown = d.shutdown;
    }
    if ((d.what & SSTRACE_DETAIL_SKMEM) != 0) {
        SkMem m;
        static_assert(sizeof(d.skmem) / sizeof(d.skmem[0]) <= SK_MEMINFO_VARS);
        std::copy(std::begin(d.skmem), std::end(d.skmem), m.values.begin());
        m.count = sizeof(d.skmem) / sizeof(d.skmem[0]);
        s.skmem = m;
    }
    if ((d.what & SSTRACE_DETAIL_TCPINFO) != 0) {
        tcp_info ti{};
        std::memcpy(&ti, d.tcp_info, std::min(sizeof(ti), sizeof(d.tcp_info)));
        s.tcp.info = ti;
        // ss -E prints no congestion control for a destroyed socket (the kernel's notification
        // carries none); a state row shows it as a listing does
        if (ev.kind != EventKind::Destroy) {
            s.tcp.cong.assign(d.cong, ::strnlen(d.cong, sizeof(d.cong)));
        }
    }
    if ((d.what & SSTRACE_DETAIL_LIFETIME) != 0 && d.born_ns != 0 && d.born_ns <= r.hdr.ts_ns) {
        ev.lifetime_ns = r.hdr.ts_ns - d.born_ns;
    }
}

}  // namespace

std::optional<SocketEvent> decode_record(std::span<const std::byte> record)
{
    SocketEvent ev;
    if (!decode_record(record, ev)) {
        return std::nullopt;
    }
    return ev;
}

bool decode_record(std::span<const std::byte> record, SocketEvent& ev)
{
    sstrace_hdr hdr{};
    if (record.size() < sizeof(hdr)) {
        return false;
    }
    std::memcpy(&hdr, record.data(), sizeof(hdr));
    if (hdr.size != record.size()) {
        return false;
    }
    if (hdr.type != SSTRACE_REC_STATE && hdr.type != SSTRACE_REC_DESTROY &&
        hdr.type != SSTRACE_REC_TW_END) {
        return false;
    }
    sstrace_event r{};
    if (record.size() < sizeof(r)) {
        return false;
    }
    std::memcpy(&r, record.data(), sizeof(r));
    if (r.family != AF_INET && r.family != AF_INET6) {
        return false;
    }

    ev.kind = hdr.type == SSTRACE_REC_DESTROY  ? EventKind::Destroy
              : hdr.type == SSTRACE_REC_TW_END ? EventKind::TimeWaitEnd
                                               : EventKind::StateEntry;
    ev.old_state = r.oldstate;
    ev.new_state = r.newstate;
    ev.mono_ns = hdr.ts_ns;
    ev.cpu = hdr.cpu;
    ev.netns_ino = r.netns_ino;
    ev.close_reason = ev.kind == EventKind::TimeWaitEnd ? CloseReason::None : close_reason(r.reason);
    ev.tw_end = TwEnd::Expired;
    ev.in_state_ns = 0;
    if (ev.kind == EventKind::TimeWaitEnd) {
        switch (r.reason) {
        case SSTRACE_TWEND_EXPIRED:
            break;
        case SSTRACE_TWEND_CANCELLED:
            ev.tw_end = TwEnd::Cancelled;
            break;
        case SSTRACE_TWEND_REARMED:
            ev.tw_end = TwEnd::Rearmed;
            break;
        default:
            return false;
        }
    }
    ev.tw_orphan = (r.flags & SSTRACE_EVF_TW_FIN_WAIT2) != 0;
    ev.syn_unsent = (r.flags & SSTRACE_EVF_SYN_UNSENT) != 0;

    Socket& s = ev.socket;
    s.cookie = r.cookie;
    s.family = r.family;
    s.protocol = r.protocol;
    // ss -E prints a destroyed socket as UNCONN (CLOSE); a state row shows the state entered
    // (a TIME-WAIT's end is a row of the timewait socket, in TIME-WAIT)
    s.state = ev.kind == EventKind::Destroy       ? SSTRACE_TCP_CLOSE
              : ev.kind == EventKind::TimeWaitEnd ? SSTRACE_TCP_TIME_WAIT
                                                  : r.newstate;
    s.rqueue = r.rqueue;
    s.wqueue = r.wqueue;
    s.uid = r.uid;
    s.inode = r.ino;
    s.ifindex = r.ifindex;
    s.inet.local = endpoint(r.family, r.saddr, r.sport);
    s.inet.peer = endpoint(r.family, r.daddr, r.dport);
    // Like ss -E, events carry no v6only attribute: an all-zero IPv6 address prints as `*`.

    decode_details(record, r, ev);

    ev.filter_facts.mark = r.mark;
    ev.filter_facts.cgroup_id = r.cgroup_id;
    s.cgroup_id.reset();  // rows show it with --cgroup only (BpfEventSource)
    decode_owner(record, r, s);
    ev.filter_facts.port_locked = (r.userlocks & 8) != 0;  // SOCK_BINDPORT_LOCK
    return true;
}

}  // namespace sstrace
