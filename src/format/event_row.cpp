// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/event_row.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <iterator>

namespace sstrace {

std::optional<sstrace_event> decode_event(const void* data, std::size_t size)
{
    if (data == nullptr || size < sizeof(sstrace_hdr)) {
        return std::nullopt;
    }
    sstrace_hdr hdr{};
    std::memcpy(&hdr, data, sizeof(hdr));
    // A record may be longer than the layout this build knows (fields added at its end by a
    // newer producer): read what is known, ignore the rest.
    if (hdr.size != size || size < sizeof(sstrace_event)) {
        return std::nullopt;
    }
    if (hdr.type != SSTRACE_REC_STATE && hdr.type != SSTRACE_REC_DESTROY) {
        return std::nullopt;
    }
    sstrace_event ev{};
    std::memcpy(&ev, data, sizeof(ev));
    return ev;
}

namespace {

constexpr bool kRightAligned[] = {false, false, false, false, false, false, true, false, true, false};
// Columns glued to the one before them (ss prints `addr:port`, the ':' ending the address).
constexpr bool kGlued[] = {false, false, false, false, false, false, false, true, false, true};

std::size_t longest_state_name(StateMask mask)
{
    std::size_t n = 0;
    for (int s = 0; s < kStateCount; ++s) {
        if ((mask & state_bit(s)) != 0) {
            n = std::max(n, state_name(s).size());
        }
    }
    return n;
}

}  // namespace

EventFormatter::EventFormatter(const EventLayout& layout, ServiceNames& services)
    : layout_(layout), services_(services)
{
    width_[kTime] = std::strlen("HH:MM:SS.uuuuuu");
    width_[kNetns] = 10;  // a namespace inode: up to 10 digits
    width_[kNetid] = std::strlen("Netid");
    std::size_t state_w = longest_state_name(layout.states);
    if (layout.transitions) {
        state_w = longest_state_name(kAllStates) + std::strlen(" -> ") + state_w;
    }
    width_[kState] = std::max(std::strlen("State"), state_w);
    width_[kRecvQ] = std::strlen("Recv-Q");
    width_[kSendQ] = std::strlen("Send-Q");
    // `255.255.255.255:` fits IPv4; `[::ffff:255.255.255.255]:` fits v4-mapped and most IPv6.
    const std::size_t addr_w = layout.ipv6 ? 25 : 16;
    width_[kLocal] = addr_w;
    width_[kPeer] = addr_w;
    width_[kLport] = 5;
    width_[kPport] = 5;
}

void EventFormatter::put(std::string& out, int col, std::string_view text, bool& first)
{
    auto& w = width_[col];
    w = std::max(w, text.size());
    if (!first && !kGlued[col]) {
        out.push_back(' ');
    }
    first = false;
    const std::size_t pad = w - text.size();
    if (kRightAligned[col]) {
        out.append(pad, ' ');
        out.append(text);
    } else {
        out.append(text);
        out.append(pad, ' ');
    }
}

void EventFormatter::append_header(std::string& out) const
{
    // The header uses the current widths; it is printed before any row widened a column.
    auto self = *this;
    bool first = true;
    if (layout_.timestamp) {
        self.put(out, kTime, "Time", first);
    }
    if (layout_.netns) {
        self.put(out, kNetns, "Netns", first);
    }
    if (layout_.netid) {
        self.put(out, kNetid, "Netid", first);
    }
    if (layout_.state) {
        self.put(out, kState, "State", first);
    }
    self.put(out, kRecvQ, "Recv-Q", first);
    self.put(out, kSendQ, "Send-Q", first);
    self.put(out, kLocal, "Local Address:", first);
    self.put(out, kLport, "Port", first);
    self.put(out, kPeer, "Peer Address:", first);
    self.put(out, kPport, "Port", first);
    out.append("Process\n");  // no delimiter before Process, as in ss 6.1
}

void EventFormatter::append_row(const sstrace_event& ev, std::string& out)
{
    const std::size_t row_start = out.size();
    bool first = true;
    if (layout_.timestamp) {
        const std::int64_t ns = static_cast<std::int64_t>(ev.hdr.ts_ns) + clock_offset_;
        const std::time_t secs = ns / 1000000000;
        std::tm tm{};
        localtime_r(&secs, &tm);
        put(out, kTime,
            fmt::format("{:02}:{:02}:{:02}.{:06}", tm.tm_hour, tm.tm_min, tm.tm_sec,
                        (ns % 1000000000) / 1000),
            first);
    }
    if (layout_.netns) {
        put(out, kNetns, fmt::format("{}", ev.netns_ino), first);
    }
    if (layout_.netid) {
        put(out, kNetid, "tcp", first);
    }
    if (layout_.state) {
        if (layout_.transitions) {
            const std::string_view old_name =
                ev.hdr.type == SSTRACE_REC_DESTROY || ev.oldstate != 0 ? state_name(ev.oldstate)
                                                                       : std::string_view("?");
            put(out, kState, fmt::format("{} -> {}", old_name, state_name(ev.newstate)), first);
        } else {
            put(out, kState, state_name(ev.newstate), first);
        }
    }
    put(out, kRecvQ, fmt::format("{}", ev.rqueue), first);
    put(out, kSendQ, fmt::format("{}", ev.wqueue), first);

    InetAddr local;
    local.family = ev.family;
    std::memcpy(local.bytes, ev.saddr, sizeof(local.bytes));
    InetAddr peer;
    peer.family = ev.family;
    std::memcpy(peer.bytes, ev.daddr, sizeof(peer.bytes));
    // Like ss -E, events carry no v6only attribute: an all-zero IPv6 address prints as `*`.
    std::string local_text = format_inet_host(local, false, layout_.resolve);
    if (ev.ifindex != 0) {
        local_text += "%" + interface_name(ev.ifindex);
    }
    local_text.push_back(':');
    put(out, kLocal, local_text, first);
    put(out, kLport, services_.port_text(ev.sport), first);
    std::string peer_text = format_inet_host(peer, false, layout_.resolve);
    peer_text.push_back(':');
    put(out, kPeer, peer_text, first);
    put(out, kPport, services_.port_text(ev.dport), first);

    if (layout_.extended) {
        // ss -E -e: uid only when not root; events have no timers, cgroup or shutdown state
        if (ev.uid != 0) {
            fmt::format_to(std::back_inserter(out), " uid:{}", ev.uid);
        }
        fmt::format_to(std::back_inserter(out), " ino:{} sk:{:x}", ev.ino, ev.cookie);
    }
    // No trailing blanks: a stream's last column is not padded.
    while (out.size() > row_start && out.back() == ' ') {
        out.pop_back();
    }
    out.push_back('\n');
}

}  // namespace sstrace
