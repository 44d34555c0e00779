// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/stream_accounting.hpp"
#include "sstrace/core/clock.hpp"

#include "sstrace/core/program.hpp"
#include "sstrace/sources/mib.hpp"

#include <fmt/format.h>

#include <ctime>

namespace sstrace {

namespace {

std::uint64_t since(std::uint64_t now, std::uint64_t before)
{
    return now > before ? now - before : 0;
}

}  // namespace

std::map<std::string, std::int64_t> read_tcp_counters()
{
    std::map<std::string, std::int64_t> out = read_mib_counters("/proc/self/net/snmp");
    out.merge(read_mib_counters("/proc/self/net/netstat"));
    return out;
}

StreamAccounting::StreamAccounting(const BpfSession& session, const StreamScope& scope)
    : session_(session), scope_(scope)
{
}

void StreamAccounting::start()
{
    t0_ns_ = monotonic_ns();
    counters0_ = read_tcp_counters();
}

void StreamAccounting::stop()
{
    // the time first: a record after it is left out even if its counter was read in time
    t1_ns_ = monotonic_ns();
    counters1_ = read_tcp_counters();
}

void StreamAccounting::event(const SocketEvent& ev)
{
    if (ev.kind != EventKind::StateEntry || ev.mono_ns < t0_ns_ ||
        (t1_ns_ != 0 && ev.mono_ns > t1_ns_)) {
        return;
    }
    switch (ev.new_state) {
    case kStateTimeWait:
        ++window_.time_wait;
        if (ev.tw_orphan) {
            ++window_.time_wait_fin_wait2;
        }
        break;
    case kStateSynSent:
        if (!ev.syn_unsent) {
            ++window_.syn_sent;
        }
        break;
    case kStateSynRecv:
        ++window_.syn_recv;
        break;
    default:
        break;
    }
}

std::optional<std::string> StreamAccounting::loss_since_last_poll(EventLoss* lost)
{
    const BpfLoss loss = session_.counters().loss;
    if (loss.total() <= reported_.total()) {
        return std::nullopt;
    }
    if (lost != nullptr) {
        *lost = EventLoss{};
        lost->mono_ns = monotonic_ns();
        lost->ring_full = since(loss.ring_full, reported_.ring_full);
        lost->skipped = since(loss.skipped, reported_.skipped);
        lost->map_full = since(loss.map_full, reported_.map_full);
    }
    std::string line = fmt::format(
        "{} events lost (ring buffer full: {}, skipped by the kernel: {}, TIME-WAIT lookup cut "
        "short: {}); {} lost so far",
        loss.total() - reported_.total(), since(loss.ring_full, reported_.ring_full),
        since(loss.skipped, reported_.skipped), since(loss.map_full, reported_.map_full),
        loss.total());
    reported_ = loss;
    return line;
}

void StreamAccounting::compare(std::FILE* out, const char* what, std::int64_t kernel,
                               const char* counter, std::uint64_t ours,
                               const std::string& note) const
{
    fmt::print(out, "{0}: {1}: kernel {2} ({3}), {0} {4}{5}{6}\n", program_name(), what, kernel,
               counter, ours, note.empty() ? "" : "; ", note);
}

void StreamAccounting::finish(std::uint64_t printed, bool verbose, std::FILE* out,
                              const char* delivered_as)
{
    const BpfCounters c = session_.counters();
    const BpfLoss& loss = c.loss;
    std::string causes;
    if (loss.total() != 0) {
        causes = fmt::format(" (ring buffer full: {}, skipped by the kernel: {}, TIME-WAIT lookup "
                             "cut short: {})",
                             loss.ring_full, loss.skipped, loss.map_full);
    }
    fmt::print(out, "{}: {} events seen, {} {}, {} lost{}\n", program_name(),
               c.seen(), printed, delivered_as, loss.total(), causes);

    if (verbose) {
        for (const BpfProgramInfo& p : session_.programs()) {
            if (!p.loaded) {
                continue;
            }
            fmt::print(out, "{}: program {} ({}{}): {} runs skipped by the kernel", program_name(),
                       p.name, hook_name(p.hook), p.second_copy ? ", second copy" : "",
                       p.recursion_misses);
            if (p.second_copy) {
                fmt::print(out, ", {} taken over from the first copy", p.nested_runs);
            }
            if (p.hits_not_run) {
                fmt::print(out, ", {} tracepoint hits run by no program", *p.hits_not_run);
            }
            std::fputc('\n', out);
        }
        const RingStats r = session_.ring_stats();
        fmt::print(out,
                   "{}: rings: {} of {} slots (one per CPU) and {} of {} (writes interrupting a "
                   "write), {} bytes a slot; {} records out of time order (committed behind a "
                   "younger one)\n",
                   program_name(), r.cpus, r.slots, r.cpus, r.nested_slots, r.slot_bytes,
                   r.late);
    }

    // The kernel's own count of what the rows stand for, between the two counter reads.
    auto delta = [&](const char* name) {
        const auto a = counters0_.find(name);
        const auto b = counters1_.find(name);
        if (a == counters0_.end() || b == counters1_.end()) {
            return std::int64_t{-1};
        }
        return b->second - a->second;
    };
    std::string why_not;
    if (!scope_.one_netns) {
        why_not = "kernel counters are per network namespace and the stream follows all";
    } else if (!scope_.both_families) {
        why_not = "kernel counters include both address families and the stream follows one";
    } else if (scope_.filtered) {
        why_not = "the filter selects part of the connections";
    } else if (counters0_.empty() || counters1_.empty()) {
        why_not = "/proc/net/snmp and /proc/net/netstat could not be read";
    }
    const struct {
        int state;
        const char* what;
        const char* counters;
    } kinds[] = {
        {kStateTimeWait, "TIME-WAIT entries", "TcpExtTW + TcpExtTWKilled"},
        {kStateSynSent, "SYN-SENT entries with a SYN sent", "TcpActiveOpens"},
        {kStateSynRecv, "SYN-RECV entries", "TcpPassiveOpens"},
    };
    for (const auto& k : kinds) {
        if ((scope_.states & state_bit(k.state)) == 0) {
            continue;
        }
        if (!why_not.empty()) {
            fmt::print(out, "{}: {}: not comparable with the kernel's counters ({})\n",
                       program_name(), k.what, why_not);
            continue;
        }
        if (k.state == kStateTimeWait) {
            const std::int64_t kernel = delta("TcpExtTW") + delta("TcpExtTWKilled");
            std::string note;
            if (window_.time_wait_fin_wait2 != 0) {
                note = fmt::format("{} of them orphans whose peer had not sent its FIN (ss shows "
                                   "them as FIN-WAIT-2 until it does)",
                                   window_.time_wait_fin_wait2);
            }
            if (kernel > static_cast<std::int64_t>(window_.time_wait) && c.tw_no_timer != 0) {
                note += fmt::format("{}{} closes from FIN-WAIT-2 or CLOSING found no timewait "
                                    "socket (TcpExtTCPTimeWaitOverflow: {}); a timewait socket "
                                    "that another CPU kills before the full socket's CLOSE gets "
                                    "no row",
                                    note.empty() ? "" : "; ", c.tw_no_timer,
                                    delta("TcpExtTCPTimeWaitOverflow"));
            }
            compare(out, k.what, kernel, k.counters, window_.time_wait, note);
        } else if (k.state == kStateSynSent) {
            compare(out, k.what, delta("TcpActiveOpens"), k.counters, window_.syn_sent, "");
        } else {
            compare(out, k.what, delta("TcpPassiveOpens"), k.counters, window_.syn_recv, "");
        }
    }
    if ((scope_.states & state_bit(kStateTimeWait)) != 0 && scope_.one_netns) {
        const std::int64_t overflow = delta("TcpExtTCPTimeWaitOverflow");
        if (overflow > 0) {
            fmt::print(out,
                       "{}: {} connections got no TIME-WAIT socket "
                       "(TcpExtTCPTimeWaitOverflow: net.ipv4.tcp_max_tw_buckets is full)\n",
                       program_name(), overflow);
        }
    }
}

}  // namespace sstrace
