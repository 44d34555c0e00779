// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/slot_ring.hpp"

#include <algorithm>

namespace sstrace {

SlotRing::SlotRing(sstrace_ring_ctl* ctl, const std::byte* slots, std::size_t slot_bytes,
                   unsigned shift, std::uint64_t wake)
    : ctl_(ctl),
      slots_(slots),
      slot_bytes_(slot_bytes),
      mask_((std::uint64_t{1} << shift) - 1),
      wake_(std::max<std::uint64_t>(wake, 1)),
      // an eighth of the ring: the writer sees room come back while the reader drains, and the
      // reader's line moves to the writer's CPU a few times per ring, not once per record
      release_every_(std::max<std::uint64_t>((mask_ + 1) / 8, 1))
{
    pos_ = __atomic_load_n(&ctl_->tail, __ATOMIC_ACQUIRE);
    head_ = pos_;
    released_ = pos_;
}

std::span<const std::byte> SlotRing::peek()
{
    if (pos_ == head_) {
        head_ = __atomic_load_n(&ctl_->head, __ATOMIC_ACQUIRE);
        if (pos_ == head_) {
            return {};
        }
    }
    const std::byte* slot = slots_ + (pos_ & mask_) * slot_bytes_;
    const auto* hdr = reinterpret_cast<const sstrace_hdr*>(slot);
    return {slot, std::min<std::size_t>(hdr->size, slot_bytes_)};
}

void SlotRing::pop()
{
    ++pos_;
    if (pos_ - released_ >= release_every_) {
        release();
    }
}

void SlotRing::release()
{
    if (released_ != pos_) {
        __atomic_store_n(&ctl_->tail, pos_, __ATOMIC_RELEASE);
        released_ = pos_;
    }
}

bool SlotRing::sleep()
{
    __atomic_store_n(&ctl_->wake, 1, __ATOMIC_RELAXED);
    // the request before the look at the head. The writer publishes the head, then reads the
    // request (ring_commit): one of the two sees the other, but for a window of nanoseconds on
    // x86, where the writer has no fence (the loop's tick then picks the records up)
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    const std::uint64_t head = __atomic_load_n(&ctl_->head, __ATOMIC_ACQUIRE);
    const bool unannounced = head != head_ && head - pos_ >= wake_;
    head_ = std::max(head_, head);
    return unannounced;
}

void SlotRing::awake()
{
    if (__atomic_load_n(&ctl_->wake, __ATOMIC_RELAXED) != 0) {
        __atomic_store_n(&ctl_->wake, 0, __ATOMIC_RELAXED);
    }
}

std::uint64_t SlotRing::written() const { return __atomic_load_n(&ctl_->head, __ATOMIC_ACQUIRE); }

}  // namespace sstrace
