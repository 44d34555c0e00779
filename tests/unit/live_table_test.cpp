// SPDX-License-Identifier: GPL-2.0-only
// The live table at the seam between a dump and the events queued while it ran.
#include "sstrace/core/state.hpp"
#include "sstrace/model/live_table.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

using namespace sstrace;
using Verdict = LiveTable::Verdict;

namespace {

constexpr std::uint32_t kNetns = 4026531840u;

Socket tcp(std::uint64_t cookie, int state, unsigned lport, unsigned pport)
{
    Socket s;
    s.cookie = cookie;
    s.family = AF_INET;
    s.protocol = 6;
    s.state = state;
    s.inet.local.addr.family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", s.inet.local.addr.bytes);
    s.inet.peer.addr = s.inet.local.addr;
    s.inet.local.port = static_cast<std::uint16_t>(lport);
    s.inet.peer.port = static_cast<std::uint16_t>(pport);
    return s;
}

SocketEvent entry(const Socket& s, int old_state, int new_state)
{
    SocketEvent ev;
    ev.kind = EventKind::StateEntry;
    ev.old_state = old_state;
    ev.new_state = new_state;
    ev.netns_ino = kNetns;
    ev.socket = s;
    ev.socket.state = new_state;
    return ev;
}

}  // namespace

TEST(LiveTable, QueuedEventsAroundTheDumpReadAreStaleDuplicateOrNew)
{
    // the dump read the socket in ESTAB; the ring holds its whole life
    LiveTable t(100);
    const Socket s = tcp(1, kStateEstablished, 40000, 80);
    t.seed(s, kNetns);
    EXPECT_EQ(t.apply(entry(s, kStateClose, kStateSynSent)), Verdict::Stale);
    EXPECT_EQ(t.apply(entry(s, kStateSynSent, kStateEstablished)), Verdict::Duplicate);
    EXPECT_EQ(t.apply(entry(s, kStateEstablished, kStateFinWait1)), Verdict::New);
    EXPECT_EQ(t.apply(entry(s, kStateFinWait1, kStateFinWait2)), Verdict::New);
    EXPECT_EQ(t.apply(entry(s, kStateFinWait2, kStateTimeWait)), Verdict::New);
    EXPECT_EQ(t.states()[kStateTimeWait], 1u);
    EXPECT_EQ(t.states()[kStateEstablished], 0u);
}

TEST(LiveTable, TimeWaitIsKnownByItsTuple)
{
    // a timewait socket listed without a cookie the stream knows
    LiveTable t(100);
    Socket tw = tcp(0, kStateTimeWait, 40001, 80);
    t.seed(tw, kNetns);
    Socket full = tcp(77, kStateFinWait2, 40001, 80);
    EXPECT_EQ(t.apply(entry(full, kStateFinWait2, kStateTimeWait)), Verdict::Duplicate);
    // the same tuple in another namespace is another socket
    SocketEvent elsewhere = entry(full, kStateFinWait2, kStateTimeWait);
    elsewhere.netns_ino = kNetns + 1;
    EXPECT_EQ(t.apply(elsewhere), Verdict::New);
    EXPECT_EQ(t.size(), 2u);
}

TEST(LiveTable, SocketsTheDumpNeverListedAreNew)
{
    LiveTable t(100);
    const Socket s = tcp(5, kStateSynSent, 40002, 80);
    EXPECT_EQ(t.apply(entry(s, kStateClose, kStateSynSent)), Verdict::New);
    EXPECT_EQ(t.apply(entry(s, kStateSynSent, kStateEstablished)), Verdict::New);
    EXPECT_EQ(t.states()[kStateEstablished], 1u);
    // a close takes it out; its destroy finds nothing left and is still an event
    EXPECT_EQ(t.apply(entry(s, kStateEstablished, kStateClose)), Verdict::New);
    SocketEvent gone;
    gone.kind = EventKind::Destroy;
    gone.socket = s;
    EXPECT_EQ(t.apply(gone), Verdict::New);
    EXPECT_EQ(t.size(), 0u);
}

TEST(LiveTable, FullTableCountsWhatItCannotHold)
{
    LiveTable t(1);
    t.seed(tcp(1, kStateEstablished, 1, 2), kNetns);
    t.seed(tcp(2, kStateEstablished, 3, 4), kNetns);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.dropped(), 1u);
    // the socket it could not hold: its changes are new (shown), and still not held
    const Socket s2 = tcp(2, kStateEstablished, 3, 4);
    EXPECT_EQ(t.apply(entry(s2, kStateEstablished, kStateFinWait1)), Verdict::New);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.dropped(), 2u);
}
