// SPDX-License-Identifier: GPL-2.0-only
// --metrics [ADDR:]PORT: GET /metrics over HTTP (libmicrohttpd), in the Prometheus text format,
// or OpenMetrics when the scraper's Accept header asks for application/openmetrics-text.
//
// Threads: the server answers on libmicrohttpd's own thread, which never touches BPF or the
// live table. The event-loop thread renders each snapshot it publishes (about once a second)
// into both formats and swaps them in under a mutex; a scrape copies the latest page out.
// A scrape therefore shows counters at most about a second old.
#pragma once

#include "sstrace/app/stats_collector.hpp"
#include "sstrace/sinks/metrics_text.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

struct MHD_Daemon;

namespace sstrace {

// Where --metrics listens.
struct MetricsEndpoint {
    std::string host = "127.0.0.1";  // a numeric IPv4 or IPv6 address
    std::uint16_t port = 0;
};

// Parses PORT, :PORT, ADDR:PORT or [IPV6]:PORT (numeric addresses only; no ADDR: 127.0.0.1).
// nullopt when it is none of those or the port is not 1 to 65535.
std::optional<MetricsEndpoint> parse_metrics_endpoint(std::string_view text);

class MetricsServer : public StatsView {
public:
    // Binds and starts answering (503 until the first publish). Throws Error with
    // kExitListen when the address cannot be bound (in use, not local, no permission).
    MetricsServer(const MetricsEndpoint& where, bool netns_label);
    ~MetricsServer() override;
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    // Event-loop thread: renders the snapshot for the next scrapes.
    void publish(const StatsSnapshot& snap) override;

    // "ADDR:PORT" as bound (the port the kernel chose for port 0).
    const std::string& address() const { return address_; }

    // Any thread: the latest page in format `f`; nullptr before the first publish.
    std::shared_ptr<const std::string> page(MetricsFormat f) const;

private:
    struct Pages {
        std::shared_ptr<const std::string> text;
        std::shared_ptr<const std::string> openmetrics;
    };

    bool netns_label_;
    PortLabels labels_;  // the event-loop thread's
    mutable std::mutex mu_;
    Pages pages_;  // under mu_
    int listen_fd_ = -1;
    MHD_Daemon* daemon_ = nullptr;
    std::string address_;
};

}  // namespace sstrace
