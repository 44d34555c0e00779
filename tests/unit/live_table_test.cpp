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
constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kSec = 1000 * kMs;

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

// The table annotates the event it applies: a copy here.
Verdict apply(LiveTable& t, SocketEvent ev) { return t.apply(ev); }

SocketEvent tw_end(const Socket& s, TwEnd how, std::uint64_t at_ns)
{
    SocketEvent ev;
    ev.kind = EventKind::TimeWaitEnd;
    ev.tw_end = how;
    ev.old_state = kStateTimeWait;
    ev.netns_ino = kNetns;
    ev.mono_ns = at_ns;
    ev.socket = s;
    ev.socket.state = kStateTimeWait;
    return ev;
}

}  // namespace

TEST(LiveTable, QueuedEventsAroundTheDumpReadAreStaleDuplicateOrNew)
{
    // the dump read the socket in ESTAB; the ring holds its whole life
    LiveTable t(100);
    const Socket s = tcp(1, kStateEstablished, 40000, 80);
    t.seed(s, kNetns, 0);
    EXPECT_EQ(apply(t, entry(s, kStateClose, kStateSynSent)), Verdict::Stale);
    EXPECT_EQ(apply(t, entry(s, kStateSynSent, kStateEstablished)), Verdict::Duplicate);
    EXPECT_EQ(apply(t, entry(s, kStateEstablished, kStateFinWait1)), Verdict::New);
    EXPECT_EQ(apply(t, entry(s, kStateFinWait1, kStateFinWait2)), Verdict::New);
    EXPECT_EQ(apply(t, entry(s, kStateFinWait2, kStateTimeWait)), Verdict::New);
    EXPECT_EQ(t.states()[kStateTimeWait], 1u);
    EXPECT_EQ(t.states()[kStateEstablished], 0u);
}

TEST(LiveTable, TimeWaitIsKnownByItsTuple)
{
    // a timewait socket listed without a cookie the stream knows
    LiveTable t(100);
    // listed at 10 s with 59.8 s left: it entered at about 9.8 s
    Socket tw = tcp(0, kStateTimeWait, 40001, 80);
    tw.timer.expires_ms = 59'800;
    t.seed(tw, kNetns, 10 * kSec);
    Socket full = tcp(77, kStateFinWait2, 40001, 80);
    SocketEvent queued = entry(full, kStateFinWait2, kStateTimeWait);
    queued.mono_ns = 9 * kSec + 790 * kMs;
    EXPECT_EQ(t.apply(queued), Verdict::Duplicate);
    // the same tuple in another namespace is another socket
    SocketEvent elsewhere = queued;
    elsewhere.netns_ino = kNetns + 1;
    EXPECT_EQ(t.apply(elsewhere), Verdict::New);
    EXPECT_EQ(t.size(), 2u);
    // the tuple reused two seconds later (tcp_tw_reuse): a new entry
    SocketEvent reused = queued;
    reused.mono_ns += 2 * kSec;
    EXPECT_EQ(t.apply(reused), Verdict::New);
    EXPECT_EQ(t.size(), 2u);
    // the timers fire: the listed one's replaced entry is skipped, the other two go
    EXPECT_EQ(t.expire(69 * kSec), 0u);
    EXPECT_EQ(t.expire(70 * kSec), 1u);  // the other namespace's, entered at 9.79 s
    EXPECT_EQ(t.expire(72 * kSec), 1u);  // the reused tuple's
    EXPECT_EQ(t.size(), 0u);
}

TEST(LiveTable, HoldsTheSocketsOfItsStatesOnly)
{
    // a watch of `state established`
    LiveTable t(100, state_bit(kStateEstablished));
    t.seed(tcp(1, kStateEstablished, 40003, 80), kNetns, 0);
    t.seed(tcp(2, kStateListen, 80, 0), kNetns, 0);
    EXPECT_EQ(t.size(), 1u);
    // leaving the selection: the change shows, the socket goes
    const Socket s1 = tcp(1, kStateEstablished, 40003, 80);
    EXPECT_EQ(apply(t, entry(s1, kStateEstablished, kStateFinWait1)), Verdict::New);
    EXPECT_EQ(t.size(), 0u);
    // a socket on its way in is held from its entry on
    const Socket s3 = tcp(3, kStateSynSent, 40004, 80);
    EXPECT_EQ(apply(t, entry(s3, kStateClose, kStateSynSent)), Verdict::New);
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(apply(t, entry(s3, kStateSynSent, kStateEstablished)), Verdict::New);
    EXPECT_EQ(t.states()[kStateEstablished], 1u);
    // TIME-WAIT is outside the selection: never held
    EXPECT_EQ(apply(t, entry(s3, kStateEstablished, kStateTimeWait)), Verdict::New);
    EXPECT_EQ(t.size(), 0u);
}

