// SPDX-License-Identifier: GPL-2.0-only
// The exposition writer: label escaping, histogram buckets, the two formats' differences, the
// bounded per-port label set, the Accept header, the --metrics address.
#include "sstrace/app/metrics_server.hpp"
#include "sstrace/sinks/metrics_text.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace sstrace;

namespace {

NetnsStats netns(std::uint32_t ino, std::string name)
{
    NetnsStats n;
    n.netns_ino = ino;
    n.netns_name = std::move(name);
    n.lifetime.bounds = {0.001, 1, 3000};
    n.lifetime.buckets = {2, 5, 5, 6};  // cumulative, with the +Inf bucket last
    n.lifetime.count = 6;
    n.lifetime.sum_seconds = 3601.5;
    return n;
}

std::vector<std::string> lines_with(const std::string& text, const std::string& prefix)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) == 0) {
            out.push_back(line);
        }
    }
    return out;
}

}  // namespace

TEST(MetricsText, EscapesLabelValues)
{
    EXPECT_EQ(escape_label_value(R"(a"b\c)"), R"(a\"b\\c)");
    EXPECT_EQ(escape_label_value("x\ny"), R"(x\ny)");
    StatsSnapshot s;
    s.netns.push_back(netns(1, "we\"ird\\ns\n"));
    PortLabels ports;
    const std::string text = render_metrics(s, {MetricsFormat::Prometheus, true}, ports);
    EXPECT_NE(text.find(R"(sstrace_tcp_time_wait_overflows_total{netns="we\"ird\\ns\n"} 0)"),
              std::string::npos)
        << text;
}

TEST(MetricsText, HistogramBucketsAreCumulativeWithInf)
{
    StatsSnapshot s;
    s.netns.push_back(netns(1, "one"));
    PortLabels ports;
    const std::string text = render_metrics(s, {}, ports);
    EXPECT_EQ(lines_with(text, "sstrace_tcp_connection_lifetime_seconds"),
              (std::vector<std::string>{
                  R"(sstrace_tcp_connection_lifetime_seconds_bucket{le="0.001"} 2)",
                  R"(sstrace_tcp_connection_lifetime_seconds_bucket{le="1.0"} 5)",
                  R"(sstrace_tcp_connection_lifetime_seconds_bucket{le="3000.0"} 5)",
                  R"(sstrace_tcp_connection_lifetime_seconds_bucket{le="+Inf"} 6)",
                  "sstrace_tcp_connection_lifetime_seconds_sum 3601.5",
                  "sstrace_tcp_connection_lifetime_seconds_count 6",
              }));
}

TEST(MetricsText, FormatsDifferInCounterFamiliesAndEof)
{
    StatsSnapshot s;
    s.netns.push_back(netns(1, "one"));
    s.tool.events_seen = 42;
    PortLabels p1, p2;
    const std::string text = render_metrics(s, {MetricsFormat::Prometheus, false}, p1);
    const std::string om = render_metrics(s, {MetricsFormat::OpenMetrics, false}, p2);
    EXPECT_NE(text.find("# TYPE sstrace_events_seen_total counter\n"), std::string::npos);
    EXPECT_NE(om.find("# TYPE sstrace_events_seen counter\n"), std::string::npos);
    EXPECT_NE(text.find("\nsstrace_events_seen_total 42\n"), std::string::npos);
    EXPECT_NE(om.find("\nsstrace_events_seen_total 42\n"), std::string::npos);
    EXPECT_EQ(text.find("# EOF"), std::string::npos);
    ASSERT_GE(om.size(), 6u);
    EXPECT_EQ(om.substr(om.size() - 6), "# EOF\n");
    EXPECT_EQ(metrics_content_type(MetricsFormat::OpenMetrics),
              "application/openmetrics-text; version=1.0.0; charset=utf-8");
    EXPECT_EQ(metrics_content_type(MetricsFormat::Prometheus),
              "text/plain; version=0.0.4; charset=utf-8");
}

TEST(MetricsText, PortsAreBoundedAndKeepTheirLabel)
{
    PortLabels labels(2);
    NetnsStats n = netns(1, "one");
    n.ports = {{80, false, 1, 0, 0}, {443, false, 5, 0, 0}, {8080, false, 3, 0, 0},
               {0, true, 1, 1, 1}};
    auto got = labels.select(n);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].port, 443);
    EXPECT_EQ(got[1].port, 8080);
    EXPECT_TRUE(got[2].other);
    EXPECT_EQ(got[2].time_wait, 2u);  // port 80, and what the BPF map could not hold
    EXPECT_EQ(got[2].resets, 1u);
    // port 80 becomes the busiest: 443 and 8080 keep their labels, `other` only grows
    n.ports[0].time_wait = 100;
    got = labels.select(n);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].port, 443);
    EXPECT_EQ(got[1].port, 8080);
    EXPECT_EQ(got[2].time_wait, 101u);
}

TEST(MetricsText, AcceptHeader)
{
    EXPECT_EQ(metrics_format_for(""), MetricsFormat::Prometheus);
    EXPECT_EQ(metrics_format_for("text/plain"), MetricsFormat::Prometheus);
    EXPECT_EQ(metrics_format_for("application/openmetrics-text; version=1.0.0; charset=utf-8"),
              MetricsFormat::OpenMetrics);
    EXPECT_EQ(metrics_format_for("text/plain;q=0.5, Application/OpenMetrics-Text;version=0.0.1"),
              MetricsFormat::OpenMetrics);
    EXPECT_EQ(metrics_format_for("application/openmetrics-text;q=0,text/plain"),
              MetricsFormat::Prometheus);
}

TEST(MetricsText, Endpoint)
{
    auto e = parse_metrics_endpoint("9465");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(e->port, 9465);
    e = parse_metrics_endpoint(":9465");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "127.0.0.1");
    e = parse_metrics_endpoint("0.0.0.0:80");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "0.0.0.0");
    e = parse_metrics_endpoint("[::1]:9465");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->host, "::1");
    for (const char* bad : {"", "0", "65536", "host:80", "::1:80", "[10.0.0.1]:80", "80x", ":"}) {
        EXPECT_FALSE(parse_metrics_endpoint(bad)) << bad;
    }
}
