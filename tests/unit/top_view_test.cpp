// SPDX-License-Identifier: GPL-2.0-only
// The --top view on constructed snapshots: rates, ranking, sort keys, the userspace filter,
// scrolling and the terminal's size, the JSON report. (The counts themselves are checked
// against the kernel's by tests/e2e/test_top.py.)
#include "sstrace/core/state.hpp"
#include "sstrace/sinks/top_view.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace sstrace {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

PortCounters port(std::uint16_t p, std::uint64_t tw, std::uint64_t rst, std::uint64_t opens)
{
    PortCounters c;
    c.port = p;
    c.time_wait = tw;
    c.resets = rst;
    c.opens = opens;
    return c;
}

PortCounters other(std::uint64_t tw)
{
    PortCounters c;
    c.other = true;
    c.time_wait = tw;
    return c;
}

NetnsStats netns(std::uint32_t ino, std::string name, std::vector<PortCounters> ports)
{
    NetnsStats ns;
    ns.netns_ino = ino;
    ns.netns_name = std::move(name);
    ns.current_known = true;
    ns.ports = std::move(ports);
    return ns;
}

StatsSnapshot snapshot(std::uint64_t mono_ns, std::vector<NetnsStats> namespaces)
{
    StatsSnapshot s;
    s.mono_ns = mono_ns;
    s.netns = std::move(namespaces);
    return s;
}

std::vector<std::uint16_t> ports_in_order(const TopReport& r)
{
    std::vector<std::uint16_t> out;
    for (const TopPortLine& p : r.ports) {
        out.push_back(p.other ? 0 : p.port);
    }
    return out;
}

const TopStateLine& state_line(const TopReport& r, int state)
{
    return *std::find_if(r.states.begin(), r.states.end(),
                         [state](const TopStateLine& s) { return s.state == state; });
}

TEST(TopView, RatesAreDifferencesOverTheInterval)
{
    const StatsSnapshot before =
        snapshot(10 * kSecond, {netns(7, "a", {port(80, 10, 1, 20), port(443, 0, 0, 4)})});
    const StatsSnapshot now =
        snapshot(12 * kSecond, {netns(7, "a", {port(80, 30, 5, 60), port(443, 2, 0, 10)})});
    const TopReport r = make_top_report(&before, now, TopSort::TimeWait);
    EXPECT_DOUBLE_EQ(r.interval_s, 2.0);
    ASSERT_EQ(r.ports.size(), 2u);
    EXPECT_EQ(r.ports[0].port, 80);
    EXPECT_DOUBLE_EQ(r.ports[0].time_wait_per_s, 10.0);
    EXPECT_DOUBLE_EQ(r.ports[0].resets_per_s, 2.0);
    EXPECT_DOUBLE_EQ(r.ports[0].opens_per_s, 20.0);
    EXPECT_EQ(r.ports[0].time_wait, 30u);  // totals since the start
    EXPECT_DOUBLE_EQ(r.ports[1].time_wait_per_s, 1.0);
    EXPECT_DOUBLE_EQ(r.ports[1].opens_per_s, 3.0);
}

TEST(TopView, ACounterThatWentDownOrANewPort)
{
    // 443 moved out of the bounded table (its counter restarts), 8080 is new
    const StatsSnapshot before = snapshot(0, {netns(7, "", {port(443, 50, 0, 0)})});
    const StatsSnapshot now =
        snapshot(kSecond, {netns(7, "", {port(443, 3, 0, 0), port(8080, 4, 0, 0)})});
    const TopReport r = make_top_report(&before, now, TopSort::TimeWait);
    ASSERT_EQ(ports_in_order(r), (std::vector<std::uint16_t>{8080, 443}));
    EXPECT_DOUBLE_EQ(r.ports[0].time_wait_per_s, 4.0);
    EXPECT_DOUBLE_EQ(r.ports[1].time_wait_per_s, 0.0);
}

TEST(TopView, EachSortKeyRanksItsOwnColumnAndOtherStaysLast)
{
    const StatsSnapshot before = snapshot(0, {netns(7, "", {})});
    const StatsSnapshot now = snapshot(
        kSecond, {netns(7, "", {other(1000), port(9000, 1, 50, 2), port(22, 100, 0, 1),
                                port(5000, 10, 5, 300)})});
    EXPECT_EQ(ports_in_order(make_top_report(&before, now, TopSort::TimeWait)),
              (std::vector<std::uint16_t>{22, 5000, 9000, 0}));
    EXPECT_EQ(ports_in_order(make_top_report(&before, now, TopSort::Resets)),
              (std::vector<std::uint16_t>{9000, 5000, 22, 0}));
    EXPECT_EQ(ports_in_order(make_top_report(&before, now, TopSort::Opens)),
              (std::vector<std::uint16_t>{5000, 9000, 22, 0}));
    EXPECT_EQ(ports_in_order(make_top_report(&before, now, TopSort::Port)),
              (std::vector<std::uint16_t>{22, 5000, 9000, 0}));
}