TEST(LiveTable, SocketsTheDumpNeverListedAreNew)
{
    LiveTable t(100);
    const Socket s = tcp(5, kStateSynSent, 40002, 80);
    EXPECT_EQ(apply(t, entry(s, kStateClose, kStateSynSent)), Verdict::New);
    EXPECT_EQ(apply(t, entry(s, kStateSynSent, kStateEstablished)), Verdict::New);
    EXPECT_EQ(t.states()[kStateEstablished], 1u);
    // a close takes it out; its destroy finds nothing left and is still an event
    EXPECT_EQ(apply(t, entry(s, kStateEstablished, kStateClose)), Verdict::New);
    SocketEvent gone;
    gone.kind = EventKind::Destroy;
    gone.socket = s;
    EXPECT_EQ(t.apply(gone), Verdict::New);
    EXPECT_EQ(t.size(), 0u);
}

TEST(LiveTable, FullTableCountsWhatItCannotHold)
{
    LiveTable t(1);
    t.seed(tcp(1, kStateEstablished, 1, 2), kNetns, 0);
    t.seed(tcp(2, kStateEstablished, 3, 4), kNetns, 0);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.dropped(), 1u);
    // the socket it could not hold: its changes are new (shown), and still not held
    const Socket s2 = tcp(2, kStateEstablished, 3, 4);
    EXPECT_EQ(apply(t, entry(s2, kStateEstablished, kStateFinWait1)), Verdict::New);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.dropped(), 2u);
}

TEST(LiveTable, EndsOfTimeWaitRemoveItAndTellHowLongItLasted)
{
    LiveTable t(100);
    t.follow_ends(true);
    // listed at 100 s with 30 s left on its timer: it entered at 70 s
    Socket listed = tcp(0, kStateTimeWait, 40010, 80);
    listed.timer.expires_ms = 30'000;
    t.seed(listed, kNetns, 100 * kSec);
    // entered at 110 s in the stream
    const Socket s = tcp(7, kStateFinWait2, 40011, 80);
    SocketEvent in = entry(s, kStateFinWait2, kStateTimeWait);
    in.mono_ns = 110 * kSec;
    EXPECT_EQ(t.apply(in), Verdict::New);
    EXPECT_EQ(t.states()[kStateTimeWait], 2u);

    SocketEvent end1 = tw_end(listed, TwEnd::Expired, 130 * kSec);
    EXPECT_EQ(t.apply(end1), Verdict::New);
    EXPECT_EQ(end1.in_state_ns, 60 * kSec);
    // a re-arm (a retransmitted FIN) keeps it longer than its first timer
    EXPECT_EQ(apply(t, tw_end(s, TwEnd::Rearmed, 150 * kSec)), Verdict::Duplicate);
    EXPECT_EQ(t.expire(110 * kSec + LiveTable::kTimeWaitNs + LiveTable::kEndSlackNs), 0u);
    SocketEvent end2 = tw_end(s, TwEnd::Killed, 160 * kSec);
    EXPECT_EQ(t.apply(end2), Verdict::New);
    EXPECT_EQ(end2.in_state_ns, 50 * kSec);
    EXPECT_EQ(t.size(), 0u);
    // an end the table never held (it ended before the dump read it)
    EXPECT_EQ(apply(t, tw_end(tcp(0, kStateTimeWait, 40012, 80), TwEnd::Expired, 170 * kSec)),
              Verdict::Stale);
    EXPECT_EQ(t.unseen_ends(), 0u);
}

