// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/metrics_text.hpp"

#include "sstrace/core/state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <functional>

namespace sstrace {

namespace {

// The state words of ss's filter language (`ss state time-wait`), by kernel state number.
constexpr std::array<std::string_view, kStateCount> kStateWords = {
    "unknown",    "established", "syn-sent",  "syn-recv",  "fin-wait-1", "fin-wait-2",
    "time-wait",  "closed",      "close-wait", "last-ack", "listening",  "closing",
};

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// A float as both formats accept it, with a decimal point when integral (le="1.0").
std::string number(double v)
{
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    std::string s = fmt::format("{}", v);
    if (s.find_first_of(".eE") == std::string::npos) {
        s += ".0";
    }
    return s;
}

// One metric family: its metadata once, then its samples, in the chosen format.
class Family {
public:
    Family(std::string& out, MetricsFormat f, std::string_view name, std::string_view type,
           std::string_view help)
        : out_(out), om_(f == MetricsFormat::OpenMetrics), name_(name)
    {
        // OpenMetrics names the family without the counter's _total; the text format names
        // it as its samples
        std::string_view family = name;
        if (om_ && type == "counter" && family.ends_with("_total")) {
            family.remove_suffix(6);
        }
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", family, help,
                       family, type);
    }

    // A sample `name+suffix{labels} value`; `labels` already written (`a="b",c="d"`).
    void sample(std::string_view suffix, const std::string& labels, std::uint64_t value)
    {
        fmt::format_to(std::back_inserter(out_), "{}{}{}{}{} {}\n", name_, suffix,
                       labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", value);
    }
    void sample(std::string_view suffix, const std::string& labels, double value)
    {
        fmt::format_to(std::back_inserter(out_), "{}{}{}{}{} {}\n", name_, suffix,
                       labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}",
                       number(value));
    }

private:
    std::string& out_;
    bool om_;
    std::string_view name_;
};

std::string label(std::string_view name, std::string_view value)
{
    return fmt::format("{}=\"{}\"", name, escape_label_value(value));
}

std::string join(const std::string& a, const std::string& b)
{
    if (a.empty()) {
        return b;
    }
    return b.empty() ? a : a + "," + b;
}

std::uint64_t port_volume(const PortCounters& p) { return p.time_wait + p.resets + p.opens; }

}  // namespace

std::string_view metrics_content_type(MetricsFormat f)
{
    return f == MetricsFormat::OpenMetrics
               ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
               : "text/plain; version=0.0.4; charset=utf-8";
}

MetricsFormat metrics_format_for(std::string_view accept)
{
    // media ranges separated by commas, each with optional ;params (q=...)
    while (!accept.empty()) {
        const std::size_t comma = accept.find(',');
        std::string_view range = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
        const std::size_t semi = range.find(';');
        std::string type = lower(range.substr(0, semi));
        type.erase(std::remove_if(type.begin(), type.end(),
                                  [](unsigned char c) { return std::isspace(c) != 0; }),
                   type.end());
        if (type != "application/openmetrics-text") {
            continue;
        }
        // q=0 means "not this one"
        bool refused = false;
        std::string params = lower(semi == std::string_view::npos ? "" : range.substr(semi));
        params.erase(std::remove_if(params.begin(), params.end(),
                                    [](unsigned char c) { return std::isspace(c) != 0; }),
                     params.end());
        if (const std::size_t q = params.find(";q="); q != std::string::npos) {
            const std::string v = params.substr(q + 3, params.find(';', q + 3) - (q + 3));
            refused = std::strtod(v.c_str(), nullptr) <= 0.0;
        }
        if (!refused) {
            return MetricsFormat::OpenMetrics;
        }
    }
    return MetricsFormat::Prometheus;
}