TEST(TopView, EqualRatesFallBackToTotalsThenThePort)
{
    const StatsSnapshot before =
        snapshot(0, {netns(7, "", {port(81, 0, 0, 0), port(80, 5, 0, 0), port(82, 5, 0, 0)})});
    const StatsSnapshot now =
        snapshot(kSecond, {netns(7, "", {port(81, 2, 0, 0), port(80, 7, 0, 0), port(82, 7, 0, 0)})});
    EXPECT_EQ(ports_in_order(make_top_report(&before, now, TopSort::TimeWait)),
              (std::vector<std::uint16_t>{80, 82, 81}));
}

TEST(TopView, SortKeysCycleBothWays)
{
    EXPECT_EQ(next_top_sort(TopSort::TimeWait), TopSort::Resets);
    EXPECT_EQ(next_top_sort(TopSort::Port), TopSort::TimeWait);
    EXPECT_EQ(next_top_sort(TopSort::TimeWait, -1), TopSort::Port);
    EXPECT_EQ(top_sort_name(TopSort::Opens), "new");
}

TEST(TopView, StatesAreSummedOverNamespacesWithTheirRates)
{
    NetnsStats a = netns(1, "a", {});
    NetnsStats b = netns(2, "b", {});
    StatsSnapshot before = snapshot(0, {a, b});
    a.entries[kStateTimeWait] = 40;
    a.current[kStateTimeWait] = 35;
    b.entries[kStateTimeWait] = 10;
    b.current[kStateTimeWait] = 10;
    b.current[kStateListen] = 2;
    b.entries[kStateEstablished] = 8;
    const StatsSnapshot now = snapshot(2 * kSecond, {a, b});
    const TopReport r = make_top_report(&before, now, TopSort::TimeWait);
    EXPECT_EQ(r.namespaces, 2u);
    EXPECT_EQ(state_line(r, kStateTimeWait).current, 45u);
    EXPECT_EQ(state_line(r, kStateTimeWait).entries, 50u);
    EXPECT_DOUBLE_EQ(state_line(r, kStateTimeWait).entries_per_s, 25.0);
    EXPECT_DOUBLE_EQ(state_line(r, kStateEstablished).entries_per_s, 4.0);
    EXPECT_EQ(state_line(r, kStateListen).current, 2u);

    TopScreen screen;
    const std::vector<std::string> lines = render_top(r, screen);
    // TIME-WAIT is the sixth line of the left half; LISTEN the fourth of the right
    EXPECT_EQ(lines[8].substr(0, 39), "TIME-WAIT       45      25.0         50");
    EXPECT_NE(lines[6].find("LISTEN           2       0.0          0"), std::string::npos);
    EXPECT_NE(lines[9].find("Sockets now: 47 in 2 namespaces"), std::string::npos);
}

TEST(TopView, NoPreviousSnapshotMeansNoRates)
{
    NetnsStats a = netns(1, "a", {port(80, 3, 0, 3)});
    a.current_known = false;
    const TopReport r = make_top_report(nullptr, snapshot(5 * kSecond, {a}), TopSort::TimeWait);
    EXPECT_EQ(r.interval_s, 0);
    EXPECT_FALSE(r.current_known);
    const std::vector<std::string> lines = render_top(r, TopScreen{});
    EXPECT_EQ(lines[3].substr(0, 39), "ESTAB            -         -          0");
    EXPECT_EQ(lines[12], "80             -          3         -          0         -          3");
    const auto j = nlohmann::json::parse(top_json(r, TopScreen{}, 0));
    EXPECT_FALSE(j.contains("interval_s"));
    EXPECT_FALSE(j["ports"][0].contains("time_wait_per_s"));
    EXPECT_FALSE(j["states"][0].contains("current"));
}

TEST(TopView, TheFilterMatchesPortNumbersNamespacesAndOther)
{
    TopPortLine p;
    p.port = 8080;
    p.netns_name = "web";
    EXPECT_TRUE(top_port_matches(p, ""));
    EXPECT_TRUE(top_port_matches(p, "80"));
    EXPECT_TRUE(top_port_matches(p, "we"));
    EXPECT_FALSE(top_port_matches(p, "443"));
    TopPortLine o;
    o.other = true;
    EXPECT_TRUE(top_port_matches(o, "oth"));
    EXPECT_FALSE(top_port_matches(o, "0"));

    const StatsSnapshot before = snapshot(0, {netns(7, "", {})});
    const StatsSnapshot now = snapshot(
        kSecond, {netns(7, "", {port(80, 1, 0, 0), port(8080, 2, 0, 0), port(443, 3, 0, 0)})});
    const TopReport r = make_top_report(&before, now, TopSort::TimeWait);
    TopScreen screen;
    screen.filter = "80";
    const std::vector<std::string> lines = render_top(r, screen);
    ASSERT_EQ(lines.size(), 14u);
    EXPECT_EQ(lines[12].substr(0, 4), "8080");
    EXPECT_EQ(lines[13].substr(0, 3), "80 ");
    EXPECT_NE(lines[0].find("port filter: \"80\""), std::string::npos);
    const auto j = nlohmann::json::parse(top_json(r, screen, 0));
    ASSERT_EQ(j["ports"].size(), 2u);
    EXPECT_EQ(j["ports"][0]["port"], 8080);

    screen.filter = "22";
    EXPECT_EQ(render_top(r, screen).back(), "(no port matches the filter)");
}

