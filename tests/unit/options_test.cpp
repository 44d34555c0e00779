// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/options.hpp"
#include "sstrace/core/program.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace sstrace;

namespace {

ParseResult parse(std::vector<std::string> args)
{
    std::vector<const char*> argv{"sstrace"};
    for (const auto& a : args) {
        argv.push_back(a.c_str());
    }
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST(Options, ShortClusters)
{
    auto r = parse({"-tanp"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_TRUE(r.options.numeric);
    EXPECT_TRUE(r.options.processes);
    EXPECT_TRUE(r.options.all);
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-t", "-a"}));
}

TEST(Options, SelectionKeepsCommandLineOrder)
{
    auto r = parse({"-l", "-4", "-x", "-a", "-f", "inet6", "-A", "tcp,!udp", "-u"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.selection,
              (std::vector<std::string>{"-l", "-4", "-x", "-a", "-f inet6", "-A tcp,!udp", "-u"}));
}

TEST(Options, AttachedOptionValues)
{
    auto r = parse({"-Atcp", "-ffamily", "-Nns1"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-A tcp", "-f family"}));
    EXPECT_EQ(r.options.netns, "ns1");
}

TEST(Options, ExtendedImpliesTimers)
{
    EXPECT_TRUE(parse({"-e"}).options.timers);
    EXPECT_TRUE(parse({"-b"}).options.timers);
    EXPECT_FALSE(parse({"-m"}).options.timers);
}

TEST(Options, FilterWordsAreKeptInOrder)
{
    auto r = parse({"-E", "state", "time-wait", "dport", "=", ":22"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_TRUE(r.options.events);
    EXPECT_EQ(r.options.filter_words,
              (std::vector<std::string>{"state", "time-wait", "dport", "=", ":22"}));
}

TEST(Options, EventOptions)
{
    auto r = parse({"-E", "-c", "5", "--duration", "2.5", "--timestamp", "--transitions",
                    "--all-netns", "--ring-size", "16", "-vv"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.count.value_or(0), 5u);
    EXPECT_DOUBLE_EQ(r.options.duration.value_or(0), 2.5);
    EXPECT_TRUE(r.options.timestamp);
    EXPECT_TRUE(r.options.transitions);
    EXPECT_TRUE(r.options.all_netns);
    EXPECT_EQ(r.options.ring_mb, 16u);
    EXPECT_EQ(r.options.verbosity, 2);
}

TEST(Options, BadOptionsExitLikeSs)
{
    set_program_name("ss");
    EXPECT_EQ(parse({"-Q"}).exit_code, 255);
    EXPECT_EQ(parse({"--bogus"}).exit_code, 255);
    EXPECT_EQ(parse({"-c", "0"}).exit_code, 255);
    EXPECT_EQ(parse({"--ring-size", "3"}).exit_code, 255);
    // unknown options are reported in ss's getopt words, followed by ss's usage text
    EXPECT_EQ(parse({"-Q"}).message.rfind("ss: invalid option -- 'Q'\n", 0), 0u);
    EXPECT_EQ(parse({"-tQ"}).message.rfind("ss: invalid option -- 'Q'\n", 0), 0u);
    EXPECT_EQ(parse({"--bogus"}).message.rfind("ss: unrecognized option '--bogus'\n", 0), 0u);
}

TEST(Options, HelpAndVersion)
{
    EXPECT_TRUE(parse({"-h"}).options.show_help);
    EXPECT_TRUE(parse({"-V"}).options.show_version);
    EXPECT_NE(help_text().find("Exit status:"), std::string::npos);
    EXPECT_NE(version_text().find("iproute2-6.1.0"), std::string::npos);
}

TEST(Options, OneFilterFileOnly)
{
    auto r = parse({"-F", "a", "-F", "b"});
    EXPECT_EQ(r.exit_code, 255);
    EXPECT_EQ(r.message, "More than one filter file");
    EXPECT_EQ(parse({"-F", "-"}).options.filter_file, "-");
}

TEST(Options, BracketedWordsReachTheFilterUnchanged)
{
    // CLI11 would read `[...]` as a list; ss filters need IPv6 operands in brackets
    auto r = parse({"-tan", "src", "[::1]", "dst", "[::ffff:127.0.0.1]:80", "[1,2]"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.filter_words,
              (std::vector<std::string>{"src", "[::1]", "dst", "[::ffff:127.0.0.1]:80", "[1,2]"}));
}
