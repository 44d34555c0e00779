// SPDX-License-Identifier: GPL-2.0-only
// Data-driven checks against ss 6.1's recorded answers (spec samples copied to data/):
// every `ss -ta[n] FILTER` block of filters_ok.txt and errors.txt is parsed with our parser and
// evaluated on the socket zoo; the rows that match must be exactly the rows ss printed (or their
// first N for `| head -N`), and errors must carry ss's stderr text and exit status.
#include "zoo.hpp"
#include "sstrace/core/program.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using namespace sstrace::filter;

std::string data(const char* name)
{
    return std::string(SSTRACE_FILTER_TEST_DATA) + "/" + name;
}

// (local, peer) pairs of the stdout rows, header skipped.
std::vector<std::pair<std::string, std::string>> printed_rows(const zoo::Sample& s)
{
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 1; i < s.stdout_lines.size(); ++i) {
        std::istringstream in(s.stdout_lines[i]);
        std::string state, rq, sq, local, peer;
        in >> state >> rq >> sq >> local >> peer;
        out.emplace_back(local, peer);
    }
    return out;
}

bool tcp_sample(const zoo::Sample& s)
{
    if (s.args.empty() || (s.args[0] != "-tan" && s.args[0] != "-ta")) {
        return false;
    }
    for (const auto& w : s.args) {
        if (w == "state" || w == "exclude") {
            return false;  // state words are parsed by parse_state_words, not here
        }
    }
    return true;
}

ParseResult parse_sample(const zoo::Sample& s)
{
    ParseOptions o = zoo::lab_options();
    o.tcp = true;
    o.udp = false;
    const std::vector<std::string> words(s.args.begin() + 1, s.args.end());
    return parse(words, nullptr, o);
}

void check_rows(const zoo::Sample& s, const Filter& f)
{
    std::vector<std::pair<std::string, std::string>> matched;
    for (const zoo::Row& r : zoo::tcp_zoo()) {
        if (f.matches(r.view)) {
            matched.emplace_back(r.local, r.peer);
        }
    }
    const auto expected = printed_rows(s);
    if (s.head == 0) {
        EXPECT_EQ(matched, expected) << s.command << "\n  parsed as " << f.to_string();
    } else {
        ASSERT_GE(matched.size(), expected.size()) << s.command;
        matched.resize(expected.size());
        EXPECT_EQ(matched, expected) << s.command << "\n  parsed as " << f.to_string();
    }
}

TEST(Samples, FiltersOkTcpRowsMatchSs)
{
    const auto samples = zoo::read_samples(data("filters_ok.txt"));
    int checked = 0;
    for (const auto& s : samples) {
        if (!tcp_sample(s)) {
            continue;
        }
        SCOPED_TRACE(s.command);
        ASSERT_EQ(s.exit_status, 0);
        const ParseResult r = parse_sample(s);
        ASSERT_FALSE(r.error) << r.error->message;
        check_rows(s, r.filter);
        ++checked;
    }
    EXPECT_GE(checked, 38);  // the file has 38 TCP blocks; a parsing slip must not hide them
}

TEST(Samples, ErrorsTcpBlocksMatchSs)
{
    sstrace::set_program_name("ss");  // the samples were printed by ss
    const auto samples = zoo::read_samples(data("errors.txt"));
    int checked = 0;
    for (const auto& s : samples) {
        if (!tcp_sample(s) || s.args.size() < 2) {
            continue;
        }
        SCOPED_TRACE(s.command);
        const ParseResult r = parse_sample(s);
        if (s.exit_status == 0) {
            ASSERT_FALSE(r.error) << r.error->message;
            check_rows(s, r.filter);
        } else {
            ASSERT_TRUE(r.error);
            EXPECT_EQ(r.error->exit_code, s.exit_status);
            if (r.error->usage) {
                // the bison line, then ss's usage text (which sstrace prints itself)
                const std::string first = s.stderr_text.substr(0, s.stderr_text.find('\n') + 1);
                EXPECT_EQ(r.error->message, first);
                EXPECT_NE(s.stderr_text.find("Usage: ss"), std::string::npos);
            } else {
                EXPECT_EQ(r.error->message, s.stderr_text);
            }
        }
        ++checked;
    }
    EXPECT_GE(checked, 17);
}

}  // namespace
