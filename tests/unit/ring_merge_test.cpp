// SPDX-License-Identifier: GPL-2.0-only
// The merge of the per-CPU rings (src/sources/bpf/ring_merge.cpp): time order across rings,
// records left in their ring while an earlier one may still be committed, late ones counted.
// The rings here are lists; the real ones (mapped ring buffers) run in the e2e stress tests.
#include "sstrace/abi/events.h"
#include "sstrace/sources/ring_merge.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <initializer_list>
#include <string>
#include <utility>
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
    // (stamp, tag) pairs, oldest first
    void push(std::initializer_list<std::pair<std::uint64_t, char>> recs)
    {
        for (const auto& [ts, tag] : recs) {
            push(ts, static_cast<unsigned char>(tag));
        }
    }
    std::span<const std::byte> peek() override
    {
        if (records.empty()) {
            return {};
        }
        return records.front();
    }
    void pop() override { records.pop_front(); }
    std::deque<std::vector<std::byte>> records;
};

// Two rings and a merge with a slack of 10 ns.
class RingMergeTest : public ::testing::Test {
protected:
    ListRing a, b;
    std::vector<RingCursor*> rings{&a, &b};
    RingMerge m{10};
    std::string out;
    // a drain at `at` (~0: everything), at most `max` records; what it handed over
    std::size_t drain(std::uint64_t at, std::size_t max = SIZE_MAX)
    {
        return m.drain(rings, at, max, handler());
    }
    RingMerge::Handler handler()
    {
        return [this](std::span<const std::byte> r) {
            out.push_back(static_cast<char>(std::to_integer<unsigned char>(r.back())));
        };
    }
};

TEST_F(RingMergeTest, HandsOverTheRingsInTimeOrder)
{
    a.push({{10, 'a'}, {30, 'c'}, {50, 'e'}});
    b.push({{20, 'b'}, {40, 'd'}});
    EXPECT_EQ(drain(100), 5u);
    EXPECT_EQ(out, "abcde");
    EXPECT_FALSE(m.next_due());
    EXPECT_EQ(m.late(), 0u);
}

TEST_F(RingMergeTest, LeavesInTheRingWhatAnEarlierRecordMayStillPrecede)
{
    a.push({{10, 'a'}, {40, 'd'}});
    b.push({{20, 'b'}, {30, 'c'}});
    // drained at 45: a record stamped after 35 may still be on its way
    EXPECT_EQ(drain(45), 3u);
    EXPECT_EQ(out, "abc");
    EXPECT_EQ(a.records.size(), 1u);  // 'd' stays in its ring
    EXPECT_EQ(m.next_due(), 50u);
    // it was: stamped 38, committed after the drain
    b.push({{38, 'x'}, {60, 'e'}});
    EXPECT_EQ(drain(200), 3u);
    EXPECT_EQ(out, "abcxde");
    EXPECT_EQ(m.late(), 0u);
}

TEST_F(RingMergeTest, CountsARecordLaterThanTheSlack)
{
    a.push(100, 'a');
    EXPECT_EQ(drain(200), 1u);
    b.push({{90, 'b'}, {150, 'c'}});  // 'b' held up for over the slack: 'a' is out already
    EXPECT_EQ(drain(300), 2u);
    EXPECT_EQ(out, "abc");
    EXPECT_EQ(m.late(), 1u);
}

TEST_F(RingMergeTest, TiesGoToTheFirstRing)
{
    b.push({{7, 'b'}});
    a.push({{7, 'a'}, {9, 'c'}});
    EXPECT_EQ(drain(~std::uint64_t{0}), 3u);
    EXPECT_EQ(out, "abc");
}

TEST_F(RingMergeTest, ACutShortDrainIsDueAtOnce)
{
    for (unsigned char i = 0; i < 10; ++i) {
        (i % 2 ? b : a).push(i, static_cast<unsigned char>('0' + i));
    }
    EXPECT_EQ(drain(100, 4), 4u);
    EXPECT_EQ(m.next_due(), 0u);
    EXPECT_EQ(drain(100), 6u);
    EXPECT_EQ(out, "0123456789");
    EXPECT_FALSE(m.next_due());
}

TEST_F(RingMergeTest, ARecordTooShortForAHeaderGoesFirst)
{
    a.push(5, 'a');
    b.records.push_back(std::vector<std::byte>(3, std::byte{'s'}));
    EXPECT_EQ(drain(100), 2u);
    EXPECT_EQ(out, "sa");
}

}  // namespace
}  // namespace sstrace
