// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/event_rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <ctime>

namespace sstrace {

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

// The listing's queue columns carry ss's "%-6d" padding inside the text; here the layout pads.
std::string_view trimmed(std::string_view s)
{
    while (!s.empty() && s.back() == ' ') {
        s.remove_suffix(1);
    }
    return s;
}

// ` lifetime:MSms`: milliseconds with up to three decimals (microseconds), zeros trimmed.
void append_lifetime(std::string& out, std::uint64_t ns)
{
    std::string ms = fmt::format("{}.{:03}", ns / 1000000, (ns / 1000) % 1000);
    while (ms.back() == '0') {
        ms.pop_back();
    }
    if (ms.back() == '.') {
        ms.pop_back();
    }
    out += " lifetime:";
    out += ms;
    out += "ms";
}

}  // namespace

EventRowSink::EventRowSink(const EventRowLayout& layout, SsColumns columns, OutputWriter* out,
                           bool tty)
    : layout_(layout), columns_(std::move(columns)), out_(out)
{
    width_[kTime] = std::strlen("HH:MM:SS.uuuuuu");
    if (layout.netns) {
        netns_names_.emplace(layout.netns_dir);
    }
    // a namespace inode (up to 10 digits), or the longest `ip netns` name now
    width_[kNetns] = std::max<std::size_t>(10, netns_names_ ? netns_names_->longest() : 0);
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
    header_done_ = !layout.header;
    // On a terminal the header shows at once that the programs are attached.
    if (tty && !header_done_) {
        append_header(buf_);
        header_done_ = true;
        buf_header_ = 1;
        flush();
    }
}

void EventRowSink::put(std::string& out, int col, std::string_view text, bool& first)
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

void EventRowSink::append_header(std::string& out) const
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

void EventRowSink::append_row(const SocketEvent& ev, std::string& out)
{
    const SsColumns::Fields* f = columns_.columns(ev.socket);
    if (f == nullptr) {
        return;
    }
    const std::size_t row_start = out.size();
    bool first = true;
    if (layout_.timestamp) {
        const std::int64_t ns = static_cast<std::int64_t>(ev.mono_ns) + clock_offset_;
        const std::time_t secs = ns / 1000000000;
        std::tm tm{};
        localtime_r(&secs, &tm);
        put(out, kTime,
            fmt::format("{:02}:{:02}:{:02}.{:06}", tm.tm_hour, tm.tm_min, tm.tm_sec,
                        (ns % 1000000000) / 1000),
            first);
    }
    if (layout_.netns) {
        put(out, kNetns, netns_names_->label(ev.netns_ino), first);
    }
    if (layout_.netid) {
        put(out, kNetid, (*f)[kColNetid], first);
    }
    if (layout_.state) {
        if (layout_.transitions) {
            const std::string_view old_name = ev.kind == EventKind::Destroy || ev.old_state != 0
                                                  ? state_name(ev.old_state)
                                                  : std::string_view("?");
            const std::string_view new_name = ev.kind == EventKind::TimeWaitEnd
                                                  ? std::string_view("(gone)")
                                                  : state_name(ev.new_state);
            put(out, kState, fmt::format("{} -> {}", old_name, new_name), first);
        } else {
            put(out, kState, (*f)[kColState], first);
        }
    }
    put(out, kRecvQ, trimmed((*f)[kColRecvQ]), first);
    put(out, kSendQ, trimmed((*f)[kColSendQ]), first);
    put(out, kLocal, (*f)[kColLocalAddr], first);
    put(out, kLport, (*f)[kColLocalPort], first);
    put(out, kPeer, (*f)[kColPeerAddr], first);
    put(out, kPport, (*f)[kColPeerPort], first);
    out.append((*f)[kColExt]);
    if (ev.lifetime_ns) {
        append_lifetime(out, *ev.lifetime_ns);
    }
    if (ev.kind == EventKind::TimeWaitEnd) {
        // how the TIME-WAIT ended, and how long it lasted when that is known
        out.append(ev.tw_end == TwEnd::Expired ? " ended:(expired" : " ended:(early");
        if (ev.in_state_ns != 0) {
            fmt::format_to(std::back_inserter(out), ",{:.3f}s", static_cast<double>(ev.in_state_ns) / 1e9);
        }
        out.push_back(')');
    }
    // No trailing blanks: a stream's last column is not padded.
    while (out.size() > row_start && out.back() == ' ') {
        out.pop_back();
    }
    out.push_back('\n');
}

void EventRowSink::event(const SocketEvent& ev)
{
    if (!header_done_) {
        append_header(buf_);
        header_done_ = true;
        buf_header_ = 1;
    }
    append_row(ev, buf_);
    ++buf_rows_;
    ++rows_;
}

void EventRowSink::flush()
{
    if (out_ != nullptr) {
        out_->push(buf_, buf_rows_, buf_header_);
    }
    buf_.clear();
    buf_rows_ = 0;
    buf_header_ = 0;
}

}  // namespace sstrace
