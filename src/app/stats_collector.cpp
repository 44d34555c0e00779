// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/stats_collector.hpp"

#include "sstrace/app/stream_accounting.hpp"
#include "sstrace/core/clock.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/sources/listeners.hpp"

#include <fcntl.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace sstrace {

namespace {

constexpr const char* kOverflowCounter = "TcpExtTCPTimeWaitOverflow";

std::int64_t counter_or_zero(const std::map<std::string, std::int64_t>& c, const char* name)
{
    const auto it = c.find(name);
    return it == c.end() ? 0 : it->second;
}

void add_listeners(std::uint32_t netns_ino, std::vector<ListenerKey>& out)
{
    for (const std::uint16_t port : listening_tcp_ports()) {
        out.push_back({netns_ino, port});
    }
}

}  // namespace

StatsCollector::StatsCollector(BpfSession& session, const StatsScope& scope,
                               const LiveTable* table)
    : session_(session), scope_(scope), table_(table), tcp0_(read_tcp_counters())
{
    refresh_listeners();
}

void StatsCollector::refresh_listeners()
{
    std::vector<ListenerKey> keys;
    try {
        if (!scope_.all_netns) {
            add_listeners(scope_.netns_ino, keys);
        } else {
            // each namespace's listeners through a diag socket opened inside it
            const UniqueFd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
            if (!home) {
                throw Error::from_errno("opening /proc/self/ns/net", errno);
            }
            for (const NetnsHandle& ns : open_every_netns()) {
                if (::setns(ns.fd.get(), CLONE_NEWNET) != 0) {
                    continue;  // gone meanwhile
                }
                add_listeners(ns.ino, keys);
            }
            if (::setns(home.get(), CLONE_NEWNET) != 0) {
                throw Error::from_errno("returning to sstrace's network namespace", errno);
            }
        }
    } catch (const Error& e) {
        // the service ports then fall back to the lower port; the stream goes on
        spdlog::warn("listening ports not refreshed: {}", e.what());
        return;
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    if (const std::size_t full = session_.set_listeners(keys); full != 0) {
        spdlog::debug("{} listening ports did not fit in the listeners map", full);
    }
}

StatsSnapshot StatsCollector::snapshot()
{
    StatsSnapshot snap;
    snap.mono_ns = monotonic_ns();
    const BpfMetrics m = session_.metrics();

    std::unordered_map<std::uint32_t, std::size_t> index;  // netns inode -> snap.netns
    auto netns_of = [&](std::uint32_t ino) -> NetnsStats& {
        const auto [it, added] = index.try_emplace(ino, snap.netns.size());
        if (added) {
            NetnsStats n;
            n.netns_ino = ino;
            n.netns_name = names_.label(ino);
            n.lifetime.bounds.reserve(lifetime_bounds_ns().size());
            for (const std::uint64_t ns : lifetime_bounds_ns()) {
                n.lifetime.bounds.push_back(static_cast<double>(ns) / 1e9);
            }
            n.lifetime.buckets.assign(n.lifetime.bounds.size() + 1, 0);
            snap.netns.push_back(std::move(n));
        }
        return snap.netns[it->second];
    };
    netns_of(scope_.netns_ino);  // always there, first

    for (const BpfNetnsMetrics& b : m.netns) {
        NetnsStats& n = netns_of(b.netns_ino);
        n.entries = b.entries;
        // cumulative, as Prometheus buckets are
        std::uint64_t running = 0;
        for (std::size_t i = 0; i < n.lifetime.buckets.size() && i < b.lifetime.size(); ++i) {
            running += b.lifetime[i];
            n.lifetime.buckets[i] = running;
        }
        n.lifetime.count = running;
        n.lifetime.sum_seconds = static_cast<double>(b.lifetime_sum_ns) / 1e9;
        if (b.other_time_wait != 0 || b.other_resets != 0 || b.other_opens != 0) {
            PortCounters other;
            other.other = true;
            other.time_wait = b.other_time_wait;
            other.resets = b.other_resets;
            other.opens = b.other_opens;
            n.ports.push_back(other);
        }
    }
    for (const BpfPortMetrics& p : m.ports) {
        PortCounters c;
        c.port = p.port;
        c.time_wait = p.time_wait;
        c.resets = p.resets;
        c.opens = p.opens;
        netns_of(p.netns_ino).ports.push_back(c);
    }

    NetnsStats& own = netns_of(scope_.netns_ino);
    const auto tcp = read_tcp_counters();
    const std::int64_t overflows =
        counter_or_zero(tcp, kOverflowCounter) - counter_or_zero(tcp0_, kOverflowCounter);
    own.tw_overflows = overflows > 0 ? static_cast<std::uint64_t>(overflows) : 0;
    // The live table knows each socket's namespace: with --all-netns it was seeded by a
    // listing of every namespace. A namespace with no socket now shows zeros.
    if (table_ != nullptr) {
        for (NetnsStats& n : snap.netns) {
            n.current_known = true;
        }
        for (const auto& [ino, states] : table_->states_by_netns()) {
            if (!scope_.all_netns && ino != scope_.netns_ino) {
                continue;
            }
            NetnsStats& n = netns_of(ino);
            std::copy(states.begin(), states.end(), n.current.begin());
            n.current_known = true;
        }
    }

    const BpfCounters c = session_.counters();
    snap.tool.events_seen = c.seen();
    snap.tool.lost_ring_full = c.loss.ring_full;
    snap.tool.lost_skipped = c.loss.skipped;
    snap.tool.lost_map_full = c.loss.map_full;
    if (session_.run_time_stats()) {
        for (const BpfProgramInfo& p : session_.programs()) {
            if (p.loaded) {
                snap.tool.programs.push_back({p.name, p.run_cnt, p.run_time_ns});
            }
        }
    }
    return snap;
}

}  // namespace sstrace
