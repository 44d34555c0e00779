// SPDX-License-Identifier: GPL-2.0-only
// Evaluation on hand-built sockets: v4-mapped rules, port quirks, unix globs and inodes,
// packet/netlink/vsock operands and the per-family autobound rules (ss-behaviour.md 3.4/3.5),
// with the non-TCP answers of samples/filters_ok.txt.
#include "zoo.hpp"

#include <gtest/gtest.h>

namespace {

using namespace sstrace::filter;

Filter must_parse(const std::string& cmd, ParseOptions o = zoo::lab_options())
{
    ParseResult r = parse(zoo::shell_split(cmd), nullptr, o);
    if (r.error) {
        ADD_FAILURE() << cmd << ": " << r.error->message;
        return {};
    }
    return std::move(r.filter);
}

// Indexes of the zoo rows a filter matches.
std::vector<int> zoo_matches(const std::string& cmd)
{
    const Filter f = must_parse(cmd);
    std::vector<int> out;
    const auto& rows = zoo::tcp_zoo();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (f.matches(rows[i].view)) {
            out.push_back(static_cast<int>(i));
        }
    }
    return out;
}

TEST(EvalInet, MappedAddresses)
{
    // an IPv4 condition also matches v4-mapped sockets ...
    EXPECT_EQ(zoo_matches("src 127.0.0.1:9000"), (std::vector<int>{26}));
    EXPECT_EQ(zoo_matches("dst 127.0.0.1:32928"), (std::vector<int>{26}));
    // ... a v4-mapped condition only v4-mapped ones
    EXPECT_EQ(zoo_matches("src [::ffff:127.0.0.1]"), (std::vector<int>{26}));
    // prefixes apply to the mapped address too
    EXPECT_EQ(zoo_matches("src 127.0.0.0/24 and sport = :9000"), (std::vector<int>{26}));
}

TEST(EvalInet, AbbreviatedAndPrefixes)
{
    EXPECT_TRUE(zoo_matches("dst 127.1").empty());  // 127.1.0.0, not 127.0.0.1
    EXPECT_EQ(zoo_matches("dst 10.99/16"), (std::vector<int>{5, 16}));
    EXPECT_EQ(zoo_matches("dst 10.99.0.2/255.255.255.255"), (std::vector<int>{5, 16}));
    EXPECT_EQ(zoo_matches("src fe80::/10"), (std::vector<int>{24}));
    EXPECT_EQ(zoo_matches("dst [fe80::2]:8080"), (std::vector<int>{24}));
    EXPECT_EQ(zoo_matches("src 0.0.0.0 and sport = :5000"), (std::vector<int>{4}));
}

TEST(EvalInet, PortQuirks)
{
    const auto all = zoo_matches("dst *");
    ASSERT_EQ(all.size(), zoo::tcp_zoo().size());
    EXPECT_EQ(zoo_matches("sport = :"), all);
    EXPECT_EQ(zoo_matches("sport = :-1"), all);
    EXPECT_EQ(zoo_matches("sport = :*"), all);
    EXPECT_TRUE(zoo_matches("sport = :65536").empty());
    EXPECT_EQ(zoo_matches("sport >= :"), all);  // -1: every port is >= -1
    EXPECT_TRUE(zoo_matches("sport < :").empty());
    EXPECT_EQ(zoo_matches("sport = :0x1f90"), zoo_matches("sport = :8080"));
    EXPECT_EQ(zoo_matches("sport = :017620"), zoo_matches("sport = :8080"));
    EXPECT_EQ(zoo_matches("dport = :0"), (std::vector<int>{0, 1, 2, 3, 4, 18, 19, 20}));
}

TEST(EvalInet, HostNamesAreOred)
{
    // localhost = 127.0.0.1 and ::1
    const auto v = zoo_matches("src localhost:8443");
    EXPECT_EQ(v, (std::vector<int>{20, 21}));
    EXPECT_EQ(zoo_matches("src localhost:ssh"), (std::vector<int>{15}));
}

