// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/table.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace sstrace {
namespace {

std::string render(Table& t, std::FILE* f)
{
    t.flush();
    std::fflush(f);
    std::rewind(f);
    std::string out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
        out.append(buf, n);
    }
    return out;
}

std::array<std::string, kColCount> row(const char* state, const char* rq, const char* wq,
                                       const char* la, const char* lp, const char* pa,
                                       const char* pp, const char* ext)
{
    return {"tcp", state, rq, wq, la, lp, pa, pp, ext, ""};
}

TEST(Table, CompactMatchesSs61)
{
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    Table t(f, -1);
    t.set_disabled(kColNetid, true);
    t.add_header();
    t.add_row(row("LISTEN", "0     ", "128   ", "0.0.0.0:", "22", "0.0.0.0:", "*", ""));
    t.add_row(row("ESTAB", "0     ", "0     ", "127.0.0.1:", "22", "127.0.0.1:", "60410", ""));
    EXPECT_EQ(render(t, f),
              "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
              "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*           \n"
              "ESTAB  0      0          127.0.0.1:22      127.0.0.1:60410       \n");
    std::fclose(f);
}

TEST(Table, PortGluesToProcessWhenFourWide)
{
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    Table t(f, -1);
    t.set_disabled(kColNetid, true);
    t.set_disabled(kColState, true);
    t.add_header();
    t.add_row(row("", "0     ", "128   ", "0.0.0.0:", "22", "0.0.0.0:", "*", ""));
    EXPECT_EQ(render(t, f),
              "Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
              "0      128          0.0.0.0:22        0.0.0.0:*          \n");
    std::fclose(f);
}

TEST(Table, LastRowExtIsNotMeasured)
{
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    Table t(f, -1);
    t.set_disabled(kColNetid, true);
    t.set_disabled(kColState, true);
    t.set_disabled(kColTail, true);
    t.add_header();
    t.add_row(row("", "0     ", "0     ", "1.2.3.4:", "5", "1.2.3.4:", "6", " abcdefghij"));
    t.add_row(row("", "0     ", "0     ", "1.2.3.4:", "5", "1.2.3.4:", "6", " abcdefghijklmnop"));
    EXPECT_EQ(render(t, f),
              "Recv-Q Send-Q Local Address:Port Peer Address:PortProcess    \n"
              "0      0            1.2.3.4:5         1.2.3.4:6    abcdefghij\n"
              "0      0            1.2.3.4:5         1.2.3.4:6    abcdefghijklmnop\n");
    std::fclose(f);
}

TEST(Widths, CompactIsMaxPlusDelimiter)
{
    std::array<std::size_t, kColCount> max{5, 6, 6, 6, 14, 4, 13, 4, 7, 0};
    std::array<bool, kColCount> disabled{};
    disabled[kColNetid] = true;
    const ColumnWidths w = compute_widths(max, disabled, -1);
    EXPECT_EQ(w.width[kColNetid], 0);
    EXPECT_EQ(w.width[kColState], 6);  // first visible column: no delimiter
    EXPECT_EQ(w.width[kColRecvQ], 7);
    EXPECT_EQ(w.width[kColLocalAddr], 15);
    EXPECT_EQ(w.width[kColLocalPort], 4);  // empty delimiter
    EXPECT_EQ(w.width[kColExt], 7);
    EXPECT_EQ(w.width[kColTail], 0);
}

TEST(Widths, TtyLinesSumToScreenWidth)
{
    std::array<std::size_t, kColCount> max{0, 0, 6, 6, 14, 4, 13, 4, 7, 0};
    std::array<bool, kColCount> disabled{};
    disabled[kColNetid] = true;
    disabled[kColState] = true;
    disabled[kColTail] = true;
    for (const int screen : {50, 80, 120}) {
        const ColumnWidths w = compute_widths(max, disabled, screen);
        int total = 0;
        for (int c = 0; c < kColCount; ++c) {
            total += w.width[static_cast<std::size_t>(c)];
        }
        EXPECT_EQ(total % screen, 0) << "screen " << screen;
    }
}

}  // namespace
}  // namespace sstrace

namespace sstrace {
namespace {

TEST(Table, TokensLongerThan64KiB)
{
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    Table t(f, -1);
    t.set_disabled(kColNetid, true);
    t.set_disabled(kColState, true);
    t.set_disabled(kColTail, true);
    const std::string big(70000, 'x');
    t.add_row(row("", "0", "0", "a:", "1", "b:", "2", big.c_str()));
    t.add_row(row("", "0", "0", "a:", "1", "b:", "2", "y"));
    const std::string out = render(t, f);
    EXPECT_EQ(out.size(), 2u * (11 + 70000 + 1));  // the second row is padded to 70000
    EXPECT_EQ(out.substr(0, 12), "0 0 a:1 b:2x");
    EXPECT_EQ(out.substr(70012, 13), "0 0 a:1 b:2y ");
    std::fclose(f);
}

}  // namespace
}  // namespace sstrace

namespace sstrace {
namespace {

// The header of `ss -tan state listening` on ptys 50, 80 and 120 columns wide
// (spec/samples/tty_render.txt); the header alone has the same column widths as that listing.
TEST(Table, TtyHeaderMatchesSamples)
{
    const std::pair<int, std::string> cases[] = {
        {50, "Recv-Q Send-Q Local Address:Port Peer Address:PortProcess" + std::string(43, ' ')},
        {80, "Recv-Q    Send-Q       Local Address:Port       Peer Address:Port    Process    "},
        {120, "Recv-Q          Send-Q                   Local Address:Port                   "
              "Peer Address:Port         Process         "},
    };
    for (const auto& [cols, expected] : cases) {
        std::FILE* f = std::tmpfile();
        ASSERT_NE(f, nullptr);
        Table t(f, cols);
        t.set_disabled(kColNetid, true);
        t.set_disabled(kColState, true);
        t.set_disabled(kColTail, true);
        t.add_header();
        EXPECT_EQ(render(t, f), expected + "\n") << cols << " columns";
        std::fclose(f);
    }
}

}  // namespace
}  // namespace sstrace
