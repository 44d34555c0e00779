// SPDX-License-Identifier: GPL-2.0-only
// The stream pipeline with the real BPF source: a second sink receives exactly the events the
// ss-row sink prints (the groundwork for JSON, capture and metrics sinks).
#include "sstrace/app/event_loop.hpp"
#include "sstrace/app/stream_pipeline.hpp"
#include "sstrace/core/netns.hpp"
#include "sstrace/sinks/event_rows.hpp"
#include "sstrace/sources/bpf_event_source.hpp"

#include "../common/require.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

using namespace sstrace;

namespace {

class Collector : public EventSink {
public:
    void event(const SocketEvent& ev) override { events.push_back(ev); }
    std::vector<SocketEvent> events;
};

struct Listener {
    int fd = -1;
    unsigned port = 0;
    Listener()
    {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
        socklen_t len = sizeof(sin);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
        EXPECT_EQ(::listen(fd, 4), 0);
        port = ntohs(sin.sin_port);
    }
    ~Listener() { ::close(fd); }

    // One connection, closed by the client first.
    void connection() const
    {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin.sin_port = htons(static_cast<std::uint16_t>(port));
        const int c = ::socket(AF_INET, SOCK_STREAM, 0);
        EXPECT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
        const int a = ::accept(fd, nullptr, nullptr);
        ::close(c);
        usleep(10000);
        ::close(a);
    }
};

}  // namespace

TEST(Pipeline, EverySinkReceivesWhatTheRowSinkPrints)
{
    SSTRACE_REQUIRE_ROOT();
    const Listener listener;
    BpfConfig cfg;
    cfg.state_mask = kAllStates & ~state_bit(kStateUnknown);
    cfg.netns_ino = current_netns_inode();
    cfg.ring_bytes = 1 << 20;
    BpfSession session(cfg);
    BpfEventSource source(session);
    EventLoop loop;

    EventRowLayout layout;
    layout.transitions = true;
    EventRowSink rows(layout, SsColumns(RowOptions{.numeric = true}, ServiceNames(true), "/proc"),
                      nullptr, false);
    Collector observed;
    Collector delivered;
    // the client's side of the connection only: the filter keeps the rest from the sinks
    auto parsed = filter::parse_string(fmt::format("dport = :{}", listener.port),
                                       filter::ParseOptions{});
    ASSERT_FALSE(parsed.error);
    StreamPipeline pipeline(parsed.filter, 0);
    pipeline.add_source(source, loop);
    pipeline.add_observer(observed);
    pipeline.add_sink(rows);
    pipeline.add_sink(delivered);

    listener.connection();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline &&
           (delivered.events.empty() || delivered.events.back().new_state != kStateTimeWait)) {
        pipeline.drain();
        usleep(20000);
    }
    ASSERT_FALSE(delivered.events.empty());
    EXPECT_EQ(rows.rows(), delivered.events.size());
    std::vector<std::string> states;
    for (const SocketEvent& ev : delivered.events) {
        EXPECT_EQ(ev.socket.inet.peer.port, listener.port);
        std::string line;
        rows.append_row(ev, line);
        std::istringstream f(line);
        std::string netid, old, arrow, now;
        f >> netid >> old >> arrow >> now;
        states.push_back(old + ">" + now);
    }
    EXPECT_EQ(states, (std::vector<std::string>{"UNCONN>SYN-SENT", "SYN-SENT>ESTAB",
                                                "ESTAB>FIN-WAIT-1", "FIN-WAIT-1>FIN-WAIT-2",
                                                "FIN-WAIT-2>TIME-WAIT"}));
    // the observer also saw the server's side, which the filter kept from the sinks
    EXPECT_GT(observed.events.size(), delivered.events.size());
}