TEST(EvalInet, MarkAndDevAndCgroup)
{
    EXPECT_EQ(zoo_matches("fwmark 42"), (std::vector<int>{13}));
    EXPECT_EQ(zoo_matches("fwmark 0x20/0x20"), (std::vector<int>{13}));
    EXPECT_EQ(zoo_matches("fwmark 0/0").size(), zoo::tcp_zoo().size());
    EXPECT_EQ(zoo_matches("fwmark 0/0x2").size(), zoo::tcp_zoo().size() - 1);
    EXPECT_EQ(zoo_matches("dev 1"), (std::vector<int>{1}));
    EXPECT_EQ(zoo_matches("dev lo or dev v0"), (std::vector<int>{1, 24}));
    EXPECT_EQ(zoo_matches("dev 0").size(), zoo::tcp_zoo().size() - 2);
    EXPECT_EQ(zoo_matches("cgroup /sys/fs/cgroup/unified").size(), zoo::tcp_zoo().size());
    EXPECT_TRUE(zoo_matches("cgroup /").empty());
}

TEST(EvalInet, NotAndGrouping)
{
    const auto all = zoo_matches("dst *");
    EXPECT_TRUE(zoo_matches("not dst *").empty());
    EXPECT_EQ(zoo_matches("! ! dst *"), all);
    // left to right: (22 or 80) and dport 60410 -> one row; the man page's reading gives more
    EXPECT_EQ(zoo_matches("sport = :22 or sport = :80 and dport = :60410"),
              (std::vector<int>{15}));
    EXPECT_EQ(zoo_matches("dport = :60410 and sport = :80 or sport = :22"),
              (std::vector<int>{0, 15}));
    EXPECT_EQ(zoo_matches("sport = :22 or ( sport = :80 and dport = :60410 )"),
              (std::vector<int>{0, 15}));
}

// --- unix ----------------------------------------------------------------------------------

struct UnixSock {
    const char* path;  // nullptr: unnamed
    std::int64_t ino;
    std::int64_t peer;
};

// The lab's unix sockets (samples: ss -x / -xa).
const UnixSock kUnix[] = {
    {"/srv/sstrace/lab1/ssdoc.sock", 2316799, 0},        // 0 LISTEN
    {"/srv/sstrace/lab1/ssdoc.sock", 2316801, 2316800},  // 1 ESTAB (accepted)
    {nullptr, 2316800, 2316801},                         // 2 ESTAB (client, unnamed)
    {"@705c8", 2316808, 0},                              // 3 UNCONN, autobound
    {"@ssdoc-abstract", 2316802, 0},                     // 4 LISTEN
};

std::vector<int> unix_matches(const std::string& cmd, int preferred = AF_UNIX)
{
    ParseOptions o = zoo::lab_options();
    o.preferred_family = preferred;
    o.tcp = o.udp = false;
    const Filter f = must_parse(cmd, o);
    std::vector<int> out;
    for (std::size_t i = 0; i < std::size(kUnix); ++i) {
        SockView v;
        v.family = AF_UNIX;
        if (kUnix[i].path != nullptr) {
            v.unix_path = kUnix[i].path;
        }
        v.lport = kUnix[i].ino;
        v.rport = kUnix[i].peer;
        if (f.matches(v)) {
            out.push_back(static_cast<int>(i));
        }
    }
    return out;
}

