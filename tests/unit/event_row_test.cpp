// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/event_row.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

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

std::string render(const EventLayout& layout, const std::vector<sstrace_event>& evs,
                   bool header = true, bool numeric = true)
{
    ServiceNames services(numeric, 32768, 60999);
    EventFormatter f(layout, services);
    std::string out;
    if (header) {
        f.append_header(out);
    }
    for (const auto& e : evs) {
        f.append_row(e, out);
    }
    return out;
}

}  // namespace

TEST(Decode, RejectsShortWrongSizeAndUnknownRecords)
{
    sstrace_event e = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 1, 2);
    EXPECT_TRUE(decode_event(&e, sizeof(e)));
    EXPECT_FALSE(decode_event(&e, sizeof(sstrace_hdr) - 1));
    EXPECT_FALSE(decode_event(&e, sizeof(e) - 8));
    EXPECT_FALSE(decode_event(nullptr, 0));
    sstrace_event bad = e;
    bad.hdr.size = 64;
    EXPECT_FALSE(decode_event(&bad, sizeof(bad)));
    bad = e;
    bad.hdr.type = 99;
    EXPECT_FALSE(decode_event(&bad, sizeof(bad)));
    std::vector<unsigned char> big(sizeof(e) + 8);
    std::memcpy(big.data(), &e, sizeof(e));
    EXPECT_FALSE(decode_event(big.data(), big.size()));
}

TEST(EventRow, TimeWaitStreamLikeSsWithStateHidden)
{
    // `sstrace -E state time-wait` selects one state: ss hides the State column then.
    EventLayout l;
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
    EventLayout l;
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
    EventLayout l;
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
    EventLayout l;
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
    EventLayout l;
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
    EventLayout l;
    l.state = false;
    l.netid = false;
    l.ipv6 = false;
    l.netns = true;
    l.timestamp = true;
    auto e = make_event(AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 0, kStateListen);
    e.netns_ino = 4026532245u;
    e.hdr.ts_ns = 1'500'000;  // 1.5 ms after the (zero) epoch offset
    ServiceNames services(true, 1, 2);
    EventFormatter f(l, services);
    f.set_clock_offset(0);
    std::string out;
    f.append_header(out);
    f.append_row(e, out);
    const auto nl = out.find('\n');
    EXPECT_EQ(out.substr(0, nl),
              "Time            Netns      Recv-Q Send-Q   Local Address:Port     Peer Address:Port Process");
    const std::string row = out.substr(nl + 1);
    // the clock part depends on the local time zone; the fraction and the rest do not
    EXPECT_EQ(row.substr(8), ".001500 4026532245 0      0            127.0.0.1:1           127.0.0.1:2\n");
}

TEST(EventRow, ExtendedShowsUidInodeAndCookieLikeSsE)
{
    EventLayout l;
    l.state = false;
    l.netid = false;
    l.ipv6 = false;
    l.extended = true;
    auto e = make_event(AF_INET, "127.0.0.1", 45960, "127.0.0.1", 7777, 0, kStateClose);
    e.cookie = 0xe7ac0;
    auto root_owned = render(l, {e}, false);
    EXPECT_EQ(root_owned, "0      0            127.0.0.1:45960       127.0.0.1:7777  ino:0 sk:e7ac0\n");
    EXPECT_NE(root_owned.find(":7777  ino:0 sk:e7ac0\n"), std::string::npos) << root_owned;
    EXPECT_EQ(root_owned.find("uid:"), std::string::npos);
    e.uid = 1000;
    e.ino = 2316774;
    auto user_owned = render(l, {e}, false);
    EXPECT_NE(user_owned.find(":7777  uid:1000 ino:2316774 sk:e7ac0\n"), std::string::npos) << user_owned;
}
