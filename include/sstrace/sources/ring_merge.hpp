// SPDX-License-Identifier: GPL-2.0-only
// The records of the per-CPU rings, handed over in time order (doc/events.md, section 6).
//
// Each CPU writes its own ring. Drained one after another, the rings would hand over one CPU's
// records, then the next CPU's: a socket whose close ran on one CPU and whose FIN arrived on the
// other would show its transitions out of order. The merge reads the rings in place instead: it
// looks at the oldest record of every ring and hands over the oldest of those (by its header's
// timestamp, sstrace_hdr.ts_ns, CLOCK_MONOTONIC), and again, each record straight from its
// ring's memory, which it frees as soon as the record is handled.
//
// It hands over only records stamped at least `slack` before the drain began: a program stamps
// its record a few microseconds before it commits it, so a ring that looks empty may still
// receive an older record than another ring's oldest. Newer records wait in their ring for the
// next drain. A record committed behind a younger one (more than `slack` after its stamp, or in
// its ring behind the record of a program that interrupted its own) still comes after that one:
// counted as late().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace sstrace {

// One ring's unread records, oldest first.
class RingCursor {
public:
    virtual ~RingCursor() = default;
    // The next committed record, or an empty span when none is ready. Stays valid until pop().
    virtual std::span<const std::byte> peek() = 0;
    // Frees the record peek() returned.
    virtual void pop() = 0;
};

class RingMerge {
public:
    using Handler = std::function<void(std::span<const std::byte> record)>;

    explicit RingMerge(std::uint64_t slack_ns) : slack_ns_(slack_ns) {}

    // Hands over, oldest first across `rings`, the records stamped at or before
    // `drained_at_ns` - slack (all of them with ~0), at most `max`; returns how many.
    std::size_t drain(const std::vector<RingCursor*>& rings, std::uint64_t drained_at_ns,
                      std::size_t max, const Handler& handler);
    // After a drain: when the oldest record left in a ring is due (its stamp plus the slack);
    // nullopt when the rings were left empty. A drain cut short by `max` leaves it at 0.
    std::optional<std::uint64_t> next_due() const { return next_due_; }
    // Records handed over after a younger one had been (see above).
    std::uint64_t late() const { return late_; }

private:
    std::uint64_t slack_ns_;
    std::optional<std::uint64_t> next_due_;
    std::uint64_t released_ts_ = 0;  // the newest stamp handed over
    std::uint64_t late_ = 0;
    std::vector<std::span<const std::byte>> heads_;
};

}  // namespace sstrace
