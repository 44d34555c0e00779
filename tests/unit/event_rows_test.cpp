// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/abi/events.h"
#include "sstrace/sinks/event_rows.hpp"
#include "sstrace/sources/bpf_record.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>

using namespace sstrace;

namespace {

sstrace_event make_event(int family, const char* src, unsigned sport, const char* dst,
                         unsigned dport, int oldstate, int newstate)
{
    sstrace_event e{};
    e.hdr.type = SSTRACE_REC_STATE;
    e.hdr.size = sizeof(e);
    e.family = static_cast<__u16>(family);
    e.protocol = 6;
    EXPECT_EQ(inet_pton(family, src, e.saddr), 1);
    EXPECT_EQ(inet_pton(family, dst, e.daddr), 1);
    e.sport = static_cast<__u16>(sport);
    e.dport = static_cast<__u16>(dport);
    e.oldstate = static_cast<__u8>(oldstate);
    e.newstate = static_cast<__u8>(newstate);
    return e;
}

std::optional<SocketEvent> decode(const sstrace_event& e, std::size_t size = sizeof(sstrace_event))
{
    return decode_record({reinterpret_cast<const std::byte*>(&e), size});
}

// Records through the decoder, then the stream's row layout over the listing's column text.
std::string render(const EventRowLayout& layout, const std::vector<sstrace_event>& evs,
                   bool header = true, bool numeric = true, bool extended = false)
{
    RowOptions row;
    row.numeric = numeric;
    row.extended = extended;
    EventRowSink sink(layout, SsColumns(row, ServiceNames(numeric, 32768, 60999), "/proc"),
                      nullptr, false);
    std::string out;
    if (header) {
        sink.append_header(out);
    }
    for (const auto& e : evs) {
        const auto ev = decode(e);
        EXPECT_TRUE(ev);
        sink.append_row(*ev, out);
    }
    return out;
}

}  // namespace

TEST(Decode, RejectsShortWrongSizeAndUnknownRecords)
{
    sstrace_event e = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 1, 2);
    EXPECT_TRUE(decode(e));
    EXPECT_FALSE(decode(e, sizeof(sstrace_hdr) - 1));
    EXPECT_FALSE(decode(e, sizeof(e) - 8));  // hdr.size disagrees
    EXPECT_FALSE(decode_record({}));
    sstrace_event bad = e;
    bad.hdr.size = 64;
    EXPECT_FALSE(decode(bad, 64));  // shorter than the layout this build knows
    bad = e;
    bad.hdr.type = 99;
    EXPECT_FALSE(decode(bad));
    bad = e;
    bad.family = AF_UNIX;
    EXPECT_FALSE(decode(bad));
}

TEST(Decode, ReadsWhatItKnowsOfALongerRecord)
{
    // a newer producer may append fields: the known part is read, the rest ignored
    sstrace_event e = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, kStateFinWait2,
                                 kStateTimeWait);
    e.flags = SSTRACE_EVF_TW_FIN_WAIT2;
    std::vector<std::byte> big(sizeof(e) + 8, std::byte{0x5a});
    e.hdr.size = static_cast<__u16>(big.size());
    std::memcpy(big.data(), &e, sizeof(e));
    const auto ev = decode_record(big);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->kind, EventKind::StateEntry);
    EXPECT_EQ(ev->old_state, kStateFinWait2);
    EXPECT_EQ(ev->new_state, kStateTimeWait);
    EXPECT_TRUE(ev->tw_orphan);
    EXPECT_EQ(ev->socket.inet.local.port, 1);
    EXPECT_EQ(ev->socket.inet.peer.port, 2);
}

TEST(Decode, FactsOnlyTheFilterSees)
{
    sstrace_event e = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 0, kStateListen);
    e.mark = 7;
    e.cgroup_id = 42;
    e.userlocks = 8;  // SOCK_BINDPORT_LOCK
    const auto ev = decode(e);
    ASSERT_TRUE(ev);
    // ss -E's rows show no mark or cgroup (the kernel's destroy notification has none)
    EXPECT_EQ(ev->socket.mark, 0u);
    EXPECT_FALSE(ev->socket.cgroup_id);
    EXPECT_EQ(ev->filter_facts.mark, 7u);
    EXPECT_EQ(ev->filter_facts.cgroup_id, 42u);
    EXPECT_TRUE(ev->filter_facts.port_locked);
}