TEST(LiveTable, LateKillOfAnOlderTimewaitSocketLeavesTheNewOne)
{
    // tcp_tw_reuse: the old timewait socket is killed at 10 s, the tuple's new connection
    // enters TIME-WAIT at 10.005 s, and the kill is delivered after that entry
    LiveTable t(100);
    t.follow_ends(true);
    const Socket s = tcp(9, kStateFinWait2, 40020, 80);
    SocketEvent first = entry(s, kStateFinWait2, kStateTimeWait);
    first.mono_ns = 1 * kSec;
    SocketEvent again = first;
    again.mono_ns = 10 * kSec + 5 * kMs;
    EXPECT_EQ(t.apply(first), Verdict::New);
    EXPECT_EQ(t.apply(again), Verdict::New);
    SocketEvent kill = tw_end(s, TwEnd::Killed, 10 * kSec);
    EXPECT_EQ(t.apply(kill), Verdict::New);  // shown: a real end, of the older one
    EXPECT_EQ(kill.in_state_ns, 0u);
    EXPECT_EQ(t.states()[kStateTimeWait], 1u);
}

TEST(LiveTable, FollowingEndsATimerDueWithoutItsEndIsCounted)
{
    LiveTable t(100);
    t.follow_ends(true);
    const Socket s = tcp(11, kStateFinWait2, 40030, 80);
    SocketEvent in = entry(s, kStateFinWait2, kStateTimeWait);
    in.mono_ns = 1 * kSec;
    t.apply(in);
    // the timer is due at 61 s; the end event normally comes 0.5-2 s later: kept until then
    EXPECT_EQ(t.expire(1 * kSec + LiveTable::kTimeWaitNs + 2 * kSec), 0u);
    EXPECT_EQ(t.expire(1 * kSec + LiveTable::kTimeWaitNs + LiveTable::kEndSlackNs), 1u);
    EXPECT_EQ(t.unseen_ends(), 1u);
}

namespace {

// What a --watch capture keeps of each socket: enough here to tell the rows apart.
sstrace_event row_of(const SocketEvent& ev)
{
    sstrace_event r{};
    r.hdr.ts_ns = ev.mono_ns;
    r.cookie = ev.socket.cookie;
    r.sport = ev.socket.inet.local.port;
    r.newstate = static_cast<__u8>(ev.new_state);
    return r;
}

struct RowSeen {
    std::uint16_t port;
    int state;
    std::uint64_t since_ns;
    bool operator==(const RowSeen&) const = default;
};

std::vector<RowSeen> rows_of(const LiveTable& t)
{
    std::vector<RowSeen> out;
    t.rows([&](const sstrace_event& r, std::uint64_t since) {
        out.push_back({r.sport, r.newstate, since});
    });
    return out;
}

}  // namespace

TEST(LiveTable, RowsKeepTheListingOrderAndFollowTheEvents)
{
    LiveTable t(100);
    t.keep_rows(&row_of);
    // listed: two full sockets and a timewait socket between them (its timer: 59 s left)
    Socket tw = tcp(0, kStateTimeWait, 40002, 80);
    tw.timer.kind = 3;
    tw.timer.expires_ms = 59'000;
    t.seed(tcp(1, kStateEstablished, 40001, 80), kNetns, 10 * kSec);
    t.seed(tw, kNetns, 10 * kSec);
    t.seed(tcp(3, kStateEstablished, 40003, 80), kNetns, 10 * kSec);
    EXPECT_EQ(rows_of(t), (std::vector<RowSeen>{{40001, kStateEstablished, 0},
                                                {40002, kStateTimeWait, 9 * kSec},
                                                {40003, kStateEstablished, 0}}));
    // a change keeps the socket's place; a newcomer comes last; a destroyed socket goes
    SocketEvent ev = entry(tcp(1, kStateEstablished, 40001, 80), kStateEstablished,
                           kStateFinWait1);
    ev.mono_ns = 11 * kSec;
    EXPECT_EQ(t.apply(ev), Verdict::New);
    ev = entry(tcp(4, kStateSynSent, 40004, 80), kStateSynSent, kStateEstablished);
    ev.mono_ns = 12 * kSec;
    EXPECT_EQ(t.apply(ev), Verdict::New);
    ev = entry(tcp(3, kStateEstablished, 40003, 80), kStateEstablished, kStateClose);
    ev.kind = EventKind::Destroy;
    EXPECT_EQ(t.apply(ev), Verdict::New);
    // a full socket becomes a timewait socket: a row of its own, with when it entered
    ev = entry(tcp(4, kStateEstablished, 40004, 80), kStateFinWait2, kStateTimeWait);
    ev.mono_ns = 13 * kSec;
    EXPECT_EQ(t.apply(ev), Verdict::New);
    EXPECT_EQ(rows_of(t), (std::vector<RowSeen>{{40001, kStateFinWait1, 0},
                                                {40002, kStateTimeWait, 9 * kSec},
                                                {40004, kStateTimeWait, 13 * kSec}}));
    // without keep_rows() the table holds no rows
    LiveTable plain(100);
    plain.seed(tcp(1, kStateEstablished, 40001, 80), kNetns, 0);
    EXPECT_TRUE(rows_of(plain).empty());
    EXPECT_EQ(plain.size(), 1u);
}

