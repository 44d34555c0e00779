// SPDX-License-Identifier: GPL-2.0-only
// The reader's side of one record ring (src/sources/bpf/slot_ring.cpp), over memory laid out as
// the BPF programs lay out the mapped arrays: a struct sstrace_ring_ctl and its slots. The
// writer here is the test, doing what ring_commit() does (bpf/maps.bpf.h); the real writers run
// in the e2e stress tests.
#include "sstrace/abi/events.h"
#include "sstrace/sources/slot_ring.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace sstrace {
namespace {

constexpr std::size_t kSlot = 32;
constexpr unsigned kShift = 4;  // 16 slots

class SlotRingTest : public ::testing::Test {
protected:
    // What a writer does: the record into slot head % 16, then the head.
    void write(std::uint64_t ts, std::uint16_t size = sizeof(sstrace_hdr))
    {
        sstrace_hdr h{};
        h.type = SSTRACE_REC_STATE;
        h.size = size;
        h.ts_ns = ts;
        std::memcpy(slots.data() + (ctl.head % 16) * kSlot, &h, sizeof(h));
        ++ctl.head;
    }
    std::uint64_t stamp(std::span<const std::byte> r)
    {
        sstrace_hdr h{};
        std::memcpy(&h, r.data(), sizeof(h));
        return h.ts_ns;
    }

    sstrace_ring_ctl ctl{};
    std::vector<std::byte> slots = std::vector<std::byte>(kSlot << kShift);
};

TEST_F(SlotRingTest, ReadsWhatTheWriterPublishedInOrderAndNothingMore)
{
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 1);
    EXPECT_TRUE(r.peek().empty());
    write(10);
    write(20, 24);
    ASSERT_EQ(r.peek().size(), sizeof(sstrace_hdr));
    EXPECT_EQ(stamp(r.peek()), 10u);
    r.pop();
    ASSERT_EQ(r.peek().size(), 24u);
    EXPECT_EQ(stamp(r.peek()), 20u);
    r.pop();
    EXPECT_TRUE(r.peek().empty());
    EXPECT_EQ(r.written(), 2u);
}

TEST_F(SlotRingTest, FollowsTheSlotsAroundTheEnd)
{
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 1);
    for (std::uint64_t ts = 1; ts <= 40; ++ts) {
        write(ts);
        ASSERT_EQ(stamp(r.peek()), ts);
        r.pop();
        r.release();  // room for the next lap
    }
    EXPECT_EQ(ctl.tail, 40u);
}

TEST_F(SlotRingTest, ASizeLargerThanTheSlotIsCutToIt)
{
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 1);
    write(1, 4000);
    EXPECT_EQ(r.peek().size(), kSlot);
}

TEST_F(SlotRingTest, GivesSlotsBackAnEighthOfTheRingAtATimeOrWhenReleased)
{
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 1);
    for (int i = 0; i < 3; ++i) {
        write(static_cast<std::uint64_t>(i));
    }
    r.peek();
    r.pop();
    EXPECT_EQ(ctl.tail, 0u) << "the tail moved for one record";
    r.peek();
    r.pop();
    EXPECT_EQ(ctl.tail, 2u) << "two records are an eighth of 16";
    r.peek();
    r.pop();
    EXPECT_EQ(ctl.tail, 2u);
    r.release();
    EXPECT_EQ(ctl.tail, 3u);
}

TEST_F(SlotRingTest, StartsAtTheTailItFinds)
{
    ctl.head = ctl.tail = 7;
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 1);
    EXPECT_TRUE(r.peek().empty());
    write(70);
    EXPECT_EQ(stamp(r.peek()), 70u);
}

TEST_F(SlotRingTest, SleepAsksForTheDoorbellAndAwakeTakesItBack)
{
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 1);
    EXPECT_FALSE(r.sleep());
    EXPECT_EQ(ctl.wake, 1u);
    r.awake();
    EXPECT_EQ(ctl.wake, 0u);
}

TEST_F(SlotRingTest, RecordsNoDoorbellAnnouncedKeepTheReaderAwake)
{
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 1);
    write(1);  // after the reader's last look, before it asked for the doorbell
    EXPECT_TRUE(r.sleep());
    EXPECT_FALSE(r.sleep()) << "the same records twice";
    ASSERT_FALSE(r.peek().empty()) << "sleep() lost sight of the record";
    r.pop();
    EXPECT_FALSE(r.sleep());
}

TEST_F(SlotRingTest, BelowTheWakeThresholdTheReaderMaySleep)
{
    SlotRing r(&ctl, slots.data(), kSlot, kShift, 3);
    write(1);
    write(2);
    EXPECT_FALSE(r.sleep()) << "2 records wait, the writer rings at 3";
    write(3);
    EXPECT_TRUE(r.sleep());
}

}  // namespace
}  // namespace sstrace
