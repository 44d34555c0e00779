// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/model/live_table.hpp"

#include <cstring>

namespace sstrace {

namespace {

constexpr int kTimeWait = 6;  // kernel TCP state numbers
constexpr int kClose = 7;

}  // namespace

LiveTable::LiveTable(std::size_t max_sockets) : max_(max_sockets) {}

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

void LiveTable::seed(const Socket& s, std::uint32_t netns_ino)
{
    if (!room()) {
        return;
    }
    if (s.state == kTimeWait) {
        timewait_.insert(tuple_of(s, netns_ino));
    } else if (s.cookie != 0) {
        full_[s.cookie] = s.state;
    }
}

LiveTable::Verdict LiveTable::apply(const SocketEvent& ev)
{
    const Socket& s = ev.socket;
    if (ev.kind == EventKind::Destroy) {
        full_.erase(s.cookie);
        return Verdict::New;
    }
    if (ev.new_state == kTimeWait) {
        // the full socket becomes a timewait socket, known from now on by its tuple
        full_.erase(s.cookie);
        const auto [it, inserted] = timewait_.insert(tuple_of(s, ev.netns_ino));
        (void)it;
        if (!inserted) {
            return Verdict::Duplicate;
        }
        if (size() > max_) {
            timewait_.erase(tuple_of(s, ev.netns_ino));
            ++dropped_;
        }
        return Verdict::New;
    }
    const auto found = full_.find(s.cookie);
    if (found == full_.end()) {
        // a socket the dump did not list: opened after the dump read its bucket, or gone before
        if (ev.new_state != kClose && room()) {
            full_[s.cookie] = ev.new_state;
        }
        return Verdict::New;
    }
    if (found->second == ev.old_state) {
        if (ev.new_state == kClose) {
            full_.erase(found);  // closed: the destroy that follows finds nothing left
        } else {
            found->second = ev.new_state;
        }
        return Verdict::New;
    }
    return found->second == ev.new_state ? Verdict::Duplicate : Verdict::Stale;
}

std::array<std::size_t, 12> LiveTable::states() const
{
    std::array<std::size_t, 12> n{};
    for (const auto& [cookie, state] : full_) {
        if (state >= 0 && state < 12) {
            ++n[static_cast<std::size_t>(state)];
        }
    }
    n[kTimeWait] += timewait_.size();
    return n;
}

}  // namespace sstrace
