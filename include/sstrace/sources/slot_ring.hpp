// SPDX-License-Identifier: GPL-2.0-only
// One of the records' rings (struct sstrace_ring_ctl, bpf/maps.bpf.h; doc/events.md, section
// 6), read in place: fixed-size slots that one writer (a CPU's programs at one nesting level)
// fills in order, and the two positions the writer and the reader share.
#pragma once

#include "sstrace/abi/events.h"
#include "sstrace/sources/ring_merge.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace sstrace {

class SlotRing final : public RingCursor {
public:
    // `ctl`: the ring's positions (mapped writable); `slots`: its 2^shift slots of `slot_bytes`
    // each; `wake`: the records that must wait before a sleeping reader is woken.
    SlotRing(sstrace_ring_ctl* ctl, const std::byte* slots, std::size_t slot_bytes,
             unsigned shift, std::uint64_t wake);

    // The next record: its header's size, cut to the slot (a shorter span than a header is
    // rejected by the decoder).
    std::span<const std::byte> peek() override;
    // Frees it; the writer learns of freed slots in batches (release()).
    void pop() override;
    // Tells the writer every slot freed so far.
    void release();
    // Before the reader sleeps: asks the writer to ring the doorbell once `wake` records wait.
    // True when records came in since the ring was last looked at that the writer may not ring
    // for (it published them before it could see the request): the reader should not sleep.
    bool sleep();
    // The reader is awake: no doorbell needed.
    void awake();
    // Records the writer has written since the start.
    std::uint64_t written() const;

private:
    sstrace_ring_ctl* ctl_;
    const std::byte* slots_;
    std::size_t slot_bytes_;
    std::uint64_t mask_;
    std::uint64_t wake_;
    std::uint64_t release_every_;
    std::uint64_t pos_ = 0;      // the next record to read
    std::uint64_t head_ = 0;     // the writer's position when last looked at
    std::uint64_t released_ = 0;  // the tail the writer knows
};

}  // namespace sstrace
