// SPDX-License-Identifier: GPL-2.0-only
// The ss row renderer on hand-built Sockets (the text of each row; test_table.cpp covers the
// layout): what each family prints, and where the /proc text path prints less.
#include "sstrace/sinks/ss_row.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace sstrace {
namespace {

// The rows without their padding (header first).
std::vector<std::string> render(const RowOptions& o, const std::vector<Socket>& sockets,
                                TableMask tables = table_bit(kDbTcp) | table_bit(kDbUdp))
{
    std::FILE* f = std::tmpfile();
    Table table(f, -1);
    SsRowRenderer r(o, table, ServiceNames(true, 32768, 60999), "/nonexistent");
    Selection sel;
    sel.tables = tables;
    sel.states = kAllStates;
    r.begin(sel, true);
    for (const Socket& s : sockets) {
        r.render(s);
    }
    table.flush();
    std::fflush(f);
    std::rewind(f);
    std::string text;
    char buf[4096];
    for (std::size_t n = 0; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) {
        text.append(buf, n);
    }
    std::fclose(f);
    std::vector<std::string> rows;
    const std::regex spaces(" +");
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string row = std::regex_replace(text.substr(start, nl - start), spaces, " ");
        while (!row.empty() && row.back() == ' ') {
            row.pop_back();
        }
        rows.push_back(row);
    }
    return rows;
}

Socket tcp_socket()
{
    Socket s;
    s.family = AF_INET;
    s.protocol = IPPROTO_TCP;
    s.state = kStateEstablished;
    s.inet.local = {{AF_INET, {127, 0, 0, 1}}, 22};
    s.inet.peer = {{AF_INET, {127, 0, 0, 1}}, 40000};
    s.uid = 1000;
    s.inode = 1234;
    s.cookie = 0xabc;
    s.mark = 0x10;
    s.shutdown = 3;
    s.timer = SocketTimer{2, 59000, 0};
    s.owners = {{"a", 1, 0, 3, {}}, {"b", 2, 0, 4, {}}};
    return s;
}

TEST(SsRow, InetExtendedItemsInSsOrder)
{
    RowOptions o;
    o.numeric = o.timers = o.extended = o.users = true;
    const auto rows = render(o, {tcp_socket()});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1], "tcp ESTAB 0 0 127.0.0.1:22 127.0.0.1:40000 "
                       "users:((\"b\",pid=2,fd=4),(\"a\",pid=1,fd=3)) "
                       "timer:(keepalive,59sec,0) uid:1000 ino:1234 sk:abc fwmark:0x10 ---");
}

TEST(SsRow, ProcTextTcpPrintsItsOwnFigures)
{
    Socket s = tcp_socket();
    s.origin = Origin::ProcText;
    s.tcp.proc = ProcTcpInfo{200, 40, 2, 10, 7, 100};
    s.owners.clear();
    RowOptions o;
    o.numeric = o.timers = o.extended = o.info = o.memory = true;
    const auto rows = render(o, {s});
    ASSERT_EQ(rows.size(), 2u);
    // No fwmark or shutdown (the text has neither), no `\n\t` block; rto and ato in seconds.
    EXPECT_EQ(rows[1], "tcp ESTAB 0 0 127.0.0.1:22 127.0.0.1:40000 timer:(keepalive,59sec,0) "
                       "uid:1000 ino:1234 sk:abc rto:2 ato:0.4 qack:1 bidir cwnd:10 ssthresh:7 "
                       "reordering:0");
}

TEST(SsRow, UnixNamesPeersAndVfs)
{
    Socket s;
    s.family = AF_UNIX;
    s.type = SOCK_STREAM;
    s.state = kStateEstablished;
    s.inode = 9;
    s.unix_domain.name = "@abs";
    s.unix_domain.peer_inode = 77;
    s.unix_domain.vfs = unix_diag_vfs{5, static_cast<std::uint32_t>(makedev(8, 1))};
    s.unix_domain.pending = std::vector<std::uint32_t>{10, 11};
    Socket unbound = s;
    unbound.unix_domain = {};
    RowOptions o;
    o.extended = true;
    const auto rows = render(o, {s, unbound}, table_bit(kDbUnixStream) | table_bit(kDbUnixDgram));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1], "u_str ESTAB 0 0 @abs 9 * 77 ino:5 dev:8/1 peers: 10 11");
    EXPECT_EQ(rows[2], "u_str ESTAB 0 0 * 9 * 0");
}

TEST(SsRow, NetlinkAddressesOnlyFromProcText)
{
    Socket diag;
    diag.family = AF_NETLINK;
    diag.protocol = 4;
    diag.state = kStateClose;
    diag.netlink.portid = 0;
    diag.skmem = SkMem{{1, 2, 3, 4, 5, 6, 7, 8, 9}, 9};
    Socket proc = diag;
    proc.origin = Origin::ProcText;
    proc.skmem.reset();
    proc.netlink.portid = -1;
    proc.netlink.sk_addr = 0xffff;
    proc.netlink.groups = 1;
    RowOptions o;
    o.extended = o.memory = true;
    const auto rows = render(o, {diag, proc}, table_bit(kDbNetlink) | table_bit(kDbTcp));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1], "nl UNCONN 0 0 tcpdiag:kernel * sk=0 cb=0 groups=0x00000000\t "
                       "skmem:(r1,rb2,t3,tb4,f5,w6,o7,bl8,d9)");
    EXPECT_EQ(rows[2], "nl UNCONN 0 0 tcpdiag:* * sk=ffff cb=0 groups=0x00000001");
}

TEST(SsRow, PacketFromProcShowsNoCookie)
{
    Socket s;
    s.origin = Origin::ProcText;
    s.family = AF_PACKET;
    s.type = SOCK_RAW;
    s.protocol = 0x0800;
    s.state = kStateClose;
    s.inode = 31;
    s.rqueue = 5;
    RowOptions o;
    o.numeric = o.extended = o.memory = true;
    const auto rows = render(o, {s}, table_bit(kDbPacketRaw) | table_bit(kDbTcp));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1], "p_raw UNCONN 5 0 [2048]:* * ino:31 sk:0");
}

}  // namespace
}  // namespace sstrace