TEST(LiveTable, EndOfTimeWaitNamesTheOwnerOfItsEntry)
{
    // -p: the entry row names the full socket's owner; the timewait socket has no storage for
    // one, so the table keeps it for the end row
    LiveTable t(100);
    t.follow_ends(true);
    Socket s = tcp(13, kStateFinWait2, 40040, 80);
    s.owners.push_back(SocketOwner{"curl", 812, 815, 5, "worker"});
    SocketEvent in = entry(s, kStateFinWait2, kStateTimeWait);
    in.mono_ns = 1 * kSec;
    EXPECT_EQ(t.apply(in), Verdict::New);
    // a re-arm is no end: the owner stays for the real one
    EXPECT_EQ(apply(t, tw_end(tcp(13, kStateTimeWait, 40040, 80), TwEnd::Rearmed, 2 * kSec)),
              Verdict::Duplicate);
    SocketEvent end = tw_end(tcp(13, kStateTimeWait, 40040, 80), TwEnd::Expired, 61 * kSec);
    ASSERT_TRUE(end.socket.owners.empty());
    EXPECT_EQ(t.apply(end), Verdict::New);
    ASSERT_EQ(end.socket.owners.size(), 1u);
    EXPECT_EQ(end.socket.owners[0].comm, "curl");
    EXPECT_EQ(end.socket.owners[0].pid, 812);
    EXPECT_EQ(end.socket.owners[0].tid, 815);
    EXPECT_EQ(end.socket.owners[0].fd, 5);
    EXPECT_EQ(end.socket.owners[0].thread_comm, "worker");
    // a listed timewait socket has no owner: its end has none either
    Socket listed = tcp(0, kStateTimeWait, 40041, 80);
    listed.timer.expires_ms = 30'000;
    t.seed(listed, kNetns, 70 * kSec);
    SocketEvent end2 = tw_end(listed, TwEnd::Killed, 80 * kSec);
    EXPECT_EQ(t.apply(end2), Verdict::New);
    EXPECT_TRUE(end2.socket.owners.empty());
}

TEST(LiveTable, ListedUdpSocketsAreHeldUntilTheirDestroyApartFromTcp)
{
    LiveTable t(100);
    Socket udp = tcp(21, kStateEstablished, 5353, 9400);  // a connected UDP socket
    udp.protocol = IPPROTO_UDP;
    Socket unconn = tcp(22, kStateClose, 9401, 0);
    unconn.protocol = IPPROTO_UDP;
    t.seed(udp, kNetns, 1 * kSec);
    t.seed(unconn, kNetns, 1 * kSec);
    t.seed(tcp(23, kStateEstablished, 40050, 80), kNetns, 1 * kSec);
    EXPECT_EQ(t.size(), 3u);
    EXPECT_EQ(t.datagram_sockets(), 2u);
    // the TCP gauges count TCP only
    EXPECT_EQ(t.states()[kStateEstablished], 1u);
    EXPECT_EQ(t.states()[kStateClose], 0u);
    EXPECT_EQ(t.states_by_netns()[kNetns][kStateEstablished], 1u);
    // a destroy takes a listed one out; one the table never held (created after the start)
    // is a change all the same
    SocketEvent gone;
    gone.kind = EventKind::Destroy;
    gone.netns_ino = kNetns;
    gone.socket = udp;
    EXPECT_EQ(t.apply(gone), Verdict::New);
    EXPECT_EQ(t.datagram_sockets(), 1u);
    gone.socket.cookie = 99;
    EXPECT_EQ(t.apply(gone), Verdict::New);
    EXPECT_EQ(t.datagram_sockets(), 1u);
    EXPECT_EQ(t.size(), 2u);
}
