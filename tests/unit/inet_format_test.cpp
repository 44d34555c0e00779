// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/inet_format.hpp"
#include "sstrace/core/port_range.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>

using namespace sstrace;

namespace {

InetAddr v4(const char* s)
{
    InetAddr a;
    a.family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, s, a.bytes), 1);
    return a;
}

InetAddr v6(const char* s)
{
    InetAddr a;
    a.family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, s, a.bytes), 1);
    return a;
}

}  // namespace

TEST(InetHost, Ipv4)
{
    EXPECT_EQ(format_inet_host(v4("127.0.0.1"), false, false), "127.0.0.1");
    EXPECT_EQ(format_inet_host(v4("0.0.0.0"), false, false), "0.0.0.0");
    EXPECT_EQ(format_inet_host(v4("255.255.255.255"), false, false), "255.255.255.255");
}

TEST(InetHost, Ipv6Brackets)
{
    EXPECT_EQ(format_inet_host(v6("::1"), false, false), "[::1]");
    EXPECT_EQ(format_inet_host(v6("fe80::1"), false, false), "[fe80::1]");
    EXPECT_EQ(format_inet_host(v6("::ffff:127.0.0.1"), false, false), "[::ffff:127.0.0.1]");
    EXPECT_EQ(format_inet_host(v6("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), false, false),
              "[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]");
}

TEST(InetHost, Ipv6WildcardDependsOnV6only)
{
    EXPECT_EQ(format_inet_host(v6("::"), false, false), "*");
    EXPECT_EQ(format_inet_host(v6("::"), true, false), "[::]");
}

TEST(InetHost, ResolveUsesNamesAndBracketsNamesWithColons)
{
    // /etc/hosts maps 127.0.0.1 to localhost on Debian; ss -r prints it unbracketed,
    // including for the v4-mapped form.
    EXPECT_EQ(format_inet_host(v4("127.0.0.1"), false, true), "localhost");
    // wildcard stays numeric
    EXPECT_EQ(format_inet_host(v4("0.0.0.0"), false, true), "0.0.0.0");
}

TEST(Interface, UnknownIndexIsIfN)
{
    EXPECT_EQ(interface_name(1), "lo");
    EXPECT_EQ(interface_name(987654), "if987654");
}

TEST(Services, NumericAndWildcard)
{
    ServiceNames n(true, 32768, 60999);
    EXPECT_EQ(n.port_text(0), "*");
    EXPECT_EQ(n.port_text(22, "tcp"), "22");
    EXPECT_EQ(n.port_text(8080), "8080");
}

TEST(Services, NamesOutsideTheEphemeralRange)
{
    ServiceNames s(false, 32768, 60999);
    EXPECT_EQ(s.port_text(22, "tcp"), "ssh");
    EXPECT_EQ(s.port_text(8080, "tcp"), "http-alt");
    EXPECT_EQ(s.port_text(80), "http");
    EXPECT_EQ(s.port_text(5353, "udp"), "mdns");
    EXPECT_EQ(s.port_text(9000, "tcp"), "9000");  // no entry in Debian's /etc/services
    EXPECT_EQ(s.port_text(0), "*");
}

TEST(Services, EphemeralPortsAreNeverLookedUp)
{
    ServiceNames s(false, 1000, 60999);
    EXPECT_EQ(s.port_text(8080, "tcp"), "8080");
    EXPECT_EQ(s.port_text(22, "tcp"), "ssh");
}

TEST(Services, EphemeralRangeFile)
{
    const char* path = "/tmp/sstrace-unit-port-range";
    {
        std::ofstream f(path);
        f << "40000\t50000\n";
    }
    auto r = read_ephemeral_range(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 40000u);
    EXPECT_EQ(r->second, 50000u);
    std::remove(path);
    EXPECT_FALSE(read_ephemeral_range("/nonexistent/ip_local_port_range"));
}
