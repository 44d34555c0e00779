// SPDX-License-Identifier: GPL-2.0-only
// Events a stream knows it did not deliver, by cause: the kernel's counts (ring buffer full,
// runs skipped, TIME-WAIT lookups cut short) and those a capture file could not take. The
// stream reports them about once a second; sinks put them in their output (a capture's loss
// records, JSON loss objects), so that a reader of the output knows where the gaps are.
#pragma once

#include <cstdint>

namespace sstrace {

struct EventLoss {
    std::uint64_t mono_ns = 0;  // CLOCK_MONOTONIC time the loss was noticed (it happened before)
    std::uint64_t ring_full = 0;    // records that found the ring buffer full
    std::uint64_t skipped = 0;      // program runs the kernel skipped (an upper bound)
    std::uint64_t map_full = 0;     // TIME-WAIT lookups cut short (named as in the capture format)
    std::uint64_t not_written = 0;  // events a capture file could not take (its queue was full)

    std::uint64_t total() const { return ring_full + skipped + map_full + not_written; }
    EventLoss& operator+=(const EventLoss& o)
    {
        ring_full += o.ring_full;
        skipped += o.skipped;
        map_full += o.map_full;
        not_written += o.not_written;
        return *this;
    }
};

}  // namespace sstrace
