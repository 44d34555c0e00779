// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/model/live_table.hpp"

#include <algorithm>
#include <netinet/in.h>

#include <cstring>
#include <utility>

namespace sstrace {

LiveTable::LiveTable(std::size_t max_sockets, StateMask members)
    : max_(max_sockets), members_(members)
{
}

std::size_t LiveTable::TupleHash::operator()(const Tuple& t) const
{
    // FNV-1a over the fields
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const void* p, std::size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) {
            h = (h ^ b[i]) * 1099511628211ull;
        }
    };
    mix(&t.netns, sizeof(t.netns));
    mix(&t.family, sizeof(t.family));
    mix(t.local.data(), t.local.size());
    mix(t.peer.data(), t.peer.size());
    mix(&t.lport, sizeof(t.lport));
    mix(&t.pport, sizeof(t.pport));
    return static_cast<std::size_t>(h);
}

LiveTable::Tuple LiveTable::tuple_of(const Socket& s, std::uint32_t netns)
{
    Tuple t;
    t.netns = netns;
    t.family = s.family;
    std::memcpy(t.local.data(), s.inet.local.addr.bytes, t.local.size());
    std::memcpy(t.peer.data(), s.inet.peer.addr.bytes, t.peer.size());
    t.lport = s.inet.local.port;
    t.pport = s.inet.peer.port;
    return t;
}

bool LiveTable::room()
{
    if (size() < max_) {
        return true;
    }
    ++dropped_;
    return false;
}

std::unique_ptr<LiveTable::Row> LiveTable::row_of(const SocketEvent& ev)
{
    if (encode_ == nullptr) {
        return nullptr;
    }
    auto row = std::make_unique<Row>();
    row->rec = encode_(ev);
    row->seq = ++next_seq_;
    return row;
}

void LiveTable::hold_timewait(const Tuple& t, std::uint64_t since_ns, std::uint64_t ends_ns,
                              std::uint64_t listed_ns, std::vector<SocketOwner> owners,
                              std::unique_ptr<Row> row)
{
    const std::uint64_t due = follow_ends_ ? ends_ns + kEndSlackNs : ends_ns;
    timewait_[t] = Timewait{since_ns, due, listed_ns, std::move(owners), std::move(row)};
    endings_.push(Ending{due, t});
}

void LiveTable::seed(const Socket& s, std::uint32_t netns_ino, std::uint64_t now_ns)
{
    if (!member(s.state)) {
        return;
    }
    // the row: the socket as listed (a copy only when rows are kept)
    auto listed_row = [&] {
        if (encode_ == nullptr) {
            return std::unique_ptr<Row>();
        }
        SocketEvent ev;
        ev.new_state = s.state;
        ev.mono_ns = now_ns;
        ev.netns_ino = netns_ino;
        ev.socket = s;
        ev.filter_facts.mark = s.mark;
        ev.filter_facts.cgroup_id = s.cgroup_id.value_or(0);
        return row_of(ev);
    };
    if (s.state == kStateTimeWait) {
        const Tuple t = tuple_of(s, netns_ino);
        if (timewait_.contains(t) || !room()) {
            return;
        }
        // the dump's timer says when it ends (ms); without one, a whole TIME-WAIT from now
        const std::uint64_t left =
            s.timer.expires_ms != 0 ? s.timer.expires_ms * 1'000'000ull : kTimeWaitNs;
        // when it entered, as its timer tells (TCP's TIME-WAIT lasts kTimeWaitNs)
        const std::uint64_t since = now_ns + left > kTimeWaitNs ? now_ns + left - kTimeWaitNs : 0;
        hold_timewait(t, since, now_ns + left, now_ns, {}, listed_row());
    } else if (s.cookie != 0 && (full_.contains(s.cookie) || room())) {
        full_[s.cookie] = Full{s.state, netns_ino, s.protocol == IPPROTO_TCP, listed_row()};
    }
}

LiveTable::Verdict LiveTable::end_timewait(SocketEvent& ev)
{
    const auto held = timewait_.find(tuple_of(ev.socket, ev.netns_ino));
    if (held == timewait_.end()) {
        return Verdict::Stale;  // ended before the dump read it, or never held
    }
    Timewait& tw = held->second;
    if (tw.since_ns > ev.mono_ns) {
        // the end of an older timewait socket of the tuple, delivered after the entry of the
        // one the table holds (a kill waits for its possible re-arm): not this one's end
        return Verdict::New;
    }
    if (ev.tw_end == TwEnd::Rearmed) {
        // the timer runs a whole TIME-WAIT again from now
        tw.due_ns = ev.mono_ns + kTimeWaitNs + (follow_ends_ ? kEndSlackNs : 0);
        endings_.push(Ending{tw.due_ns, held->first});
        return Verdict::Duplicate;
    }
    if (tw.since_ns != 0 && ev.mono_ns > tw.since_ns) {
        ev.in_state_ns = ev.mono_ns - tw.since_ns;
    }
    if (!tw.owners.empty()) {
        ev.socket.owners = std::move(tw.owners);
    }
    timewait_.erase(held);
    return Verdict::New;
}