TEST(EvalUnix, GlobsAreCaseInsensitive)
{
    EXPECT_EQ(unix_matches("src '*ssdoc*'"), (std::vector<int>{0, 1, 4}));
    EXPECT_EQ(unix_matches("src '*SSDOC.SOCK'"), (std::vector<int>{0, 1}));
    EXPECT_EQ(unix_matches("src unix:@*"), (std::vector<int>{3, 4}));
    EXPECT_EQ(unix_matches("src unix:@*", AF_UNSPEC), (std::vector<int>{3, 4}));
    EXPECT_EQ(unix_matches("src /srv/sstrace/lab1/ssdoc.sock"), (std::vector<int>{0, 1}));
    EXPECT_EQ(unix_matches("src '/srv/*/ssdoc.sock'"), (std::vector<int>{0, 1}));
    EXPECT_EQ(unix_matches("src '/srv/sstrace/lab1/ssdoc.soc?'"), (std::vector<int>{0, 1}));
    EXPECT_EQ(unix_matches("src '[@]705c[0-9]'"), (std::vector<int>{3}));
    EXPECT_EQ(unix_matches("not src '*ssdoc*'"), (std::vector<int>{2, 3}));
    // an unnamed socket matches as the empty name
    EXPECT_EQ(unix_matches("src unix:"), (std::vector<int>{2}));
    // peer names are never filled in: dst globs find nothing
    EXPECT_TRUE(unix_matches("dst '*ssdoc*'").empty());
    EXPECT_EQ(unix_matches("dst '*'"), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EvalUnix, InodesThroughPortsUnlessForcedToUnix)
{
    EXPECT_EQ(unix_matches("src :2316801", AF_UNSPEC), (std::vector<int>{1}));
    EXPECT_EQ(unix_matches("dport = :2316801", AF_UNSPEC), (std::vector<int>{2}));
    EXPECT_EQ(unix_matches("sport >= :2316802", AF_UNSPEC), (std::vector<int>{3, 4}));
    EXPECT_TRUE(unix_matches("sport = :2316801").empty());  // -x: a path glob ":2316801"
}

TEST(EvalUnix, Autobound)
{
    EXPECT_EQ(unix_matches("autobound"), (std::vector<int>{2, 3}));
    SockView v;
    v.family = AF_UNIX;
    const Filter f = must_parse("autobound");
    for (const char* name : {"@0000A", "@00000a", "@0000", "@0000g", "00000a"}) {
        v.unix_path = name;
        EXPECT_FALSE(f.matches(v)) << name;
    }
    v.unix_path = "@0a9f3";
    EXPECT_TRUE(f.matches(v));
}

// --- packet, netlink, vsock, raw -----------------------------------------------------------

TEST(EvalOther, Packet)
{
    SockView dgr;  // p_dgr ip:*
    dgr.family = AF_PACKET;
    dgr.proto = 0x0800;
    dgr.lport = 0;
    SockView raw;  // p_raw *:lo
    raw.family = AF_PACKET;
    raw.proto = 0x0003;
    raw.lport = zoo::kLoIndex;
    SockView none;  // protocol 0, no interface
    none.family = AF_PACKET;

    ParseOptions o = zoo::lab_options();
    o.tcp = o.udp = false;
    Filter ip = must_parse("src link:ip", o);
    EXPECT_TRUE(ip.matches(dgr));
    EXPECT_FALSE(ip.matches(raw));
    Filter lo = must_parse("src 'link:*:lo'", o);
    EXPECT_FALSE(lo.matches(dgr));
    EXPECT_TRUE(lo.matches(raw));
    Filter all = must_parse("src link:all:1", o);
    EXPECT_TRUE(all.matches(raw));
    Filter autob = must_parse("autobound", o);
    EXPECT_TRUE(autob.matches(none));
    EXPECT_FALSE(autob.matches(dgr));
    EXPECT_FALSE(autob.matches(raw));
}

TEST(EvalOther, Netlink)
{
    SockView rtnl_kernel;
    rtnl_kernel.family = AF_NETLINK;
    rtnl_kernel.proto = 0;
    rtnl_kernel.lport = 0;
    SockView diag_user;
    diag_user.family = AF_NETLINK;
    diag_user.proto = 4;
    diag_user.lport = -4242;  // autobound port ids are negative

    ParseOptions o = zoo::lab_options();
    o.preferred_family = AF_NETLINK;
    o.tcp = o.udp = false;
    Filter rtnl = must_parse("src netlink:rtnl", o);
    EXPECT_TRUE(rtnl.matches(rtnl_kernel));
    EXPECT_FALSE(rtnl.matches(diag_user));
    Filter kernel = must_parse("sport = :kernel", o);
    EXPECT_TRUE(kernel.matches(rtnl_kernel));
    EXPECT_FALSE(kernel.matches(diag_user));
    Filter autob = must_parse("autobound", o);
    EXPECT_FALSE(autob.matches(rtnl_kernel));
    EXPECT_TRUE(autob.matches(diag_user));
}

TEST(EvalOther, Vsock)
{
    SockView v;
    v.family = AF_VSOCK;
    v.local_cid = 3;
    v.lport = 1024;
    v.remote_cid = 2;
    v.rport = 80;
    ParseOptions o = zoo::lab_options();
    o.tcp = o.udp = false;
    EXPECT_TRUE(must_parse("src vsock:3:1024", o).matches(v));
    EXPECT_FALSE(must_parse("src vsock:4:1024", o).matches(v));
    EXPECT_TRUE(must_parse("dst vsock:2:*", o).matches(v));
    EXPECT_TRUE(must_parse("dst vsock:*:80", o).matches(v));
    EXPECT_TRUE(must_parse("autobound", o).matches(v));
    v.lport = 1023;
    EXPECT_FALSE(must_parse("autobound", o).matches(v));
}

TEST(EvalOther, RawIcmp)
{
    // ss -A raw -a src inet:0.0.0.0 matched the raw socket 0.0.0.0:icmp (port = protocol 1)
    const std::uint8_t any[4] = {0, 0, 0, 0};
    const SockView raw = make_inet_view(AF_INET, any, 1, any, 0);
    ParseResult r = parse(zoo::shell_split("src inet:0.0.0.0"), nullptr, zoo::lab_options());
    ASSERT_FALSE(r.error);
    EXPECT_TRUE(r.filter.matches(raw));
    EXPECT_EQ(r.family_reset, AF_INET);
}

TEST(EvalOther, EmptyFilterMatchesAll)
{
    const Filter f;
    EXPECT_TRUE(f.empty());
    EXPECT_TRUE(f.matches(SockView{}));
}

}  // namespace

