// SPDX-License-Identifier: GPL-2.0-only
// The stats collector on the real kernel: connections in a private network namespace (the test
// process unshares one, so no other traffic is counted), closed so that a known number enter
// TIME-WAIT and a known number are reset, against the namespace's own counters (TcpExtTW,
// TcpEstabResets, TcpActiveOpens + TcpPassiveOpens) and what the test did per port.
#include "sstrace/app/stats_collector.hpp"
#include "sstrace/app/stream_accounting.hpp"
#include "sstrace/core/netns.hpp"

#include "../common/require.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

using namespace sstrace;

namespace {

// A new network namespace for this process, with lo up.
void enter_private_netns()
{
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(s, 0);
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    ASSERT_EQ(::ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    ASSERT_EQ(::ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    ::close(s);
}

sockaddr_in loopback(std::uint16_t port)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(port);
    return sin;
}

struct Listener {
    int fd = -1;
    std::uint16_t port = 0;
    explicit Listener(std::uint16_t p) : port(p)
    {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sockaddr_in sin = loopback(port);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
        EXPECT_EQ(::listen(fd, 64), 0);
    }
    ~Listener() { ::close(fd); }

    // One connection. `reset`: the client closes with SO_LINGER 0 (an RST: both ends go from
    // ESTABLISHED to CLOSE); else the client closes first and enters TIME-WAIT.
    void connection(bool reset) const
    {
        const int c = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sin = loopback(port);
        EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
        const int a = ::accept(fd, nullptr, nullptr);
        EXPECT_GE(a, 0);
        if (reset) {
            const linger l{1, 0};
            ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        }
        ::close(c);
        usleep(5000);
        ::close(a);
        usleep(5000);
    }
};

const PortCounters* port_of(const NetnsStats& n, std::uint16_t port)
{
    const auto it = std::find_if(n.ports.begin(), n.ports.end(),
                                 [&](const PortCounters& p) { return !p.other && p.port == port; });
    return it == n.ports.end() ? nullptr : &*it;
}

std::int64_t delta(const std::map<std::string, std::int64_t>& a,
                   const std::map<std::string, std::int64_t>& b, const char* name)
{
    return b.at(name) - a.at(name);
}

}  // namespace

TEST(StatsCollector, CountersMatchTheNamespacesOwn)
{
    SSTRACE_REQUIRE_ROOT();
    enter_private_netns();
    const Listener busy(8080);
    const Listener quiet(9090);
    BpfConfig cfg;
    cfg.metrics = true;
    cfg.netns_ino = current_netns_inode();
    cfg.ring_bytes = 1 << 20;
    BpfSession session(cfg);
    // constructed after the listeners exist: its first refresh finds them
    StatsCollector collector(session, StatsScope{false, cfg.netns_ino});
    const auto k0 = read_tcp_counters();

    for (int i = 0; i < 5; ++i) {
        busy.connection(false);
    }
    busy.connection(true);
    quiet.connection(false);
    quiet.connection(true);
    quiet.connection(true);
    usleep(100000);
    const auto k1 = read_tcp_counters();
    const StatsSnapshot snap = collector.snapshot();

    ASSERT_EQ(snap.netns.size(), 1u);
    const NetnsStats& n = snap.netns[0];
    EXPECT_EQ(n.netns_ino, cfg.netns_ino);
    EXPECT_EQ(n.entries[kStateTimeWait], static_cast<std::uint64_t>(delta(k0, k1, "TcpExtTW")));
    EXPECT_EQ(delta(k0, k1, "TcpExtTW"), 6);
    EXPECT_EQ(n.entries[kStateEstablished],
              static_cast<std::uint64_t>(delta(k0, k1, "TcpActiveOpens") +
                                         delta(k0, k1, "TcpPassiveOpens")));

    const PortCounters* b = port_of(n, busy.port);
    const PortCounters* q = port_of(n, quiet.port);
    ASSERT_NE(b, nullptr);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(b->time_wait, 5u);
    EXPECT_EQ(q->time_wait, 1u);
    // an RST by the client: both ends leave ESTABLISHED for CLOSE
    EXPECT_EQ(b->resets, 2u);
    EXPECT_EQ(q->resets, 4u);
    EXPECT_EQ(b->resets + q->resets, static_cast<std::uint64_t>(delta(k0, k1, "TcpEstabResets")));
    EXPECT_EQ(b->opens, 12u);  // both ends of each connection
    EXPECT_EQ(q->opens, 6u);
    EXPECT_EQ(n.ports.size(), 2u);  // the clients' ephemeral ports are not service ports

    // every connection's two ends ended: 18 lifetimes, cumulative buckets ending at the count
    EXPECT_EQ(n.lifetime.count, 18u);
    ASSERT_EQ(n.lifetime.buckets.size(), n.lifetime.bounds.size() + 1);
    EXPECT_EQ(n.lifetime.buckets.back(), n.lifetime.count);
    EXPECT_TRUE(std::is_sorted(n.lifetime.buckets.begin(), n.lifetime.buckets.end()));
    EXPECT_GT(n.lifetime.sum_seconds, 0.0);
    EXPECT_LT(n.lifetime.sum_seconds, 18 * 1.0);
    EXPECT_FALSE(n.current_known);  // no live table given
    EXPECT_EQ(snap.tool.events_seen, 0u);  // counting sends no record
}

TEST(StatsCollector, LowerPortWithoutAListener)
{
    SSTRACE_REQUIRE_ROOT();
    enter_private_netns();
    BpfConfig cfg;
    cfg.metrics = true;
    cfg.netns_ino = current_netns_inode();
    cfg.ring_bytes = 1 << 20;
    BpfSession session(cfg);
    StatsCollector collector(session, StatsScope{false, cfg.netns_ino});  // no listener yet
    {
        const Listener l(7070);
        l.connection(false);
    }
    const StatsSnapshot snap = collector.snapshot();
    ASSERT_EQ(snap.netns.size(), 1u);
    // the listener was never dumped: the lower port of the two, which is still 7070 (ephemeral
    // ports are above it)
    const PortCounters* p = port_of(snap.netns[0], 7070);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->time_wait, 1u);
    EXPECT_EQ(p->opens, 2u);
}