TEST(TopView, ScrollingAndTheTerminalSize)
{
    std::vector<PortCounters> ports;
    for (std::uint16_t p = 1; p <= 30; ++p) {
        ports.push_back(port(p, 100u - p, 0, 0));  // port 1 busiest
    }
    const StatsSnapshot before = snapshot(0, {netns(7, "", {})});
    const StatsSnapshot now = snapshot(kSecond, {netns(7, "", ports)});
    const TopReport r = make_top_report(&before, now, TopSort::TimeWait);
    TopScreen screen;
    screen.interactive = true;
    screen.rows = 20;  // 12 lines of head, 1 of keys: 7 ports
    screen.cols = 60;
    EXPECT_EQ(top_port_page(screen), 7u);
    EXPECT_EQ(top_max_scroll(r, screen), 23u);
    screen.scroll = 5;
    std::vector<std::string> lines = render_top(r, screen);
    ASSERT_EQ(lines.size(), 20u);
    for (const std::string& l : lines) {
        EXPECT_LE(l.size(), 60u);
    }
    EXPECT_EQ(lines[12].substr(0, 2), "6 ");
    EXPECT_EQ(lines[18].substr(0, 3), "12 ");
    EXPECT_EQ(lines[19].substr(0, 20), "ports 6-12 of 30  q ");

    screen.scroll = 1000;  // clamped: the last page
    lines = render_top(r, screen);
    EXPECT_EQ(lines[18].substr(0, 3), "30 ");
    EXPECT_EQ(lines[19].substr(0, 18), "ports 24-30 of 30 ");

    screen.rows = 8;  // too short: the head is cut, the key line stays at the bottom
    lines = render_top(r, screen);
    ASSERT_EQ(lines.size(), 8u);
    EXPECT_EQ(lines[7].substr(0, 6), "ports ");

    screen.prompt = true;
    screen.filter = "2";
    screen.rows = 20;
    screen.cols = 0;
    lines = render_top(r, screen);
    EXPECT_NE(lines.back().find("userspace"), std::string::npos);
    EXPECT_EQ(lines.back().substr(lines.back().size() - 2), "2_");
}

TEST(TopView, NetnsColumnAndJsonRanking)
{
    const StatsSnapshot before = snapshot(0, {netns(1, "one", {}), netns(2, "two", {})});
    const StatsSnapshot now =
        snapshot(4 * kSecond, {netns(1, "one", {port(5000, 4, 0, 4)}),
                               netns(2, "two", {port(6000, 40, 8, 40), other(2)})});
    const TopReport r = make_top_report(&before, now, TopSort::TimeWait);
    TopScreen screen;
    screen.netns_column = true;
    const std::vector<std::string> lines = render_top(r, screen);
    EXPECT_EQ(lines[11].substr(0, 12), "Netns Port  ");
    EXPECT_EQ(lines[12].substr(0, 10), "two   6000");
    EXPECT_EQ(lines[13].substr(0, 10), "one   5000");
    EXPECT_EQ(lines[14].substr(0, 11), "two   other");

    const auto j = nlohmann::json::parse(top_json(r, screen, 1'000'000'000'000'000'000));
    EXPECT_EQ(j["type"], "top");
    EXPECT_EQ(j["time"], "2001-09-09T01:46:44.000000000Z");
    EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 4.0);
    EXPECT_EQ(j["sort"], "time-wait");
    ASSERT_EQ(j["ports"].size(), 3u);
    EXPECT_EQ(j["ports"][0]["netns_name"], "two");
    EXPECT_EQ(j["ports"][0]["port"], 6000);
    EXPECT_DOUBLE_EQ(j["ports"][0]["time_wait_per_s"].get<double>(), 10.0);
    EXPECT_DOUBLE_EQ(j["ports"][0]["resets_per_s"].get<double>(), 2.0);
    EXPECT_EQ(j["ports"][2]["other"], true);
    EXPECT_FALSE(j["ports"][2].contains("port"));
    EXPECT_EQ(j["states"].size(), 11u);
    EXPECT_EQ(j["states"][0]["state"], "ESTAB");
}

}  // namespace
}  // namespace sstrace