TEST(EventRow, TimeWaitStreamLikeSsWithStateHidden)
{
    // `sstrace -E state time-wait` selects one state: ss hides the State column then.
    EventRowLayout l;
    l.state = false;
    l.states = state_bit(kStateTimeWait);
    l.ipv6 = false;
    auto out = render(l, {make_event(AF_INET, "127.0.0.1", 39060, "127.0.0.1", 7777,
                                     kStateFinWait2, kStateTimeWait)});
    EXPECT_EQ(out,
              "Netid Recv-Q Send-Q   Local Address:Port     Peer Address:Port Process\n"
              "tcp   0      0            127.0.0.1:39060       127.0.0.1:7777\n");
}

TEST(EventRow, DestroyRowsShowUnconnAndQueues)
{
    EventRowLayout l;
    l.states = state_bit(kStateClose);
    auto e = make_event(AF_INET6, "::1", 7778, "::1", 36792, kStateLastAck, kStateClose);
    e.hdr.type = SSTRACE_REC_DESTROY;
    e.rqueue = 3;
    auto listener = make_event(AF_INET6, "::1", 7778, "::", 0, kStateListen, kStateClose);
    auto out = render(l, {e, listener});
    EXPECT_EQ(out,
              "Netid State  Recv-Q Send-Q            Local Address:Port              Peer Address:Port Process\n"
              "tcp   UNCONN 3      0                         [::1]:7778                     [::1]:36792\n"
              "tcp   UNCONN 0      0                         [::1]:7778                         *:*\n");
}

TEST(EventRow, TransitionsAndServiceNames)
{
    EventRowLayout l;
    l.transitions = true;
    l.netid = false;
    l.ipv6 = false;
    l.states = state_bit(kStateTimeWait) | state_bit(kStateEstablished);
    auto out = render(l, {make_event(AF_INET, "10.1.2.3", 22, "10.9.8.7", 40000, kStateFinWait2,
                                     kStateTimeWait)},
                      false, false);
    // the State column fits the longest `OLD -> NEW`; 22 is a service, 40000 is ephemeral
    EXPECT_EQ(out, "FIN-WAIT-2 -> TIME-WAIT 0      0             10.1.2.3:ssh          10.9.8.7:40000\n");
}

TEST(EventRow, ColumnsOnlyGrow)
{
    EventRowLayout l;
    l.state = false;
    l.ipv6 = false;
    auto narrow = make_event(AF_INET, "1.1.1.1", 1, "2.2.2.2", 2, 0, kStateEstablished);
    auto wide = make_event(AF_INET, "1.1.1.1", 65000, "2.2.2.2", 2, 0, kStateEstablished);
    wide.rqueue = 123456789;
    auto out = render(l, {narrow, wide, narrow}, false);
    EXPECT_EQ(out,
              "tcp   0      0              1.1.1.1:1             2.2.2.2:2\n"
              "tcp   123456789 0              1.1.1.1:65000         2.2.2.2:2\n"
              "tcp   0         0              1.1.1.1:1             2.2.2.2:2\n");
}

TEST(EventRow, BoundDeviceSuffixOnLocalOnly)
{
    EventRowLayout l;
    l.state = false;
    l.netid = false;
    l.ipv6 = false;
    auto e = make_event(AF_INET, "127.0.0.1", 7000, "127.0.0.1", 50000, 0, kStateListen);
    e.ifindex = 1;
    auto out = render(l, {e}, false);
    EXPECT_EQ(out, "0      0         127.0.0.1%lo:7000        127.0.0.1:50000\n");
}

