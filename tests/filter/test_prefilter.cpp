// SPDX-License-Identifier: GPL-2.0-only
// port_prefilter(): the ranges it derives from compiled expressions, and that it is a necessary
// condition: no socket the kernel's interpreter (run_bytecode, a model of inet_diag_bc_run())
// accepts lies outside them, on the lab's socket zoo and on sockets with every port that
// matters, for the samples and for random expressions.
#include "random_expr.hpp"
#include "zoo.hpp"

#include <linux/inet_diag.h>

#include <gtest/gtest.h>

#include <random>

namespace {

using namespace sstrace::filter;
using Bytes = std::vector<std::uint8_t>;

Bytes program(const std::string& cmd)
{
    ParseResult r = parse(zoo::shell_split(cmd), nullptr, zoo::lab_options());
    if (r.error) {
        ADD_FAILURE() << cmd << ": " << r.error->message;
        return {};
    }
    auto code = compile_bytecode(r.filter);
    if (!code) {
        ADD_FAILURE() << cmd << ": no bytecode";
        return {};
    }
    return *code;
}

std::string ranges(const std::string& cmd)
{
    return port_prefilter(program(cmd)).to_string();
}

TEST(Prefilter, NarrowsThePortsOfAnAnd)
{
    EXPECT_EQ(ranges("dport = :443"), "dport 443");
    EXPECT_EQ(ranges("sport = :22"), "sport 22");
    EXPECT_EQ(ranges("dport > :1000"), "dport 1001-65535");
    EXPECT_EQ(ranges("dport < :1000"), "dport 0-999");
    EXPECT_EQ(ranges("sport >= :1024 and sport <= :2048"), "sport 1024-2048");
    EXPECT_EQ(ranges("dport = :443 and src 127.0.0.1"), "dport 443");
    EXPECT_EQ(ranges("src 127.0.0.1 and dport = :443"), "dport 443");
    EXPECT_EQ(ranges("( dport = :443 ) and ( sport > :1024 )"), "sport 1025-65535, dport 443");
    EXPECT_EQ(ranges("src 127.0.0.1:8080"), "sport 8080");
    EXPECT_EQ(ranges("dst [::1]:8443"), "dport 8443");
    // a host with two addresses: two paths, the same port on both
    EXPECT_EQ(ranges("dst localhost:8080"), "dport 8080");
    // both ports of an `or`: the range holding both
    EXPECT_EQ(ranges("dport = :80 or dport = :443"), "dport 80-443");
    EXPECT_EQ(ranges("dport = :443 and ( sport = :1 or sport = :9 )"), "sport 1-9, dport 443");
}

TEST(Prefilter, LeavesOpenWhatItCannotBound)
{
    EXPECT_EQ(ranges("dport = :443 or sport = :443"), "none");
    EXPECT_EQ(ranges("dport = :443 or src 127.0.0.1"), "none");
    EXPECT_EQ(ranges("not dport = :443"), "none");
    EXPECT_EQ(ranges("dport != :443"), "none");
    EXPECT_EQ(ranges("src 127.0.0.1"), "none");
    EXPECT_EQ(ranges("dst *"), "none");
    EXPECT_EQ(ranges("autobound"), "none");
    EXPECT_EQ(ranges("fwmark 0x2a"), "none");
    EXPECT_FALSE(port_prefilter(program("src 127.0.0.1")).narrows());
    EXPECT_FALSE(port_prefilter({}).narrows());
}

TEST(Prefilter, NothingWhenNoPathAccepts)
{
    EXPECT_EQ(ranges("dport = :443 and dport = :80"), "sport none");
    EXPECT_EQ(ranges("dport > :65535"), "sport none");
    const PortPrefilter pf = port_prefilter(program("dport < :0"));
    EXPECT_TRUE(pf.narrows());
    EXPECT_FALSE(pf.admits(0, 0));
    EXPECT_FALSE(pf.admits(65535, 65535));
}

TEST(Prefilter, HandWrittenProgramsAsTheInterpretersReadThem)
{
    // D_GE 443 whose `yes` offset is 0: that outcome rejects, so only dport < 443 is accepted
    Bytes b = {INET_DIAG_BC_D_GE, 0, 12, 0, INET_DIAG_BC_NOP, 0, 0xbb, 0x01};
    EXPECT_EQ(port_prefilter(b).to_string(), "sport none");  // the `no` lands 4 past the end
    b[2] = 8;
    EXPECT_EQ(port_prefilter(b).to_string(), "dport 0-442");
    // an unknown op accepts nothing
    EXPECT_EQ(port_prefilter(Bytes{99, 4, 8, 0}).to_string(), "sport none");
}

// Sockets of the zoo with each port replaced by the ones the samples and random atoms test, one
// below and one above (the boundaries of every range).
std::vector<SockView> port_sweep()
{
    static const int kPorts[] = {0, 1, 22, 80, 443, 999, 1000, 1001, 1024, 2048, 8000, 8080,
                                 8443, 9000, 32928, 39966, 40000, 65535};
    std::vector<SockView> out;
    for (const zoo::Row& r : zoo::tcp_zoo()) {
        out.push_back(r.view);
        for (const int p : kPorts) {
            for (const int d : {-1, 0, 1}) {
                if (p + d < 0 || p + d > 65535) {
                    continue;
                }
                SockView v = r.view;
                v.lport = p + d;
                out.push_back(v);
                v = r.view;
                v.rport = p + d;
                out.push_back(v);
            }
        }
    }
    return out;
}

void expect_necessary(const std::string& cmd, const std::vector<SockView>& sockets, int& narrowed)
{
    const Bytes code = program(cmd);
    const PortPrefilter pf = port_prefilter(code);
    narrowed += pf.narrows() ? 1 : 0;
    for (const SockView& v : sockets) {
        if (run_bytecode(code, v)) {
            ASSERT_TRUE(pf.admits(static_cast<unsigned>(v.lport), static_cast<unsigned>(v.rport)))
                << cmd << ": " << pf.to_string() << " rejects a socket the program accepts, port "
                << v.lport << "/" << v.rport;
        }
    }
}

TEST(Prefilter, NeverRejectsWhatTheProgramAcceptsOnTheSamples)
{
    const auto samples = zoo::read_samples(std::string(SSTRACE_FILTER_TEST_DATA) +
                                           "/filters_ok.txt");
    const std::vector<SockView> sockets = port_sweep();
    int n = 0;
    int narrowed = 0;
    for (const auto& s : samples) {
        if (s.args.empty() || (s.args[0] != "-tan" && s.args[0] != "-ta")) {
            continue;
        }
        ParseOptions o = zoo::lab_options();
        o.udp = false;
        const ParseResult r = parse(std::vector<std::string>(s.args.begin() + 1, s.args.end()),
                                    nullptr, o);
        ASSERT_FALSE(r.error) << s.command;
        const auto code = compile_bytecode(r.filter);
        if (!code) {
            continue;
        }
        const PortPrefilter pf = port_prefilter(*code);
        narrowed += pf.narrows() ? 1 : 0;
        for (const SockView& v : sockets) {
            if (run_bytecode(*code, v)) {
                ASSERT_TRUE(
                    pf.admits(static_cast<unsigned>(v.lport), static_cast<unsigned>(v.rport)))
                    << s.command << ": " << pf.to_string() << ", port " << v.lport << "/"
                    << v.rport;
            }
        }
        ++n;
    }
    EXPECT_GE(n, 30);
    EXPECT_GE(narrowed, 5);  // the samples include port tests it bounds
}

// Random expressions, as in test_bytecode.cpp, over port tests and the operands around them.
const char* const kAtoms[] = {
    "src 127.0.0.1",    "dst 127.0.0.1:8080", "src *:22",        "dst :80",
    "sport = :8443",    "dport != :22",       "sport >= :8000",  "sport <= :1024",
    "dport > :1024",    "dport < :9000",      "sport gt :40000", "dport ge :0",
    "dport = :443",     "sport = :443",       "dport le :65535", "dst [::1]:8443",
    "autobound",        "fwmark 0x2a",        "dst localhost:8080", "sport lt :1",
};

std::string random_expr(std::mt19937& rng, int depth)
{
    return zoo::random_expr(rng, kAtoms, depth);
}

TEST(Prefilter, NeverRejectsWhatTheProgramAcceptsOnRandomExpressions)
{
    std::mt19937 rng(20261202);
    const std::vector<SockView> sockets = port_sweep();
    int narrowed = 0;
    for (int i = 0; i < 400 && !::testing::Test::HasFailure(); ++i) {
        expect_necessary(random_expr(rng, 3), sockets, narrowed);
    }
    EXPECT_GE(narrowed, 40);  // a test that bounds nothing would pass the loop above
}

}  // namespace
