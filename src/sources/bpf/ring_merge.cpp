// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/ring_merge.hpp"

#include "sstrace/abi/events.h"

#include <cstring>

namespace sstrace {

namespace {

// The timestamp in a record's header; 0 for a record too short to have one (it goes first, and
// its decoder rejects it).
std::uint64_t record_stamp(std::span<const std::byte> record)
{
    std::uint64_t ts = 0;
    if (record.size() >= sizeof(sstrace_hdr)) {
        std::memcpy(&ts, record.data() + offsetof(sstrace_hdr, ts_ns), sizeof(ts));
    }
    return ts;
}

}  // namespace

std::size_t RingMerge::drain(const std::vector<RingCursor*>& rings, std::uint64_t drained_at_ns,
                             std::size_t max, const Handler& handler)
{
    const std::uint64_t until = drained_at_ns > slack_ns_ ? drained_at_ns - slack_ns_ : 0;
    next_due_.reset();
    // each ring's oldest record, looked at once and again only after it was handed over
    heads_.resize(rings.size());
    for (std::size_t i = 0; i < rings.size(); ++i) {
        heads_[i] = rings[i]->peek();
    }
    std::size_t n = 0;
    for (;;) {
        std::size_t best = rings.size();
        std::uint64_t best_ts = 0;
        for (std::size_t i = 0; i < rings.size(); ++i) {
            if (heads_[i].empty()) {
                continue;
            }
            const std::uint64_t ts = record_stamp(heads_[i]);
            if (best == rings.size() || ts < best_ts) {
                best = i;
                best_ts = ts;
            }
        }
        if (best == rings.size()) {
            return n;
        }
        if (best_ts > until) {
            next_due_ = best_ts + slack_ns_;
            return n;
        }
        if (n == max) {
            next_due_ = 0;
            return n;
        }
        if (best_ts < released_ts_) {
            ++late_;
        } else {
            released_ts_ = best_ts;
        }
        handler(heads_[best]);
        rings[best]->pop();
        heads_[best] = rings[best]->peek();
        ++n;
    }
}

}  // namespace sstrace