TEST(EventRow, NetnsAndTimestampColumns)
{
    EventRowLayout l;
    l.state = false;
    l.netid = false;
    l.ipv6 = false;
    l.netns = true;
    l.netns_dir = "/nonexistent";  // no names: the inode
    l.timestamp = true;
    auto e = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 0, kStateListen);
    e.netns_ino = 4026532245u;
    e.hdr.ts_ns = 1'500'000;  // 1.5 ms after the (zero) epoch offset
    EventRowSink sink(l, SsColumns(RowOptions{.numeric = true}, ServiceNames(true, 1, 2), "/proc"),
                      nullptr, false);
    sink.set_clock_offset(0);
    std::string out;
    sink.append_header(out);
    sink.append_row(*decode(e), out);
    const auto nl = out.find('\n');
    EXPECT_EQ(out.substr(0, nl),
              "Time            Netns      Recv-Q Send-Q   Local Address:Port     Peer Address:Port Process");
    const std::string row = out.substr(nl + 1);
    // the clock part depends on the local time zone; the fraction and the rest do not
    EXPECT_EQ(row.substr(8), ".001500 4026532245 0      0            127.0.0.1:1           127.0.0.1:2\n");
}

TEST(EventRow, ExtendedShowsUidInodeAndCookieLikeSsE)
{
    EventRowLayout l;
    l.state = false;
    l.netid = false;
    l.ipv6 = false;
    auto e = make_event(AF_INET, "127.0.0.1", 45960, "127.0.0.1", 7777, 0, kStateClose);
    e.cookie = 0xe7ac0;
    auto root_owned = render(l, {e}, false, true, true);
    EXPECT_EQ(root_owned, "0      0            127.0.0.1:45960       127.0.0.1:7777  ino:0 sk:e7ac0\n");
    EXPECT_NE(root_owned.find(":7777  ino:0 sk:e7ac0\n"), std::string::npos) << root_owned;
    EXPECT_EQ(root_owned.find("uid:"), std::string::npos);
    e.uid = 1000;
    e.ino = 2316774;
    auto user_owned = render(l, {e}, false, true, true);
    EXPECT_NE(user_owned.find(":7777  uid:1000 ino:2316774 sk:e7ac0\n"), std::string::npos) << user_owned;
}

namespace {

// A record with the owner block that follows it when a stream asks for owners (-p, -T).
std::vector<std::byte> owned_record(std::uint32_t flags, int fd)
{
    sstrace_owned_event oe{};
    oe.ev = make_event(AF_INET, "127.0.0.1", 5000, "127.0.0.1", 40000, kStateSynRecv,
                       kStateEstablished);
    oe.ev.flags |= SSTRACE_EVF_OWNER;
    oe.ev.hdr.size = sizeof(oe);
    oe.owner.pid = 1234;
    oe.owner.tid = 1240;
    oe.owner.fd = fd;
    oe.owner.flags = flags;
    std::memcpy(oe.owner.comm, "nginx", 5);
    std::memcpy(oe.owner.tcomm, "nginx-worker-3", 14);
    std::vector<std::byte> out(sizeof(oe));
    std::memcpy(out.data(), &oe, sizeof(oe));
    return out;
}

std::string owner_text(const std::vector<std::byte>& rec, bool threads)
{
    RowOptions row;
    row.numeric = true;
    row.users = true;
    row.threads = threads;
    EventRowLayout layout;
    layout.netid = false;
    layout.state = false;
    EventRowSink sink(layout, SsColumns(row, ServiceNames(true, 32768, 60999), "/proc"), nullptr,
                      false);
    const auto ev = decode_record(rec);
    EXPECT_TRUE(ev);
    std::string out;
    sink.append_row(*ev, out);
    const auto at = out.find(" users:");
    return at == std::string::npos ? std::string() : out.substr(at + 1);
}

// A record with the details tail (-o -m -i -e) as the BPF programs write it.
std::vector<std::byte> with_details(sstrace_event e, const sstrace_details& d)
{
    e.flags |= SSTRACE_EVF_DETAILS;
    e.hdr.size = sizeof(e) + sizeof(d);
    std::vector<std::byte> rec(sizeof(e) + sizeof(d));
    std::memcpy(rec.data(), &e, sizeof(e));
    std::memcpy(rec.data() + sizeof(e), &d, sizeof(d));
    return rec;
}

sstrace_details full_details()
{
    sstrace_details d{};
    d.what = SSTRACE_DETAIL_TIMER | SSTRACE_DETAIL_SKMEM | SSTRACE_DETAIL_TCPINFO |
             SSTRACE_DETAIL_LIFETIME | SSTRACE_DETAIL_SHUTDOWN;
    d.timer_kind = 2;
    d.timer_ms = 99120;
    d.shutdown = 3;
    const __u32 mem[9] = {0, 131072, 0, 65536, 4096, 0, 0, 0, 0};
    std::memcpy(d.skmem, mem, sizeof(mem));
    tcp_info ti{};
    ti.tcpi_options = 7;  // timestamps, sack, wscale
    ti.tcpi_snd_wscale = 7;
    ti.tcpi_rcv_wscale = 8;
    ti.tcpi_rto = 204000;
    ti.tcpi_rtt = 31;
    ti.tcpi_rttvar = 18;
    ti.tcpi_snd_mss = 32768;
    ti.tcpi_snd_cwnd = 10;
    ti.tcpi_reordering = 3;
    ti.tcpi_bytes_acked = 10001;
    ti.tcpi_bytes_received = 3000;
    std::memcpy(d.tcp_info, &ti, sizeof(d.tcp_info));
    std::strcpy(d.cong, "cubic");
    d.born_ns = 1000000;
    return d;
}

std::string render_details(const std::vector<std::byte>& rec)
{
    EventRowLayout l;
    l.state = false;
    l.netid = false;
    l.ipv6 = false;
    RowOptions row;
    row.numeric = true;
    row.timers = true;
    row.extended = true;
    row.memory = true;
    row.info = true;
    EventRowSink sink(l, SsColumns(row, ServiceNames(true, 32768, 60999), "/proc"), nullptr, false);
    const auto ev = decode_record(rec);
    EXPECT_TRUE(ev);
    std::string out;
    sink.append_row(*ev, out);
    return out;
}

}  // namespace