#include "sstrace/abi/events.h"

namespace {

TEST(EventView, FromSocketEvent)
{
    sstrace::SocketEvent ev;
    sstrace::Socket& s = ev.socket;
    s.family = AF_INET6;
    s.inet.local.addr.family = AF_INET6;
    s.inet.local.addr.bytes[15] = 1;  // ::1
    s.inet.peer.addr.family = AF_INET6;
    s.inet.peer.addr.bytes[10] = 0xff;
    s.inet.peer.addr.bytes[11] = 0xff;
    s.inet.peer.addr.bytes[12] = 127;
    s.inet.peer.addr.bytes[15] = 1;  // ::ffff:127.0.0.1
    s.inet.local.port = 8443;
    s.inet.peer.port = 56150;
    s.ifindex = zoo::kV0Index;
    ev.filter_facts.mark = 0x10;
    const SockView v = view_of(ev);
    EXPECT_TRUE(must_parse("src [::1]:8443 and dport = :56150").matches(v));
    EXPECT_TRUE(must_parse("dst 127.0.0.1").matches(v));  // v4-mapped peer
    EXPECT_TRUE(must_parse("dev v0").matches(v));
    EXPECT_TRUE(must_parse("fwmark 0x10").matches(v));  // a fact only the filter sees
    EXPECT_FALSE(must_parse("src 127.0.0.1").matches(v));
    EXPECT_FALSE(must_parse("sport < :8443").matches(v));
}

}  // namespace
