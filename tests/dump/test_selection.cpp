// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/options.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/ss/selection.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace sstrace {
namespace {

Options with(std::vector<std::string> selection, std::vector<std::string> words = {})
{
    Options o;
    o.selection = std::move(selection);
    o.filter_words = std::move(words);
    return o;
}

bool single(std::uint64_t m) { return m != 0 && (m & (m - 1)) == 0; }

TEST(Selection, DefaultIsAllTablesConnStates)
{
    const auto r = build_selection(with({}));
    ASSERT_FALSE(r.exit_code);
    EXPECT_TRUE(r.do_default);
    EXPECT_EQ(r.selection.states, kConnDefault);
    EXPECT_TRUE(r.selection.has_table(kDbTcp));
    EXPECT_TRUE(r.selection.has_table(kDbNetlink));
    EXPECT_FALSE(r.selection.has_table(kDbTipc));
}

TEST(Selection, UdpAloneIsEstablishedOnly)
{
    const auto r = build_selection(with({"-u"}));
    EXPECT_EQ(r.selection.states, state_bit(kStateEstablished));
    EXPECT_TRUE(single(r.selection.tables));
    EXPECT_TRUE(r.selection.has_family(AF_INET6));
}

TEST(Selection, QueryKeepsConnStates)
{
    const auto r = build_selection(with({"-A udp"}));
    EXPECT_EQ(r.selection.states, kConnDefault);
}

TEST(Selection, LastOfAllAndListeningWins)
{
    EXPECT_EQ(build_selection(with({"-t", "-a", "-l"})).selection.states,
              state_bit(kStateListen) | state_bit(kStateClose));
    EXPECT_EQ(build_selection(with({"-t", "-l", "-a"})).selection.states, kAllStates);
}

TEST(Selection, StateWordsOverrideListening)
{
    const auto r = build_selection(with({"-t", "-l"}, {"state", "all"}));
    EXPECT_EQ(r.selection.states, kAllStates);
    EXPECT_TRUE(r.expression.empty());
}

TEST(Selection, ExpressionIsWhatFollowsStates)
{
    const auto r = build_selection(with({"-t"}, {"state", "established", "sport", "=", ":22"}));
    ASSERT_EQ(r.expression.size(), 3u);
    EXPECT_EQ(r.expression[0], "sport");
}

TEST(Selection, FourWithUnixPullsInInetTables)
{
    const auto r = build_selection(with({"-4", "-x"}));
    EXPECT_TRUE(r.selection.has_table(kDbUnixStream));
    EXPECT_TRUE(r.selection.has_table(kDbTcp));
    EXPECT_TRUE(r.selection.has_table(kDbRaw));
    EXPECT_FALSE(r.selection.has_family(AF_INET6));
    EXPECT_EQ(r.selection.preferred_family, AF_UNIX);
}

TEST(Selection, NetlinkFamilyIsSingleTableSingleState)
{
    const auto r = build_selection(with({"-f netlink"}));
    EXPECT_TRUE(single(r.selection.tables));
    EXPECT_TRUE(single(r.selection.states));
}

TEST(Selection, Errors)
{
    set_program_name("ss");  // ss's words, as a copy installed as ss prints them
    auto r = build_selection(with({"-f bogus"}));
    ASSERT_TRUE(r.exit_code);
    EXPECT_EQ(*r.exit_code, 255);
    EXPECT_EQ(r.message, "ss: \"bogus\" is invalid family");
    EXPECT_TRUE(r.with_usage);

    r = build_selection(with({"-A tcp,bogus"}));
    EXPECT_EQ(r.message, "ss: \"bogus\" is illegal socket table id");

    r = build_selection(with({"-A all,!all"}));
    ASSERT_TRUE(r.exit_code);
    EXPECT_EQ(*r.exit_code, 0);
    EXPECT_EQ(r.message, "ss: no socket tables to show with such filter.");

    r = build_selection(with({"-t"}, {"state", "bogus"}));
    EXPECT_EQ(r.message, "ss: wrong state name: bogus");
    EXPECT_EQ(*r.exit_code, 255);
}

TEST(Selection, ErrorsNameTheProgramAsInvoked)
{
    set_program_name("/usr/local/bin/sstrace");
    EXPECT_EQ(build_selection(with({"-f bogus"})).message, "sstrace: \"bogus\" is invalid family");
    EXPECT_EQ(build_selection(with({"-A all,!all"})).message,
              "sstrace: no socket tables to show with such filter.");
    EXPECT_EQ(build_selection(with({"-t"}, {"state", "bogus"})).message,
              "sstrace: wrong state name: bogus");
}

}  // namespace
}  // namespace sstrace
