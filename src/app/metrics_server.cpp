// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/metrics_server.hpp"

#include "sstrace/core/error.hpp"
#include "sstrace/core/parse.hpp"
#include "sstrace/core/shared_library.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace sstrace {

namespace {

// Answers only this many scrapers at once; a scrape that takes longer than this is dropped.
constexpr unsigned kMaxConnections = 16;
constexpr unsigned kConnectionTimeoutSeconds = 10;

std::optional<std::uint16_t> port_number(std::string_view s)
{
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v == 0 || v > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

bool numeric_address(const std::string& host)
{
    in6_addr a6{};
    in_addr a4{};
    return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// libmicrohttpd is opened when a server starts, not linked: with it every run of sstrace, a
// listing included, would load gnutls and eight more libraries it needs, about 3 MB of RSS and
// several ms of relocations and library constructors (README, "Socket listings").
struct Mhd {
    decltype(&MHD_start_daemon) start_daemon = nullptr;
    decltype(&MHD_stop_daemon) stop_daemon = nullptr;
    decltype(&MHD_create_response_from_buffer) create_response_from_buffer = nullptr;
    decltype(&MHD_add_response_header) add_response_header = nullptr;
    decltype(&MHD_queue_response) queue_response = nullptr;
    decltype(&MHD_destroy_response) destroy_response = nullptr;
    decltype(&MHD_lookup_connection_value) lookup_connection_value = nullptr;
};

Mhd open_mhd()
{
    const SharedLibrary lib("libmicrohttpd.so.12", "--metrics", "libmicrohttpd12");
    Mhd m;
    lib.bind(m.start_daemon, "MHD_start_daemon");
    lib.bind(m.stop_daemon, "MHD_stop_daemon");
    lib.bind(m.create_response_from_buffer, "MHD_create_response_from_buffer");
    lib.bind(m.add_response_header, "MHD_add_response_header");
    lib.bind(m.queue_response, "MHD_queue_response");
    lib.bind(m.destroy_response, "MHD_destroy_response");
    lib.bind(m.lookup_connection_value, "MHD_lookup_connection_value");
    return m;
}

const Mhd& mhd()
{
    static const Mhd m = open_mhd();  // a throw leaves it to the next call
    return m;
}

MHD_Result reply(MHD_Connection* c, unsigned status, std::string_view body,
                 std::string_view content_type)
{
    MHD_Response* r = mhd().create_response_from_buffer(
        body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
    if (r == nullptr) {
        return MHD_NO;
    }
    mhd().add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, std::string(content_type).c_str());
    const MHD_Result ret = mhd().queue_response(c, status, r);
    mhd().destroy_response(r);
    return ret;
}

// libmicrohttpd's thread: reads nothing but the server's latest pages.
MHD_Result answer(void* cls, MHD_Connection* c, const char* url, const char* method,
                  const char* /*version*/, const char* /*upload*/, std::size_t* /*upload_size*/,
                  void** /*req*/)
{
    const auto* server = static_cast<const MetricsServer*>(cls);
    constexpr std::string_view kPlain = "text/plain; charset=utf-8";
    if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n", kPlain);
    }
    if (std::strcmp(url, "/metrics") != 0) {
        return reply(c, MHD_HTTP_NOT_FOUND, "sstrace serves /metrics\n", kPlain);
    }
    const char* accept =
        mhd().lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    const MetricsFormat f = metrics_format_for(accept != nullptr ? accept : "");
    const std::shared_ptr<const std::string> page = server->page(f);
    if (!page) {
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet\n", kPlain);
    }
    return reply(c, MHD_HTTP_OK, *page, metrics_content_type(f));
}

}  // namespace

std::optional<MetricsEndpoint> parse_metrics_endpoint(std::string_view text)
{
    MetricsEndpoint e;
    std::string_view port = text;
    if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
        std::string_view host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
            if (host.find(':') == std::string_view::npos) {
                return std::nullopt;  // brackets are for IPv6 only
            }
        } else if (host.find(':') != std::string_view::npos) {
            return std::nullopt;  // an IPv6 address needs its brackets
        }
        if (!host.empty()) {
            e.host = std::string(host);
            if (!numeric_address(e.host)) {
                return std::nullopt;
            }
        }
    }
    const auto p = port_number(port);
    if (!p) {
        return std::nullopt;
    }
    e.port = *p;
    return e;
}

MetricsServer::MetricsServer(const MetricsEndpoint& where, bool netns_label)
    : netns_label_(netns_label)
{
    const Mhd& lib = mhd();  // before the socket, which a failure here would leave open
    const bool v6 = where.host.find(':') != std::string::npos;
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(where.port);
        ::inet_pton(AF_INET6, where.host.c_str(), &sin6->sin6_addr);
        len = sizeof(*sin6);
        address_ = fmt::format("[{}]:{}", where.host, where.port);
    } else {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(where.port);
        ::inet_pton(AF_INET, where.host.c_str(), &sin->sin_addr);
        len = sizeof(*sin);
        address_ = fmt::format("{}:{}", where.host, where.port);
    }
    // our own socket, so that a failure names its errno (libmicrohttpd's start only says no)
    listen_fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) {
        throw Error::from_errno("--metrics: socket", errno, kExitListen);
    }
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (v6) {
        ::setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
        const int e = errno;
        ::close(listen_fd_);
        throw Error::from_errno("--metrics: listening on " + address_, e, kExitListen);
    }
    daemon_ = lib.start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | (v6 ? MHD_USE_IPv6 : 0), 0, nullptr,
        nullptr, &answer, this, MHD_OPTION_LISTEN_SOCKET, listen_fd_, MHD_OPTION_CONNECTION_LIMIT,
        kMaxConnections, MHD_OPTION_CONNECTION_TIMEOUT, kConnectionTimeoutSeconds, MHD_OPTION_END);
    if (daemon_ == nullptr) {
        ::close(listen_fd_);
        throw Error("--metrics", "the HTTP server did not start on " + address_, kExitListen);
    }
    listen_fd_ = -1;  // the daemon's now: MHD_stop_daemon() closes it
}

MetricsServer::~MetricsServer()
{
    mhd().stop_daemon(daemon_);  // joins its thread
}

void MetricsServer::publish(const StatsSnapshot& snap)
{
    ExpositionOptions o;
    o.netns_label = netns_label_;
    o.format = MetricsFormat::Prometheus;
    auto text = std::make_shared<const std::string>(render_metrics(snap, o, labels_));
    o.format = MetricsFormat::OpenMetrics;
    auto om = std::make_shared<const std::string>(render_metrics(snap, o, labels_));
    const std::lock_guard lock(mu_);
    pages_.text = std::move(text);
    pages_.openmetrics = std::move(om);
}

std::shared_ptr<const std::string> MetricsServer::page(MetricsFormat f) const
{
    const std::lock_guard lock(mu_);
    return f == MetricsFormat::OpenMetrics ? pages_.openmetrics : pages_.text;
}

}  // namespace sstrace