TEST(Decode, OwnerBlock)
{
    auto ev = decode_record(owned_record(SSTRACE_OWNER_KNOWN | SSTRACE_OWNER_FD, 7));
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->socket.owners.size(), 1u);
    const SocketOwner& o = ev->socket.owners[0];
    EXPECT_EQ(o.comm, "nginx");
    EXPECT_EQ(o.thread_comm, "nginx-worker-3");
    EXPECT_EQ(o.pid, 1234);
    EXPECT_EQ(o.tid, 1240);
    EXPECT_EQ(o.fd, 7);
    // no fd flag: the fd is unknown, whatever the field holds
    ev = decode_record(owned_record(SSTRACE_OWNER_KNOWN | SSTRACE_OWNER_INHERITED, 7));
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->socket.owners.size(), 1u);
    EXPECT_LT(ev->socket.owners[0].fd, 0);
    // a block without an owner, and a record without a block: no owner
    ev = decode_record(owned_record(0, -1));
    ASSERT_TRUE(ev);
    EXPECT_TRUE(ev->socket.owners.empty());
    const sstrace_event plain = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 1, 2);
    ev = decode(plain);
    ASSERT_TRUE(ev);
    EXPECT_TRUE(ev->socket.owners.empty());
}

TEST(EventRow, OwnersAsSsPrintsThem)
{
    EXPECT_EQ(owner_text(owned_record(SSTRACE_OWNER_KNOWN | SSTRACE_OWNER_FD, 7), false),
              "users:((\"nginx\",pid=1234,fd=7))\n");
    // an fd no hook saw (before accept()): documented as printed without fd=
    EXPECT_EQ(owner_text(owned_record(SSTRACE_OWNER_KNOWN | SSTRACE_OWNER_INHERITED, -1), false),
              "users:((\"nginx\",pid=1234))\n");
    // -T: the thread's name and id, as ss -T prints them
    EXPECT_EQ(owner_text(owned_record(SSTRACE_OWNER_KNOWN | SSTRACE_OWNER_FD, 7), true),
              "users:((\"nginx-worker-3\",pid=1234,tid=1240,fd=7))\n");
    EXPECT_EQ(owner_text(owned_record(0, -1), false), "");
}