std::string escape_label_value(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::vector<PortCounters> PortLabels::select(const NetnsStats& n)
{
    std::set<std::uint16_t>& mine = labelled_[n.netns_ino];
    // the busiest unlabelled ports first, while there is room
    std::vector<const PortCounters*> candidates;
    for (const PortCounters& p : n.ports) {
        if (!p.other && !mine.contains(p.port)) {
            candidates.push_back(&p);
        }
    }
    std::sort(candidates.begin(), candidates.end(), [](const auto* a, const auto* b) {
        return port_volume(*a) != port_volume(*b) ? port_volume(*a) > port_volume(*b)
                                                  : a->port < b->port;
    });
    for (const PortCounters* p : candidates) {
        if (mine.size() >= max_) {
            break;
        }
        mine.insert(p->port);
    }
    std::vector<PortCounters> out;
    PortCounters other;
    other.other = true;
    for (const PortCounters& p : n.ports) {
        if (!p.other && mine.contains(p.port)) {
            out.push_back(p);
            continue;
        }
        other.time_wait += p.time_wait;
        other.resets += p.resets;
        other.opens += p.opens;
    }
    std::sort(out.begin(), out.end(),
              [](const PortCounters& a, const PortCounters& b) { return a.port < b.port; });
    out.push_back(other);
    return out;
}

std::string render_metrics(const StatsSnapshot& snap, const ExpositionOptions& opts,
                           PortLabels& ports)
{
    std::string out;
    const MetricsFormat f = opts.format;
    auto ns_label = [&](const NetnsStats& n) {
        return opts.netns_label ? label("netns", n.netns_name) : std::string{};
    };

    {
        Family fam(out, f, "sstrace_tcp_state_entries_total", "counter",
                   "TCP sockets that entered each state (TIME-WAIT: hand-overs to a timewait "
                   "socket; LISTEN is not traced).");
        for (const NetnsStats& n : snap.netns) {
            for (int st = kStateEstablished; st < kStateCount; ++st) {
                if (st == kStateListen) {
                    continue;
                }
                fam.sample("", join(ns_label(n), label("state", kStateWords[static_cast<std::size_t>(st)])),
                           n.entries[static_cast<std::size_t>(st)]);
            }
        }
    }
    if (std::any_of(snap.netns.begin(), snap.netns.end(),
                    [](const NetnsStats& n) { return n.current_known; })) {
        Family fam(out, f, "sstrace_tcp_sockets", "gauge",
                   "TCP sockets now in each state (the live table, seeded by a dump).");
        for (const NetnsStats& n : snap.netns) {
            if (!n.current_known) {
                continue;
            }
            for (int st = kStateEstablished; st < kStateCount; ++st) {
                fam.sample("", join(ns_label(n), label("state", kStateWords[static_cast<std::size_t>(st)])),
                           n.current[static_cast<std::size_t>(st)]);
            }
        }
    }

    // per service port: the three counters over one selection of ports per namespace
    std::vector<std::vector<PortCounters>> selected;
    for (const NetnsStats& n : snap.netns) {
        selected.push_back(ports.select(n));
    }
    const struct {
        const char* name;
        const char* help;
        std::uint64_t PortCounters::*field;
    } port_families[] = {
        {"sstrace_tcp_time_wait_entries_total",
         "Connections that entered TIME-WAIT, by service port.", &PortCounters::time_wait},
        {"sstrace_tcp_resets_total",
         "Connections reset from ESTABLISHED or CLOSE-WAIT (TcpEstabResets), by service port.",
         &PortCounters::resets},
        {"sstrace_tcp_opens_total",
         "TCP sockets that entered ESTABLISHED (both ends of a local connection), by service "
         "port.",
         &PortCounters::opens},
    };
    for (const auto& pf : port_families) {
        Family fam(out, f, pf.name, "counter", pf.help);
        for (std::size_t i = 0; i < snap.netns.size(); ++i) {
            for (const PortCounters& p : selected[i]) {
                fam.sample("",
                           join(ns_label(snap.netns[i]),
                                label("port", p.other ? std::string("other")
                                                      : std::to_string(p.port))),
                           p.*pf.field);
            }
        }
    }

    {
        Family fam(out, f, "sstrace_tcp_connection_lifetime_seconds", "histogram",
                   "TCP socket lifetimes, from leaving CLOSE or LISTEN to CLOSE (listeners "
                   "excluded).");
        for (const NetnsStats& n : snap.netns) {
            const LifetimeHistogram& h = n.lifetime;
            const std::string ns = ns_label(n);
            for (std::size_t b = 0; b < h.bounds.size() && b < h.buckets.size(); ++b) {
                fam.sample("_bucket", join(ns, label("le", number(h.bounds[b]))), h.buckets[b]);
            }
            fam.sample("_bucket", join(ns, label("le", "+Inf")), h.count);
            fam.sample("_sum", ns, h.sum_seconds);
            fam.sample("_count", ns, h.count);
        }
    }
    if (!snap.netns.empty()) {
        // the stream's own namespace comes first: the kernel counter is read there only
        Family fam(out, f, "sstrace_tcp_time_wait_overflows_total", "counter",
                   "Connections that got no timewait socket (TcpExtTCPTimeWaitOverflow), in "
                   "sstrace's own network namespace.");
        fam.sample("", ns_label(snap.netns.front()), snap.netns.front().tw_overflows);
    }
    {
        Family fam(out, f, "sstrace_events_seen_total", "counter",
                   "Events the BPF programs matched for the stream's rows, delivered or lost.");
        fam.sample("", std::string{}, snap.tool.events_seen);
    }
    {
        Family fam(out, f, "sstrace_events_lost_total", "counter",
                   "Events lost, by cause: ring buffer full, program run skipped by the kernel, "
                   "TIME-WAIT lookup cut short (a hash chain longer than 8).");
        fam.sample("", label("cause", "ring_full"), snap.tool.lost_ring_full);
        fam.sample("", label("cause", "skipped"), snap.tool.lost_skipped);
        fam.sample("", label("cause", "map_full"), snap.tool.lost_map_full);
    }
    if (!snap.tool.programs.empty()) {
        // --bpf-stats: the kernel's run-time statistics of sstrace's programs
        {
            Family fam(out, f, "sstrace_bpf_program_runs_total", "counter",
                       "Runs of each of sstrace's BPF programs while the kernel's BPF "
                       "statistics are on (--bpf-stats).");
            for (const ProgramRunStats& p : snap.tool.programs) {
                fam.sample("", label("program", p.name), p.runs);
            }
        }
        {
            Family fam(out, f, "sstrace_bpf_program_run_seconds_total", "counter",
                       "Time each of sstrace's BPF programs ran, in seconds (--bpf-stats).");
            for (const ProgramRunStats& p : snap.tool.programs) {
                fam.sample("", label("program", p.name),
                           static_cast<double>(p.run_time_ns) / 1e9);
            }
        }
    }
    if (f == MetricsFormat::OpenMetrics) {
        out += "# EOF\n";
    }
    return out;
}

}  // namespace sstrace
