// SPDX-License-Identifier: GPL-2.0-only
// What the filter sees of a listed Socket, family by family (ss-behaviour.md 3.4).
#include "zoo.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace {

using sstrace::Socket;
using namespace sstrace::filter;

Filter must_parse(const std::string& cmd, ParseOptions o = zoo::lab_options())
{
    ParseResult r = parse(zoo::shell_split(cmd), nullptr, o);
    EXPECT_FALSE(r.error) << cmd;
    return std::move(r.filter);
}

TEST(SocketView, InetEndpointsDeviceMarkCgroup)
{
    Socket s;
    s.family = AF_INET;
    s.inet.local.addr = {AF_INET, {10, 99, 0, 1}};
    s.inet.local.port = 22;
    s.inet.peer.addr = {AF_INET, {10, 99, 0, 2}};
    s.inet.peer.port = 40000;
    s.ifindex = 7;
    s.mark = 0x10;
    s.cgroup_id = 42;
    const SockView v = view_of(s);
    EXPECT_EQ(v.family, AF_INET);
    EXPECT_EQ(v.local[0], 10);
    EXPECT_EQ(v.remote[3], 2);
    EXPECT_EQ(v.lport, 22);
    EXPECT_EQ(v.rport, 40000);
    EXPECT_EQ(v.ifindex, 7u);
    EXPECT_EQ(v.mark, 0x10u);
    EXPECT_EQ(v.cgroup_id, 42u);
    EXPECT_TRUE(must_parse("src 10.99.0.1:22 and dport = :40000").matches(s));
    EXPECT_FALSE(must_parse("sport = :23").matches(s));
}

TEST(SocketView, UnixNameAndInodes)
{
    Socket s;
    s.family = AF_UNIX;
    s.inode = 2316801;
    s.unix_domain.peer_inode = 2316802;
    EXPECT_FALSE(view_of(s).unix_path);  // unbound: no name at all
    s.unix_domain.name = "@705c1";
    const SockView v = view_of(s);
    EXPECT_EQ(v.unix_path, "@705c1");
    EXPECT_EQ(v.lport, 2316801);
    EXPECT_EQ(v.rport, 2316802);
    ParseOptions o = zoo::lab_options();
    o.preferred_family = AF_UNIX;
    EXPECT_TRUE(must_parse("src unix:@*", o).matches(s));
}

TEST(SocketView, PacketProtocolAndDevice)
{
    Socket s;
    s.family = AF_PACKET;
    s.protocol = 0x0800;
    s.ifindex = 3;
    const SockView v = view_of(s);
    EXPECT_EQ(v.proto, 0x0800u);
    EXPECT_EQ(v.lport, 3);
    EXPECT_EQ(v.ifindex, 3u);
}

TEST(SocketView, NetlinkPortIdsAreSigned)
{
    Socket s;
    s.family = AF_NETLINK;
    s.protocol = 4;
    s.netlink.portid = -4097;
    s.netlink.dst_portid = 0;
    const SockView v = view_of(s);
    EXPECT_EQ(v.proto, 4u);
    EXPECT_EQ(v.lport, -4097);
    EXPECT_EQ(v.rport, 0);
}

}  // namespace
