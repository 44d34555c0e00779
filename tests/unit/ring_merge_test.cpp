// SPDX-License-Identifier: GPL-2.0-only
// The merge of the per-CPU rings (src/sources/bpf/ring_merge.cpp): time order across rings,
// records left in their ring while an earlier one may still be committed, late ones counted.
// The rings here are lists; the real ones (mapped ring buffers) run in the e2e stress tests.
#include "sstrace/abi/events.h"
#include "sstrace/sources/ring_merge.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace sstrace {
namespace {

// A record as a ring holds it: a header with `ts`, and a payload byte naming it.
std::vector<std::byte> record(std::uint64_t ts, unsigned char tag)
{
    sstrace_hdr h{};
    h.type = SSTRACE_REC_STATE;
    h.size = sizeof(h) + 1;
    h.ts_ns = ts;
    std::vector<std::byte> r(sizeof(h) + 1);
    std::memcpy(r.data(), &h, sizeof(h));
    r.back() = std::byte{tag};
    return r;
}

class ListRing final : public RingCursor {
public:
    void push(std::uint64_t ts, unsigned char tag) { records.push_back(record(ts, tag)); }
    std::span<const std::byte> peek() override
    {
        return records.empty() ? std::span<const std::byte>{} : std::span<const std::byte>(records.front());
    }
    void pop() override { records.pop_front(); }
    std::deque<std::vector<std::byte>> records;
};

struct Rig {
    ListRing a, b;
    std::vector<RingCursor*> rings{&a, &b};
    std::string out;
    RingMerge::Handler handler()
    {
        return [this](std::span<const std::byte> r) {
            out.push_back(static_cast<char>(std::to_integer<unsigned char>(r.back())));
        };
    }
};

TEST(RingMerge, HandsOverTheRingsInTimeOrder)
{
    Rig r;
    RingMerge m(5);
    r.a.push(10, 'a');
    r.a.push(30, 'c');
    r.a.push(50, 'e');
    r.b.push(20, 'b');
    r.b.push(40, 'd');
    EXPECT_EQ(m.drain(r.rings, 100, SIZE_MAX, r.handler()), 5u);
    EXPECT_EQ(r.out, "abcde");
    EXPECT_FALSE(m.next_due());
    EXPECT_EQ(m.late(), 0u);
}

TEST(RingMerge, LeavesInTheRingWhatAnEarlierRecordMayStillPrecede)
{
    Rig r;
    RingMerge m(10);
    r.a.push(10, 'a');
    r.a.push(40, 'd');
    r.b.push(20, 'b');
    r.b.push(30, 'c');
    // drained at 45: a record stamped after 35 may still be on its way
    EXPECT_EQ(m.drain(r.rings, 45, SIZE_MAX, r.handler()), 3u);
    EXPECT_EQ(r.out, "abc");
    EXPECT_EQ(r.a.records.size(), 1u);  // 'd' stays in its ring
    EXPECT_EQ(m.next_due(), 50u);
    // it was: stamped 38, committed after the drain
    r.b.push(38, 'x');
    r.b.push(60, 'e');
    EXPECT_EQ(m.drain(r.rings, 200, SIZE_MAX, r.handler()), 3u);
    EXPECT_EQ(r.out, "abcxde");
    EXPECT_EQ(m.late(), 0u);
}

TEST(RingMerge, CountsARecordLaterThanTheSlack)
{
    Rig r;
    RingMerge m(10);
    r.a.push(100, 'a');
    EXPECT_EQ(m.drain(r.rings, 200, SIZE_MAX, r.handler()), 1u);
    r.b.push(90, 'b');  // held up for over the slack: younger 'a' is out already
    r.b.push(150, 'c');
    EXPECT_EQ(m.drain(r.rings, 300, SIZE_MAX, r.handler()), 2u);
    EXPECT_EQ(r.out, "abc");
    EXPECT_EQ(m.late(), 1u);
}

TEST(RingMerge, TiesGoToTheFirstRing)
{
    Rig r;
    RingMerge m(0);
    r.b.push(7, 'b');
    r.a.push(7, 'a');
    r.a.push(9, 'c');
    EXPECT_EQ(m.drain(r.rings, ~std::uint64_t{0}, SIZE_MAX, r.handler()), 3u);
    EXPECT_EQ(r.out, "abc");
}

TEST(RingMerge, ACutShortDrainIsDueAtOnce)
{
    Rig r;
    RingMerge m(0);
    for (unsigned char i = 0; i < 10; ++i) {
        (i % 2 ? r.b : r.a).push(i, static_cast<unsigned char>('0' + i));
    }
    EXPECT_EQ(m.drain(r.rings, 100, 4, r.handler()), 4u);
    EXPECT_EQ(m.next_due(), 0u);
    EXPECT_EQ(m.drain(r.rings, 100, SIZE_MAX, r.handler()), 6u);
    EXPECT_EQ(r.out, "0123456789");
    EXPECT_FALSE(m.next_due());
}

TEST(RingMerge, ARecordTooShortForAHeaderGoesFirst)
{
    Rig r;
    RingMerge m(0);
    r.a.push(5, 'a');
    r.b.records.push_back(std::vector<std::byte>(3, std::byte{'s'}));
    EXPECT_EQ(m.drain(r.rings, 10, SIZE_MAX, r.handler()), 2u);
    EXPECT_EQ(r.out, "sa");
}

}  // namespace
}  // namespace sstrace
