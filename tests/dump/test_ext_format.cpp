// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/ext_format.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include <array>
#include <cstdint>

namespace sstrace {
namespace {

TEST(TimerFormat, ZeroIsEmpty) { EXPECT_EQ(format_timer_ms(0), ""); }

TEST(TimerFormat, MillisecondsOnly)
{
    EXPECT_EQ(format_timer_ms(716), "716ms");
    EXPECT_EQ(format_timer_ms(52), "052ms");
}

TEST(TimerFormat, SecondsWithMilliseconds)
{
    // The 6.11+ form: iproute2 6.1 printed `9.388ms` here.
    EXPECT_EQ(format_timer_ms(9388), "9.388sec");
    EXPECT_EQ(format_timer_ms(3492), "3.492sec");
}

TEST(TimerFormat, WholeSecondsAndTenPlus)
{
    EXPECT_EQ(format_timer_ms(59000), "59sec");
    EXPECT_EQ(format_timer_ms(28123), "28sec");  // >= 10 s drops the milliseconds
    EXPECT_EQ(format_timer_ms(5000), "5sec");
}

TEST(TimerFormat, Minutes)
{
    EXPECT_EQ(format_timer_ms(123456), "2min3sec");
    EXPECT_EQ(format_timer_ms(120000), "2min");
    EXPECT_EQ(format_timer_ms(119 * 60000 + 59999), "119min");
    EXPECT_EQ(format_timer_ms(10 * 60000 + 5000), "10min");
}

TEST(TimerItem, NamesAndClamp)
{
    std::string s;
    append_timer(s, SocketTimer{0, 100, 0});
    EXPECT_EQ(s, "");
    append_timer(s, SocketTimer{1, 0, 0});
    EXPECT_EQ(s, " timer:(on,,0)");
    s.clear();
    append_timer(s, SocketTimer{2, 3492, 1});
    EXPECT_EQ(s, " timer:(keepalive,3.492sec,1)");
    s.clear();
    append_timer(s, SocketTimer{3, 59000, 0});
    EXPECT_EQ(s, " timer:(timewait,59sec,0)");
    s.clear();
    append_timer(s, SocketTimer{9, 716, 2});
    EXPECT_EQ(s, " timer:(unknown,716ms,2)");
}

TEST(Bandwidth, Scaled)
{
    EXPECT_EQ(format_bandwidth(131e9, false), "131G");
    EXPECT_EQ(format_bandwidth(222.4e9, false), "222G");
    EXPECT_EQ(format_bandwidth(1.5e12, false), "1.5T");
    EXPECT_EQ(format_bandwidth(2.5e6, false), "2.5M");
    EXPECT_EQ(format_bandwidth(1000, false), "1k");
    EXPECT_EQ(format_bandwidth(999, false), "999");
    EXPECT_EQ(format_bandwidth(0, false), "0");
}

TEST(Bandwidth, Numeric)
{
    EXPECT_EQ(format_bandwidth(145635555556.0, true), "145635555556");
    EXPECT_EQ(format_bandwidth(0, true), "0");
}

TEST(Skmem, FullAndShort)
{
    const std::array<std::uint32_t, 9> full{832, 212992, 0, 212992, 3264, 0, 0, 0, 0};
    std::string s;
    append_skmem(s, full);
    EXPECT_EQ(s, " skmem:(r832,rb212992,t0,tb212992,f3264,w0,o0,bl0,d0)");
    s.clear();
    append_skmem(s, std::span<const std::uint32_t>(full.data(), 8));
    EXPECT_EQ(s, " skmem:(r832,rb212992,t0,tb212992,f3264,w0,o0,bl0)");
    s.clear();
    append_skmem(s, std::span<const std::uint32_t>(full.data(), 7));
    EXPECT_EQ(s, " skmem:(r832,rb212992,t0,tb212992,f3264,w0,o0)");
}

TEST(Md5Keys, EscapesAndJoins)
{
    tcp_diag_md5sig sigs[2]{};
    sigs[0].tcpm_family = AF_INET;
    sigs[0].tcpm_prefixlen = 32;
    sigs[0].tcpm_keylen = 6;
    const std::uint8_t v4[4] = {127, 0, 0, 1};
    std::memcpy(sigs[0].tcpm_addr, v4, 4);
    std::memcpy(sigs[0].tcpm_key, "a b,\\\x01", 6);
    sigs[1].tcpm_family = AF_INET6;
    sigs[1].tcpm_prefixlen = 128;
    sigs[1].tcpm_keylen = 3;
    sigs[1].tcpm_addr[3] = htonl(1);
    std::memcpy(sigs[1].tcpm_key, "key", 3);
    std::string s;
    append_md5keys(s, sigs);
    EXPECT_EQ(s, " md5keys:127.0.0.1/32=a\\040b\\054\\134\\001,::1/128=key");
}

TEST(AltHex, ZeroHasNoPrefix)
{
    EXPECT_EQ(alt_hex(0), "0");
    EXPECT_EQ(alt_hex(16), "0x10");
    EXPECT_EQ(alt_hex(0xb8), "0xb8");
}

}  // namespace
}  // namespace sstrace
