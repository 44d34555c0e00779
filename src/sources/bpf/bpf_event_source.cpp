// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/bpf_event_source.hpp"
#include "sstrace/core/clock.hpp"

#include "sstrace/core/error.hpp"
#include "sstrace/sources/bpf_record.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sstrace {

BpfEventSource::BpfEventSource(BpfSession& session) : session_(session)
{
    session_.set_handler([this](const void* data, std::size_t size) {
        if (holding_) {
            const auto n = static_cast<std::uint32_t>(size);
            const auto* at = reinterpret_cast<const std::byte*>(&n);
            held_.insert(held_.end(), at, at + sizeof(n));
            const auto* rec = static_cast<const std::byte*>(data);
            held_.insert(held_.end(), rec, rec + size);
            ++delivered_;
            return;
        }
        if (!decode({static_cast<const std::byte*>(data), size})) {
            ++malformed_;
            return;
        }
        ++delivered_;
        route(*deliver_);
    });
}

bool BpfEventSource::decode(std::span<const std::byte> record)
{
    if (!decode_record(record, event_)) {
        return false;
    }
    if (cgroup_in_rows_ && event_.filter_facts.cgroup_id != 0) {
        event_.socket.cgroup_id = event_.filter_facts.cgroup_id;
    }
    return true;
}

namespace {

bool same_socket(const SocketEvent& a, const SocketEvent& b)
{
    return a.cpu == b.cpu && a.netns_ino == b.netns_ino && a.socket.cookie == b.socket.cookie &&
           a.socket.family == b.socket.family && a.socket.inet.local == b.socket.inet.local &&
           a.socket.inet.peer == b.socket.inet.peer;
}

}  // namespace

void BpfEventSource::route(const Deliver& deliver)
{
    if (event_.kind == EventKind::TimeWaitEnd) {
        if (event_.tw_end == TwEnd::Cancelled) {
            cancels_.push_back(event_);
            return;
        }
        // the cancel an expiry or a re-arm began with (same socket, same CPU, just before)
        if (event_.tw_end == TwEnd::Expired || event_.tw_end == TwEnd::Rearmed) {
            const auto it = std::find_if(cancels_.rbegin(), cancels_.rend(),
                                         [this](const SocketEvent& c) { return same_socket(c, event_); });
            if (it != cancels_.rend()) {
                cancels_.erase(std::next(it).base());
            }
        }
    }
    deliver(event_);
}

void BpfEventSource::resolve_cancels(std::uint64_t cutoff_ns, const Deliver& deliver)
{
    while (!cancels_.empty() && cancels_.front().mono_ns <= cutoff_ns) {
        SocketEvent& ev = cancels_.front();
        ev.tw_end = TwEnd::Killed;
        deliver(ev);
        cancels_.pop_front();
    }
}

void BpfEventSource::finish(const Deliver& deliver)
{
    if (!holding_) {
        // the records the rings keep until no earlier one of another CPU can come
        deliver_ = &deliver;
        const int got = session_.consume_all();
        deliver_ = nullptr;
        if (got < 0 && got != -EINTR) {
            throw Error::from_errno("consuming the ring buffer", got);
        }
        resolve_cancels(~std::uint64_t{0}, deliver);
    }
}

int BpfEventSource::fd() const { return session_.epoll_fd(); }

std::size_t BpfEventSource::drain(const Deliver& deliver)
{
    if (holding_ && held_.size() >= hold_max_) {
        return 0;  // full: the ring buffer keeps the rest
    }
    std::size_t released = 0;
    if (!holding_ && !held_.empty()) {
        released = release(deliver);
    }
    deliver_ = &deliver;
    delivered_ = 0;
    const int got = session_.consume();
    deliver_ = nullptr;
    if (got < 0 && got != -EINTR) {
        throw Error::from_errno("consuming the ring buffer", got);
    }
    if (!holding_ && !cancels_.empty()) {
        const std::uint64_t now = monotonic_ns();
        resolve_cancels(now > kRearmWaitNs ? now - kRearmWaitNs : 0, deliver);
    }
    return released + delivered_;
}

}  // namespace sstrace

namespace sstrace {

void BpfEventSource::hold(std::size_t max_bytes)
{
    holding_ = true;
    hold_max_ = max_bytes;
}

std::size_t BpfEventSource::release(const Deliver& deliver)
{
    std::size_t n = 0;
    std::size_t at = 0;
    while (at + sizeof(std::uint32_t) <= held_.size()) {
        std::uint32_t size = 0;
        std::memcpy(&size, held_.data() + at, sizeof(size));
        at += sizeof(size);
        if (!decode({held_.data() + at, size})) {
            ++malformed_;
        } else {
            route(deliver);
            ++n;
        }
        at += size;
    }
    held_.clear();
    held_.shrink_to_fit();
    return n;
}

}  // namespace sstrace
