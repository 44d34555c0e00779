// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/top_view.hpp"

#include "sstrace/core/state.hpp"
#include "sstrace/sinks/json_lines.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <tuple>

namespace sstrace {

namespace {

constexpr std::array<TopSort, 4> kSorts = {TopSort::TimeWait, TopSort::Resets, TopSort::Opens,
                                           TopSort::Port};

// A counter's increase per second; a counter that went down counts as none.
double rate(std::uint64_t now, std::uint64_t before, double seconds)
{
    if (seconds <= 0 || now <= before) {
        return 0;
    }
    return static_cast<double>(now - before) / seconds;
}

using PortKey = std::tuple<std::uint32_t, bool, std::uint16_t>;  // netns, other, port

double sort_rate(const TopPortLine& p, TopSort sort)
{
    switch (sort) {
    case TopSort::TimeWait: return p.time_wait_per_s;
    case TopSort::Resets: return p.resets_per_s;
    case TopSort::Opens: return p.opens_per_s;
    case TopSort::Port: return 0;
    }
    return 0;
}

std::uint64_t sort_total(const TopPortLine& p, TopSort sort)
{
    switch (sort) {
    case TopSort::TimeWait: return p.time_wait;
    case TopSort::Resets: return p.resets;
    case TopSort::Opens: return p.opens;
    case TopSort::Port: return 0;
    }
    return 0;
}

// Ranked first: named ports before `other`; then the higher rate, the higher total; then the
// lower port, the lower netns inode (a stable order between refreshes).
bool ranks_before(const TopPortLine& a, const TopPortLine& b, TopSort sort)
{
    if (a.other != b.other) {
        return !a.other;
    }
    if (sort != TopSort::Port) {
        if (sort_rate(a, sort) != sort_rate(b, sort)) {
            return sort_rate(a, sort) > sort_rate(b, sort);
        }
        if (sort_total(a, sort) != sort_total(b, sort)) {
            return sort_total(a, sort) > sort_total(b, sort);
        }
    }
    return std::tie(a.port, a.netns_ino) < std::tie(b.port, b.netns_ino);
}

// Fixed lines above the port rows: title, blank, state header, six state rows, the totals line,
// blank, the port header.
constexpr std::size_t kHeadLines = 12;

std::string rate_text(double per_s, bool known)
{
    return known ? fmt::format("{:.1f}", per_s) : std::string("-");
}

std::string state_cell(const TopReport& r, std::size_t i)
{
    if (i >= r.states.size()) {
        return fmt::format("{:39}", "");
    }
    const TopStateLine& s = r.states[i];
    return fmt::format("{:<10} {:>7} {:>9} {:>10}", state_name(s.state),
                       r.current_known ? fmt::format("{}", s.current) : std::string("-"),
                       rate_text(s.entries_per_s, r.interval_s > 0), s.entries);
}

std::string port_label(const TopPortLine& p)
{
    return p.other ? std::string("other") : fmt::format("{}", p.port);
}

std::size_t netns_width(const TopReport& r)
{
    std::size_t w = 5;  // "Netns"
    for (const TopPortLine& p : r.ports) {
        w = std::max(w, p.netns_name.size());
    }
    return std::min<std::size_t>(w, 24);
}

std::string port_line(const TopReport& r, const TopPortLine& p, const TopScreen& screen,
                      std::size_t ns_width)
{
    const bool known = r.interval_s > 0;
    std::string line;
    if (screen.netns_column) {
        line = fmt::format("{:<{}.{}} ", p.netns_name, ns_width, ns_width);
    }
    line += fmt::format("{:<6} {:>9} {:>10} {:>9} {:>10} {:>9} {:>10}", port_label(p),
                        rate_text(p.time_wait_per_s, known), p.time_wait,
                        rate_text(p.resets_per_s, known), p.resets,
                        rate_text(p.opens_per_s, known), p.opens);
    return line;
}

std::vector<const TopPortLine*> matching(const TopReport& r, std::string_view filter)
{
    std::vector<const TopPortLine*> out;
    for (const TopPortLine& p : r.ports) {
        if (top_port_matches(p, filter)) {
            out.push_back(&p);
        }
    }
    return out;
}

std::string column_word(TopSort sort)
{
    switch (sort) {
    case TopSort::TimeWait: return "TW/s";
    case TopSort::Resets: return "RST/s";
    case TopSort::Opens: return "New/s";
    case TopSort::Port: return "Port";
    }
    return {};
}

}  // namespace

std::string_view top_sort_name(TopSort sort)
{
    switch (sort) {
    case TopSort::TimeWait: return "time-wait";
    case TopSort::Resets: return "resets";
    case TopSort::Opens: return "new";
    case TopSort::Port: return "port";
    }
    return "time-wait";
}

TopSort next_top_sort(TopSort sort, int step)
{
    const auto n = static_cast<int>(kSorts.size());
    const int at = static_cast<int>(sort);
    return kSorts[static_cast<std::size_t>(((at + step) % n + n) % n)];
}

TopReport make_top_report(const StatsSnapshot* previous, const StatsSnapshot& current,
                          TopSort sort)
{
    TopReport r;
    r.mono_ns = current.mono_ns;
    if (previous != nullptr && current.mono_ns > previous->mono_ns) {
        r.interval_s = static_cast<double>(current.mono_ns - previous->mono_ns) / 1e9;
    }
    r.namespaces = current.netns.size();
    r.tool = current.tool;
    std::map<std::uint32_t, const NetnsStats*> before_ns;
    std::map<PortKey, const PortCounters*> before_port;
    if (previous != nullptr) {
        const auto delta = [](std::uint64_t now, std::uint64_t before) {
            return now > before ? now - before : 0;
        };
        const ToolStats& was = previous->tool;
        r.tool_delta.events_seen = delta(current.tool.events_seen, was.events_seen);
        r.tool_delta.lost_ring_full = delta(current.tool.lost_ring_full, was.lost_ring_full);
        r.tool_delta.lost_skipped = delta(current.tool.lost_skipped, was.lost_skipped);
        r.tool_delta.lost_map_full = delta(current.tool.lost_map_full, was.lost_map_full);
        for (const NetnsStats& ns : previous->netns) {
            before_ns[ns.netns_ino] = &ns;
            for (const PortCounters& p : ns.ports) {
                before_port[{ns.netns_ino, p.other, p.other ? std::uint16_t{0} : p.port}] = &p;
            }
        }
    }
    for (std::size_t i = 0; i < kTopStateOrder.size(); ++i) {
        r.states[i].state = kTopStateOrder[i];
    }
    const PortCounters none{};
    for (const NetnsStats& ns : current.netns) {
        r.current_known = r.current_known && ns.current_known;
        const auto was = before_ns.find(ns.netns_ino);
        for (TopStateLine& s : r.states) {
            const auto st = static_cast<std::size_t>(s.state);
            s.current += ns.current[st];
            s.entries += ns.entries[st];
            if (was != before_ns.end()) {
                s.entries_per_s += rate(ns.entries[st], was->second->entries[st], r.interval_s);
            } else {
                s.entries_per_s += rate(ns.entries[st], 0, r.interval_s);
            }
        }
        for (const PortCounters& p : ns.ports) {
            const std::uint16_t port = p.other ? 0 : p.port;
            const auto b = before_port.find({ns.netns_ino, p.other, port});
            const PortCounters& prev = b != before_port.end() ? *b->second : none;
            TopPortLine line;
            line.netns_ino = ns.netns_ino;
            line.netns_name = ns.netns_name;
            line.port = port;
            line.other = p.other;
            line.time_wait = p.time_wait;
            line.resets = p.resets;
            line.opens = p.opens;
            line.time_wait_per_s = rate(p.time_wait, prev.time_wait, r.interval_s);
            line.resets_per_s = rate(p.resets, prev.resets, r.interval_s);
            line.opens_per_s = rate(p.opens, prev.opens, r.interval_s);
            r.ports.push_back(std::move(line));
        }
    }
    std::stable_sort(r.ports.begin(), r.ports.end(),
                     [sort](const TopPortLine& a, const TopPortLine& b) {
                         return ranks_before(a, b, sort);
                     });
    return r;
}

bool top_port_matches(const TopPortLine& line, std::string_view filter)
{
    if (filter.empty()) {
        return true;
    }
    return port_label(line).find(filter) != std::string::npos ||
           line.netns_name.find(filter) != std::string::npos;
}

std::size_t top_port_page(const TopScreen& screen)
{
    if (screen.rows <= 0) {
        return static_cast<std::size_t>(-1);
    }
    const std::size_t footer = screen.interactive ? 1 : 0;
    const auto rows = static_cast<std::size_t>(screen.rows);
    return rows > kHeadLines + footer ? rows - kHeadLines - footer : 1;
}

std::size_t top_max_scroll(const TopReport& report, const TopScreen& screen)
{
    const std::size_t n = matching(report, screen.filter).size();
    const std::size_t page = top_port_page(screen);
    return n > page ? n - page : 0;
}

std::vector<std::string> render_top(const TopReport& r, const TopScreen& screen)
{
    std::vector<std::string> lines;
    lines.push_back(fmt::format("{}  sorted by {}  port filter: {}", screen.title,
                                column_word(screen.sort),
                                screen.filter.empty() ? std::string("none")
                                                      : fmt::format("\"{}\"", screen.filter)));
    lines.emplace_back();
    // the states in two halves of six lines: the connection's life on the left
    const std::string head = fmt::format("{:<10} {:>7} {:>9} {:>10}", "State", "Now",
                                         "Entered/s", "Entered");
    lines.push_back(fmt::format("{}  {}", head, head));
    for (std::size_t i = 0; i < 6; ++i) {
        lines.push_back(fmt::format("{}  {}", state_cell(r, i), state_cell(r, i + 6)));
    }
    std::uint64_t total = 0;
    for (const TopStateLine& s : r.states) {
        total += s.current;
    }
    const std::uint64_t lost = r.tool_delta.lost_ring_full + r.tool_delta.lost_skipped +
                               r.tool_delta.lost_map_full;
    lines.push_back(fmt::format(
        "Sockets now: {} in {} namespace{}.  Events lost in the last interval: {}{}",
        r.current_known ? fmt::format("{}", total) : std::string("unknown"), r.namespaces,
        r.namespaces == 1 ? "" : "s", lost,
        r.interval_s > 0 ? std::string() : "  (rates from the next refresh on)"));
    lines.emplace_back();

    const std::size_t ns_width = netns_width(r);
    std::string port_head;
    if (screen.netns_column) {
        port_head = fmt::format("{:<{}} ", "Netns", ns_width);
    }
    port_head += fmt::format("{:<6} {:>9} {:>10} {:>9} {:>10} {:>9} {:>10}", "Port", "TW/s",
                             "TW", "RST/s", "RST", "New/s", "New");
    lines.push_back(std::move(port_head));

    const std::vector<const TopPortLine*> shown = matching(r, screen.filter);
    const std::size_t page = top_port_page(screen);
    const std::size_t first = std::min(screen.scroll, top_max_scroll(r, screen));
    const std::size_t last = page == static_cast<std::size_t>(-1)
                                 ? shown.size()
                                 : std::min(shown.size(), first + page);
    for (std::size_t i = first; i < last; ++i) {
        lines.push_back(port_line(r, *shown[i], screen, ns_width));
    }
    if (shown.empty()) {
        lines.emplace_back(r.ports.empty() ? "(no connections seen yet)"
                                           : "(no port matches the filter)");
    }
    if (screen.interactive) {
        if (screen.rows > 0) {
            while (lines.size() + 1 < static_cast<std::size_t>(screen.rows)) {
                lines.emplace_back();
            }
        }
        if (screen.prompt) {
            lines.push_back(fmt::format("Port filter (userspace; the kernel FILTER is fixed at "
                                        "start), Enter to apply, Esc to clear: {}_",
                                        screen.filter));
        } else {
            lines.push_back(fmt::format(
                "ports {}-{} of {}  q quit  s/</> sort  / filter  arrows PgUp PgDn scroll",
                shown.empty() ? 0 : first + 1, last, shown.size()));
        }
    }
    if (screen.rows > 0 && lines.size() > static_cast<std::size_t>(screen.rows)) {
        // a terminal too short: the key line stays at the bottom
        std::string keys = std::move(lines.back());
        lines.resize(static_cast<std::size_t>(screen.rows));
        if (screen.interactive) {
            lines.back() = std::move(keys);
        }
    }
    for (std::string& l : lines) {
        if (screen.cols > 0 && l.size() > static_cast<std::size_t>(screen.cols)) {
            l.resize(static_cast<std::size_t>(screen.cols));
        }
        l.erase(l.find_last_not_of(' ') + 1);  // no trailing blanks (an empty half, padding)
    }
    return lines;
}

std::string top_json(const TopReport& r, const TopScreen& screen, std::int64_t realtime_offset_ns)
{
    using nlohmann::ordered_json;
    const std::int64_t wall = static_cast<std::int64_t>(r.mono_ns) + realtime_offset_ns;
    ordered_json j;
    j["type"] = "top";
    j["time"] = rfc3339(wall);
    j["time_ns"] = wall;
    j["mono_ns"] = r.mono_ns;
    if (r.interval_s > 0) {
        j["interval_s"] = r.interval_s;
    }
    j["sort"] = top_sort_name(screen.sort);
    j["namespaces"] = r.namespaces;
    ordered_json states = ordered_json::array();
    for (const TopStateLine& s : r.states) {
        ordered_json o;
        o["state"] = state_name(s.state);
        if (r.current_known) {
            o["current"] = s.current;
        }
        o["entries"] = s.entries;
        if (r.interval_s > 0) {
            o["entries_per_s"] = s.entries_per_s;
        }
        states.push_back(std::move(o));
    }
    j["states"] = std::move(states);
    ordered_json ports = ordered_json::array();
    for (const TopPortLine* p : matching(r, screen.filter)) {
        ordered_json o;
        o["netns"] = p->netns_ino;
        if (!p->netns_name.empty()) {
            o["netns_name"] = p->netns_name;
        }
        if (p->other) {
            o["other"] = true;
        } else {
            o["port"] = p->port;
        }
        o["time_wait"] = p->time_wait;
        o["resets"] = p->resets;
        o["opens"] = p->opens;
        if (r.interval_s > 0) {
            o["time_wait_per_s"] = p->time_wait_per_s;
            o["resets_per_s"] = p->resets_per_s;
            o["opens_per_s"] = p->opens_per_s;
        }
        ports.push_back(std::move(o));
    }
    j["ports"] = std::move(ports);
    j["events_seen"] = r.tool.events_seen;
    j["ring_buffer_full"] = r.tool.lost_ring_full;
    j["skipped_by_kernel"] = r.tool.lost_skipped;
    j["time_wait_map_full"] = r.tool.lost_map_full;
    return j.dump() + "\n";
}

}  // namespace sstrace
