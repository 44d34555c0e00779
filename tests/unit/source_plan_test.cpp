// SPDX-License-Identifier: GPL-2.0-only
// The one rule that picks a listing's sources (src/sources/source_plan.cpp): sock_diag or
// iter/tcp for the TCP table, /proc/PID/fd or iter/task_file for -p's owners.
#include "sstrace/abi/events.h"
#include "sstrace/sources/listing.hpp"
#include "sstrace/sources/source_plan.hpp"
#include "sstrace/sources/summary.hpp"
#include "sstrace/core/parse.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace sstrace {
namespace {

// A system where every iterator can run and the tables are large.
SourceFacts big_system()
{
    SourceFacts f;
    f.tcp_listed = true;
    f.kernel_btf = true;
    f.initial_pidns = true;
    f.tcp_sockets = 100000;
    f.open_files = 200000;
    return f;
}

bool says(const std::string& why, const std::string& what)
{
    return why.find(what) != std::string::npos;
}

TEST(SourcePlan, LargeTablesWithoutDetailsUseTheIterators)
{
    ListingRequest req;
    req.owners = true;
    const SourcePlan p = plan_sources(req, big_system());
    EXPECT_EQ(p.tcp, TcpSource::BpfIterator);
    EXPECT_EQ(p.owners, OwnerSource::BpfIterator);
    EXPECT_TRUE(says(p.tcp_why, "100000 sockets")) << p.tcp_why;
}

TEST(SourcePlan, SmallTablesStayOnSockDiagUnlessForced)
{
    ListingRequest req;
    req.owners = true;
    SourceFacts f = big_system();
    f.tcp_sockets = kIterMinTcpSockets - 1;
    f.open_files = kIterMinOpenFiles - 1;
    SourcePlan p = plan_sources(req, f);
    EXPECT_EQ(p.tcp, TcpSource::SockDiag);
    EXPECT_EQ(p.owners, OwnerSource::ProcScan);
    f.tcp_sockets = kIterMinTcpSockets;
    f.open_files = kIterMinOpenFiles;
    p = plan_sources(req, f);
    EXPECT_EQ(p.tcp, TcpSource::BpfIterator);
    EXPECT_EQ(p.owners, OwnerSource::BpfIterator);

    f.tcp_sockets = 3;
    f.open_files = 3;
    f.mode = SourceMode::BpfIterator;
    p = plan_sources(req, f);
    EXPECT_EQ(p.tcp, TcpSource::BpfIterator);
    EXPECT_EQ(p.owners, OwnerSource::BpfIterator);
    EXPECT_TRUE(says(p.tcp_why, "SSTRACE_LISTING_SOURCE=iter")) << p.tcp_why;
}

TEST(SourcePlan, DiagModeKeepsTheClassicSources)
{
    ListingRequest req;
    req.owners = true;
    SourceFacts f = big_system();
    f.mode = SourceMode::SockDiag;
    const SourcePlan p = plan_sources(req, f);
    EXPECT_EQ(p.tcp, TcpSource::SockDiag);
    EXPECT_EQ(p.owners, OwnerSource::ProcScan);
}

// Whatever only inet_diag computes keeps the TCP table on sock_diag, even when forced.
TEST(SourcePlan, DetailOptionsNeedInetDiag)
{
    const auto with = [](auto set) {
        ListingRequest r;
        set(r);
        return r;
    };
    const ListingRequest cases[] = {
        with([](ListingRequest& r) { r.info = true; }),
        with([](ListingRequest& r) { r.memory = true; }),
        with([](ListingRequest& r) { r.timers = true; }),
        with([](ListingRequest& r) { r.tos = true; }),
        with([](ListingRequest& r) { r.inet_sockopt = true; }),
        with([](ListingRequest& r) { r.kill = true; }),
        with([](ListingRequest& r) { r.watch = true; }),
        with([](ListingRequest& r) {
            r.inet_bytecode.assign(SSTRACE_FILTER_MAX + 4, 0);
        }),
    };
    for (SourceMode mode : {SourceMode::Auto, SourceMode::BpfIterator}) {
        SourceFacts f = big_system();
        f.mode = mode;
        for (const ListingRequest& req : cases) {
            const SourcePlan p = plan_sources(req, f);
            EXPECT_EQ(p.tcp, TcpSource::SockDiag) << p.tcp_why;
            EXPECT_TRUE(says(p.tcp_why, "inet_diag only")) << p.tcp_why;
        }
    }
    // a filter program that fits runs in the iterator when the iterator is forced; the automatic
    // choice leaves it to inet_diag, whose walk with it costs less (scripts/bench-dump.sh)
    ListingRequest filtered;
    filtered.filter = true;
    filtered.inet_bytecode.assign(SSTRACE_FILTER_MAX, 0);
    SourceFacts forced = big_system();
    forced.mode = SourceMode::BpfIterator;
    EXPECT_EQ(plan_sources(filtered, forced).tcp, TcpSource::BpfIterator);
    const SourcePlan automatic = plan_sources(filtered, big_system());
    EXPECT_EQ(automatic.tcp, TcpSource::SockDiag);
    EXPECT_TRUE(says(automatic.tcp_why, "filter program")) << automatic.tcp_why;
    // a filter checked in userspace only (dev) has no program: the iterator serves it
    ListingRequest dev_only;
    dev_only.filter = true;
    EXPECT_EQ(plan_sources(dev_only, big_system()).tcp, TcpSource::BpfIterator);
}

TEST(SourcePlan, NoTcpTableOrNoBtfMeansSockDiag)
{
    const ListingRequest req;
    SourceFacts f = big_system();
    f.tcp_listed = false;
    EXPECT_EQ(plan_sources(req, f).tcp, TcpSource::SockDiag);
    f = big_system();
    f.kernel_btf = false;
    const SourcePlan p = plan_sources(req, f);
    EXPECT_EQ(p.tcp, TcpSource::SockDiag);
    EXPECT_TRUE(says(p.tcp_why, "BTF")) << p.tcp_why;
}

// The owners iterator answers as ss's /proc scan only for leaders' tables in the initial pid
// namespace, read from the real /proc.
TEST(SourcePlan, OwnersFromTheIteratorOnlyWhereItEqualsTheProcScan)
{
    ListingRequest req;
    req.owners = true;
    SourceFacts f = big_system();
    f.mode = SourceMode::BpfIterator;

    ListingRequest threads = req;
    threads.threads = true;
    EXPECT_EQ(plan_sources(threads, f).owners, OwnerSource::ProcScan);

    SourceFacts g = f;
    g.proc_root = true;
    EXPECT_EQ(plan_sources(req, g).owners, OwnerSource::ProcScan);

    g = f;
    g.initial_pidns = false;
    EXPECT_EQ(plan_sources(req, g).owners, OwnerSource::ProcScan);

    const ListingRequest none;
    EXPECT_EQ(plan_sources(none, f).owners, OwnerSource::ProcScan);
    EXPECT_EQ(plan_sources(req, f).owners, OwnerSource::BpfIterator);
}

TEST(SourcePlan, BadModeIsAUsageError)
{
    const Environment env = Environment::from([](const char* name) -> const char* {
        return std::string(name) == "SSTRACE_LISTING_SOURCE" ? "fast" : nullptr;
    });
    Selection sel;
    EXPECT_ANY_THROW(read_source_facts(ListingRequest{}, sel, env));
}


// The rule's socket count is -s's (read_summary: inuse of both families plus TIME-WAIT), read
// from sockstat and sockstat6 alone (issue 13: no snmp, no iostreams before a listing).
TEST(SourcePlan, TcpSocketCountAsTheSummaryCountsThem)
{
    const std::string s4 = "/tmp/sstrace-unit-sockstat";
    const std::string s6 = "/tmp/sstrace-unit-sockstat6";
    {
        std::ofstream f(s4);
        f << "sockets: used 231\nTCP: inuse 17 orphan 2 tw 40 alloc 25 mem 3\n"
             "UDP: inuse 9 mem 4\nUDPLITE: inuse 0\nRAW: inuse 1\nFRAG: inuse 0 memory 0\n";
        std::ofstream g(s6);
        g << "TCP6: inuse 5\nUDP6: inuse 3\nUDPLITE6: inuse 0\nRAW6: inuse 0\n";
    }
    const Environment env = Environment::from([&](const char* name) -> const char* {
        if (std::string_view(name) == "PROC_NET_SOCKSTAT") {
            return s4.c_str();
        }
        if (std::string_view(name) == "PROC_NET_SOCKSTAT6") {
            return s6.c_str();
        }
        return nullptr;
    });
    const SocketSummary sum = read_summary(env);
    EXPECT_EQ(sum.tcp.v4 + sum.tcp.v6 + sum.tcp_timewait, 62);
    EXPECT_EQ(read_tcp_socket_count(env), 62);
    std::remove(s4.c_str());
    std::remove(s6.c_str());
    // missing files count 0, as in -s
    EXPECT_EQ(read_tcp_socket_count(env), 0);
}

TEST(Parse, NumberWordsAndSmallFiles)
{
    NumberWords<unsigned> w(" 32768\t60999\n");
    EXPECT_EQ(w.next(), 32768u);
    EXPECT_EQ(w.next(), 60999u);
    EXPECT_EQ(w.next(), std::nullopt);
    NumberWords<long long> bad("12 x 3");
    EXPECT_EQ(bad.next(), 12);
    EXPECT_EQ(bad.next(), std::nullopt);
    EXPECT_EQ(read_small_file("/nonexistent/file"), std::nullopt);
    // a /proc file of more than one read's worth, read whole
    const std::optional<std::string> maps = read_small_file("/proc/self/maps");
    ASSERT_TRUE(maps);
    EXPECT_GT(maps->size(), 0u);
    EXPECT_EQ(maps->back(), '\n');
}

}  // namespace
}  // namespace sstrace