LiveTable::Verdict LiveTable::apply(SocketEvent& ev)
{
    const Socket& s = ev.socket;
    if (ev.kind == EventKind::TimeWaitEnd) {
        return end_timewait(ev);
    }
    if (ev.kind == EventKind::Destroy) {
        full_.erase(s.cookie);
        return Verdict::New;
    }
    if (ev.new_state == kStateTimeWait) {
        // the full socket becomes a timewait socket, known from now on by its tuple
        full_.erase(s.cookie);
        if (!member(kStateTimeWait)) {
            return Verdict::New;
        }
        const Tuple t = tuple_of(s, ev.netns_ino);
        if (const auto held = timewait_.find(t); held != timewait_.end()) {
            // A tuple has one timewait socket at a time, so the one a dump read is the latest
            // entry before that read: an entry before it is that one (or an older one the
            // dump's supersedes), one after it a new entry. (Neither the timer nor the cookie
            // can tell: the timer restarts at a re-arm, and a socket opened before the stream
            // may get its cookie after its timewait socket copied none.)
            if (ev.mono_ns <= held->second.listed_ns) {
                return Verdict::Duplicate;
            }
            hold_timewait(t, ev.mono_ns, ev.mono_ns + kTimeWaitNs, 0, s.owners, row_of(ev));
            return Verdict::New;
        }
        if (room()) {
            hold_timewait(t, ev.mono_ns, ev.mono_ns + kTimeWaitNs, 0, s.owners, row_of(ev));
        }
        return Verdict::New;
    }
    const auto found = full_.find(s.cookie);
    if (found == full_.end()) {
        // a socket the table does not hold: opened after the dump read its bucket, gone before
        // it, or in states outside the selection until now
        if (member(ev.new_state) && room()) {
            full_[s.cookie] = Full{ev.new_state, ev.netns_ino, true, row_of(ev)};
        }
        return Verdict::New;
    }
    if (found->second.state == ev.old_state) {
        if (member(ev.new_state)) {
            found->second.state = ev.new_state;
            if (found->second.row) {
                found->second.row->rec = encode_(ev);  // its place in the order kept
            }
        } else {
            full_.erase(found);  // left the selection (a close: its destroy finds nothing)
        }
        return Verdict::New;
    }
    return found->second.state == ev.new_state ? Verdict::Duplicate : Verdict::Stale;
}

std::size_t LiveTable::expire(std::uint64_t now_ns)
{
    std::size_t n = 0;
    while (!endings_.empty() && endings_.top().ns <= now_ns) {
        const Ending e = endings_.top();
        endings_.pop();
        const auto held = timewait_.find(e.tuple);
        if (held != timewait_.end() && held->second.due_ns == e.ns) {
            timewait_.erase(held);
            ++n;
            if (follow_ends_) {
                ++unseen_ends_;
            }
        }
    }
    return n;
}

void LiveTable::rows(
    const std::function<void(const sstrace_event&, std::uint64_t since_ns)>& visit) const
{
    struct Ref {
        const Row* row;
        std::uint64_t since_ns;
    };
    std::vector<Ref> refs;
    refs.reserve(size());
    for (const auto& [cookie, f] : full_) {
        if (f.row) {
            refs.push_back({f.row.get(), 0});
        }
    }
    for (const auto& [tuple, tw] : timewait_) {
        if (tw.row) {
            refs.push_back({tw.row.get(), tw.since_ns});
        }
    }
    std::sort(refs.begin(), refs.end(),
              [](const Ref& a, const Ref& b) { return a.row->seq < b.row->seq; });
    for (const Ref& r : refs) {
        visit(r.row->rec, r.since_ns);
    }
}

std::size_t LiveTable::datagram_sockets() const
{
    std::size_t n = 0;
    for (const auto& [cookie, f] : full_) {
        n += f.tcp ? 0 : 1;
    }
    return n;
}

std::array<std::size_t, kStateCount> LiveTable::states() const
{
    std::array<std::size_t, kStateCount> n{};
    for (const auto& [cookie, f] : full_) {
        if (f.tcp && f.state >= 0 && f.state < kStateCount) {
            ++n[static_cast<std::size_t>(f.state)];
        }
    }
    n[kStateTimeWait] += timewait_.size();
    return n;
}

std::map<std::uint32_t, std::array<std::size_t, kStateCount>> LiveTable::states_by_netns() const
{
    std::map<std::uint32_t, std::array<std::size_t, kStateCount>> by;
    for (const auto& [cookie, f] : full_) {
        if (f.tcp && f.state >= 0 && f.state < kStateCount) {
            ++by[f.netns][static_cast<std::size_t>(f.state)];
        }
    }
    for (const auto& [tuple, tw] : timewait_) {
        ++by[tuple.netns][kStateTimeWait];
    }
    return by;
}

}  // namespace sstrace