TEST(Details, StateRowShowsWhatAListingShows)
{
    auto e = make_event(AF_INET, "127.0.0.1", 45960, "127.0.0.1", 7777, kStateEstablished,
                        kStateFinWait1);
    e.cookie = 0xe7ac0;
    e.ino = 2316774;
    e.hdr.ts_ns = 1000000 + 1523400000;  // 1523.4 ms after its birth
    EXPECT_EQ(render_details(with_details(e, full_details())),
              "0      0            127.0.0.1:45960       127.0.0.1:7777  "
              "timer:(keepalive,1min39sec,0) ino:2316774 sk:e7ac0 ---\n"
              "\t skmem:(r0,rb131072,t0,tb65536,f4096,w0,o0,bl0,d0) ts sack cubic wscale:7,8 "
              "rto:204 rtt:0.031/0.018 mss:32768 cwnd:10 bytes_acked:10001 "
              "bytes_received:3000 send 84562580645bps lifetime:1523.4ms\n");
}

TEST(Details, DestroyRowShowsTcpInfoAsSsEWithoutTimerOrCongestionControl)
{
    auto e = make_event(AF_INET, "127.0.0.1", 45960, "127.0.0.1", 7777, kStateClose, kStateClose);
    e.hdr.type = SSTRACE_REC_DESTROY;
    e.hdr.ts_ns = 1000000 + 2000;
    const std::string row = render_details(with_details(e, full_details()));
    EXPECT_EQ(row.find("timer:"), std::string::npos) << row;
    EXPECT_EQ(row.find("cubic"), std::string::npos) << row;
    EXPECT_EQ(row.find("---"), std::string::npos) << row;
    EXPECT_NE(row.find(" ts sack wscale:7,8 rto:204"), std::string::npos) << row;
    EXPECT_NE(row.find(" lifetime:0.002ms\n"), std::string::npos) << row;
}

TEST(Details, PlainRecordsAndShortTailsCarryNone)
{
    auto e = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, kStateEstablished,
                        kStateFinWait1);
    auto rec = with_details(e, full_details());
    // a record that claims a tail but is too short for it: the row's own fields only
    sstrace_event shorter = e;
    shorter.flags |= SSTRACE_EVF_DETAILS;
    const auto ev = decode(shorter);
    ASSERT_TRUE(ev);
    EXPECT_FALSE(ev->socket.tcp.info);
    EXPECT_FALSE(ev->socket.skmem);
    EXPECT_FALSE(ev->lifetime_ns);
    // a reused event forgets the previous record's details
    SocketEvent reused;
    ASSERT_TRUE(decode_record(rec, reused));
    EXPECT_TRUE(reused.socket.tcp.info);
    ASSERT_TRUE(decode_record({reinterpret_cast<const std::byte*>(&e), sizeof(e)}, reused));
    EXPECT_FALSE(reused.socket.tcp.info);
    EXPECT_FALSE(reused.socket.skmem);
    EXPECT_EQ(reused.socket.timer.kind, 0u);
    EXPECT_FALSE(reused.socket.shutdown);
    EXPECT_TRUE(reused.socket.tcp.cong.empty());
}

TEST(Details, TimeWaitRowShowsTheTimewaitTimerAndNoShutdown)
{
    // the row stands for the timewait socket: the programs give its timer (kind 3, as
    // inet_twsk_diag_fill() reports it), which the row shows as a listing would
    auto e = make_event(AF_INET, "127.0.0.1", 45960, "127.0.0.1", 7777, kStateFinWait2,
                        kStateTimeWait);
    e.hdr.ts_ns = 2000000;
    sstrace_details d = full_details();
    d.timer_kind = 3;
    d.timer_ms = 59996;
    d.timer_retrans = 0;
    const std::string row = render_details(with_details(e, d));
    EXPECT_NE(row.find(" timer:(timewait,59sec,0) "), std::string::npos) << row;
    EXPECT_EQ(row.find("---"), std::string::npos) << row;  // ss -e shows no <-> for it either
    EXPECT_NE(row.find(" skmem:("), std::string::npos) << row;
}

