// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/program.hpp"
#include "sstrace/core/state.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace sstrace;

TEST(StateNames, PrintedAsSsPrintsThem)
{
    EXPECT_EQ(state_name(kStateEstablished), "ESTAB");
    EXPECT_EQ(state_name(kStateSynSent), "SYN-SENT");
    EXPECT_EQ(state_name(kStateSynRecv), "SYN-RECV");
    EXPECT_EQ(state_name(kStateFinWait1), "FIN-WAIT-1");
    EXPECT_EQ(state_name(kStateFinWait2), "FIN-WAIT-2");
    EXPECT_EQ(state_name(kStateTimeWait), "TIME-WAIT");
    EXPECT_EQ(state_name(kStateClose), "UNCONN");
    EXPECT_EQ(state_name(kStateCloseWait), "CLOSE-WAIT");
    EXPECT_EQ(state_name(kStateLastAck), "LAST-ACK");
    EXPECT_EQ(state_name(kStateListen), "LISTEN");
    EXPECT_EQ(state_name(kStateClosing), "CLOSING");
    EXPECT_EQ(state_name(kStateUnknown), "UNKNOWN");
    EXPECT_EQ(state_name(12), "UNDEF");
}

TEST(StateNames, SingleStatesAndAliases)
{
    EXPECT_EQ(parse_state_name("established"), state_bit(kStateEstablished));
    EXPECT_EQ(parse_state_name("syn-rcv"), state_bit(kStateSynRecv));
    EXPECT_EQ(parse_state_name("syn-recv"), state_bit(kStateSynRecv));
    EXPECT_EQ(parse_state_name("closed"), state_bit(kStateClose));
    EXPECT_EQ(parse_state_name("close"), state_bit(kStateClose));
    EXPECT_EQ(parse_state_name("unconnected"), state_bit(kStateClose));
    EXPECT_EQ(parse_state_name("listening"), state_bit(kStateListen));
    EXPECT_EQ(parse_state_name("unknown"), state_bit(kStateUnknown));
}

TEST(StateNames, CaseInsensitive)
{
    EXPECT_EQ(parse_state_name("ESTABLISHED"), state_bit(kStateEstablished));
    EXPECT_EQ(parse_state_name("Time-Wait"), state_bit(kStateTimeWait));
}

TEST(StateNames, RejectedAsSsRejectsThem)
{
    // observed on ss 6.1: estab, listen, bogus, new-syn-recv, bound-inactive are errors
    for (const char* w : {"estab", "listen", "bogus", "new-syn-recv", "bound-inactive", ""}) {
        EXPECT_FALSE(parse_state_name(w).has_value()) << w;
    }
}

TEST(StateGroups, Membership)
{
    const StateMask connected = *parse_state_name("connected");
    EXPECT_EQ(connected & state_bit(kStateListen), 0u);
    EXPECT_EQ(connected & state_bit(kStateClose), 0u);
    EXPECT_NE(connected & state_bit(kStateTimeWait), 0u);
    EXPECT_NE(connected & state_bit(kStateSynRecv), 0u);
    const StateMask sync = *parse_state_name("synchronized");
    EXPECT_EQ(sync, connected & ~state_bit(kStateSynSent));
    EXPECT_EQ(*parse_state_name("bucket"), state_bit(kStateSynRecv) | state_bit(kStateTimeWait));
    const StateMask big = *parse_state_name("big");
    EXPECT_NE(big & state_bit(kStateListen), 0u);
    EXPECT_NE(big & state_bit(kStateClose), 0u);
    EXPECT_EQ(big & (state_bit(kStateSynRecv) | state_bit(kStateTimeWait)), 0u);
    EXPECT_EQ(*parse_state_name("all"), kAllStates);
    EXPECT_EQ(state_count(kAllStates), 12);
    // the implicit TCP default is not `connected`: it also drops TIME-WAIT and SYN-RECV
    EXPECT_EQ(kConnDefault, connected & ~(state_bit(kStateTimeWait) | state_bit(kStateSynRecv)));
}

namespace {

StateWords words_of(std::vector<std::string> w, std::optional<StateWordError>* err = nullptr)
{
    StateWords out;
    auto e = parse_state_words(w, out);
    if (err != nullptr) {
        *err = e;
    }
    return out;
}

}  // namespace

TEST(StateWords, FirstStateResetsThenAdds)
{
    auto w = words_of({"state", "established", "state", "time-wait", "dport", "=", ":22"});
    ASSERT_TRUE(w.mask);
    EXPECT_EQ(*w.mask, state_bit(kStateEstablished) | state_bit(kStateTimeWait));
    EXPECT_EQ(w.consumed, 4u);
}

TEST(StateWords, ExcludeStartsFromAll)
{
    auto w = words_of({"exclude", "listening", "excl", "closed"});
    ASSERT_TRUE(w.mask);
    EXPECT_EQ(*w.mask, kAllStates & ~(state_bit(kStateListen) | state_bit(kStateClose)));
}

TEST(StateWords, StateAfterExcludeKeepsTheExclusionBase)
{
    // ss: the first of either word decides the base; a later `state` only adds
    auto w = words_of({"exclude", "all", "state", "syn-sent"});
    ASSERT_TRUE(w.mask);
    EXPECT_EQ(*w.mask, state_bit(kStateSynSent));
    auto w2 = words_of({"exclude", "time-wait", "state", "time-wait"});
    EXPECT_EQ(*w2.mask, kAllStates);
}

TEST(StateWords, NoWordsNoMask)
{
    auto w = words_of({"sport", "=", ":22"});
    EXPECT_FALSE(w.mask);
    EXPECT_EQ(w.consumed, 0u);
}

TEST(StateWords, ErrorsAsSs)
{
    std::optional<StateWordError> err;
    set_program_name("ss");
    words_of({"state", "bogus"}, &err);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->message, "ss: wrong state name: bogus");
    set_program_name("sstrace");
    words_of({"state", "bogus"}, &err);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->message, "sstrace: wrong state name: bogus");
    EXPECT_EQ(err->exit_code, 255);
    words_of({"exclude"}, &err);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->message, "Command line is not complete. Try option \"help\"");
    EXPECT_EQ(err->exit_code, 255);
}