// Both tails (-p with -o -m -i -e): [sstrace_event][sstrace_owner][sstrace_details], each
// announced by its flag; the details come after the owner block.
TEST(Decode, OwnerBlockThenDetails)
{
    auto e = make_event(AF_INET, "127.0.0.1", 45960, "127.0.0.1", 7777, kStateEstablished,
                        kStateFinWait1);
    e.hdr.ts_ns = 1000000 + 1523400000;
    e.flags |= SSTRACE_EVF_OWNER | SSTRACE_EVF_DETAILS;
    sstrace_full_event full{};
    static_assert(sizeof(full) == sizeof(sstrace_event) + sizeof(sstrace_owner) +
                                      sizeof(sstrace_details));
    full.ev = e;
    full.ev.hdr.size = sizeof(full);
    full.owner.pid = 1234;
    full.owner.tid = 1240;
    full.owner.fd = 7;
    full.owner.flags = SSTRACE_OWNER_KNOWN | SSTRACE_OWNER_FD;
    std::memcpy(full.owner.comm, "nginx", 5);
    full.details = full_details();
    EXPECT_EQ(sstrace_owner_offset(full.ev.flags), offsetof(sstrace_full_event, owner));
    EXPECT_EQ(sstrace_details_offset(full.ev.flags), offsetof(sstrace_full_event, details));
    EXPECT_EQ(sstrace_record_size(full.ev.flags), sizeof(full));
    std::vector<std::byte> rec(sizeof(full));
    std::memcpy(rec.data(), &full, sizeof(full));

    const auto ev = decode_record(rec);
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->socket.owners.size(), 1u);
    EXPECT_EQ(ev->socket.owners[0].comm, "nginx");
    EXPECT_EQ(ev->socket.owners[0].fd, 7);
    ASSERT_TRUE(ev->socket.tcp.info);
    EXPECT_EQ(ev->socket.tcp.info->tcpi_rto, 204000u);
    EXPECT_EQ(ev->socket.tcp.cong, "cubic");
    ASSERT_TRUE(ev->socket.skmem);
    EXPECT_EQ(ev->socket.skmem->values[1], 131072u);
    EXPECT_EQ(ev->socket.timer.kind, 2u);
    ASSERT_TRUE(ev->lifetime_ns);
    EXPECT_EQ(*ev->lifetime_ns, 1523400000u);

    // details without an owner block start right after the event: the flags decide, not the size
    auto no_owner = e;
    no_owner.flags &= static_cast<__u8>(~SSTRACE_EVF_OWNER);
    const auto only_details = decode_record(with_details(no_owner, full_details()));
    ASSERT_TRUE(only_details);
    EXPECT_TRUE(only_details->socket.owners.empty());
    ASSERT_TRUE(only_details->socket.tcp.info);
    EXPECT_EQ(only_details->socket.tcp.info->tcpi_rto, 204000u);
}

TEST(EventRow, NetnsColumnShowsTheIpNetnsName)
{
    // a name is a file in the directory whose inode is the namespace's: a plain file stands in
    char dir[] = "/tmp/sstrace-netns-names-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string name = std::string(dir) + "/a-rather-long-namespace-name";
    std::FILE* f = std::fopen(name.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
    struct stat st{};
    ASSERT_EQ(stat(name.c_str(), &st), 0);

    EventRowLayout l;
    l.state = false;
    l.netid = false;
    l.ipv6 = false;
    l.netns = true;
    l.netns_dir = dir;
    EventRowSink sink(l, SsColumns(RowOptions{.numeric = true}, ServiceNames(true, 1, 2), "/proc"),
                      nullptr, false);
    auto named = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 0, kStateListen);
    named.netns_ino = static_cast<std::uint32_t>(st.st_ino);
    auto other = named;
    other.netns_ino = static_cast<std::uint32_t>(st.st_ino) + 1;
    std::string out;
    sink.append_header(out);
    sink.append_row(*decode(named), out);
    sink.append_row(*decode(other), out);
    std::remove(name.c_str());
    rmdir(dir);
    // the column is as wide as the longest name
    EXPECT_EQ(out, "Netns                        Recv-Q Send-Q   Local Address:Port     Peer Address:Port Process\n"
                   "a-rather-long-namespace-name 0      0            127.0.0.1:1           127.0.0.1:2\n" +
                       std::to_string(other.netns_ino) +
                       std::string(29 - std::to_string(other.netns_ino).size(), ' ') +
                       "0      0            127.0.0.1:1           127.0.0.1:2\n");
}
