// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/stream_accounting.hpp"
#include "sstrace/core/clock.hpp"

#include "sstrace/core/program.hpp"
#include "sstrace/sources/mib.hpp"

#include <fmt/format.h>

#include <ctime>
#include <utility>

namespace sstrace {

namespace {

// How near a counter read a record is an edge of the comparison (StreamAccounting::tally()).
constexpr std::uint64_t kEdgeNs = 2'000'000;

std::uint64_t since(std::uint64_t now, std::uint64_t before)
{
    return now > before ? now - before : 0;
}

}  // namespace

std::map<std::string, std::int64_t> read_tcp_counters()
{
    KernelCounters k = read_tcp_counters_timed();
    k.snmp.counters.merge(k.netstat.counters);
    return std::move(k.snmp.counters);
}

KernelCounters read_tcp_counters_timed()
{
    KernelCounters k;
    k.snmp = read_mib_counters_timed("/proc/self/net/snmp");
    k.netstat = read_mib_counters_timed("/proc/self/net/netstat");
    return k;
}

std::int64_t KernelCounters::value(const std::string& name) const
{
    for (const MibRead* f : {&snmp, &netstat}) {
        if (const auto it = f->counters.find(name); it != f->counters.end()) {
            return it->second;
        }
    }
    return -1;
}

StreamAccounting::StreamAccounting(const BpfSession& session, const StreamScope& scope)
    : session_(session), scope_(scope)
{
}

void StreamAccounting::start()
{
    counters0_ = read_tcp_counters_timed();
}

void StreamAccounting::stop()
{
    counters1_ = read_tcp_counters_timed();
    stopped_ = true;
}

// Counts a record when it is between the two reads of the file that holds its counter. The
// kernel counts a TIME-WAIT entry (TcpExtTW, netstat) before the state change the record is of,
// an active open (TcpActiveOpens, snmp) before the SYN-SENT row's timer, a passive open after the
// SYN-RECV entry; the middle of a read stands for the moment the kernel summed the counter in it.
// The two moments of one entry are normally microseconds apart, but a softirq (receiving packets
// for up to netdev_budget_usecs, 2 ms by default) can run between them. So a record within kEdgeNs
// of a read, counted or not, is an edge: the kernel may have counted it on the other side.
bool StreamAccounting::tally(Tally& t, const SocketEvent& ev, bool netstat) const
{
    const MibRead& r0 = netstat ? counters0_.netstat : counters0_.snmp;
    const MibRead& r1 = netstat ? counters1_.netstat : counters1_.snmp;
    auto near = [&](const MibRead& r) {
        return ev.mono_ns + kEdgeNs >= r.begin_ns && ev.mono_ns <= r.end_ns + kEdgeNs;
    };
    if (near(r0) || (stopped_ && near(r1))) {
        ++t.edge;
    }
    if (ev.mono_ns < r0.mid_ns() || (stopped_ && ev.mono_ns >= r1.mid_ns())) {
        return false;
    }
    ++t.n;
    return true;
}

void StreamAccounting::event(const SocketEvent& ev)
{
    if (ev.kind != EventKind::StateEntry) {
        return;
    }
    switch (ev.new_state) {
    case kStateTimeWait:
        if (tally(window_.time_wait, ev, true) && ev.tw_orphan) {
            ++window_.time_wait_fin_wait2;
        }
        break;
    case kStateSynSent:
        if (!ev.syn_unsent) {
            tally(window_.syn_sent, ev, false);
        }
        break;
    case kStateSynRecv:
        tally(window_.syn_recv, ev, false);
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
                               const char* counter, const Tally& ours, std::string note) const
{
    const std::int64_t diff = kernel - static_cast<std::int64_t>(ours.n);
    if (diff != 0 && static_cast<std::uint64_t>(diff < 0 ? -diff : diff) <= ours.edge) {
        note += fmt::format("{}{} entries came within {} ms of a read of the kernel's counters, "
                            "which may count them on the other side of it",
                            note.empty() ? "" : "; ", ours.edge, kEdgeNs / 1'000'000);
    }
    fmt::print(out, "{0}: {1}: kernel {2} ({3}), {0} {4}{5}{6}\n", program_name(), what, kernel,
               counter, ours.n, note.empty() ? "" : "; ", note);
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
        const std::int64_t a = counters0_.value(name);
        const std::int64_t b = counters1_.value(name);
        return a < 0 || b < 0 ? std::int64_t{-1} : b - a;
    };
    std::string why_not;
    if (!scope_.one_netns) {
        why_not = "kernel counters are per network namespace and the stream follows all";
    } else if (!scope_.both_families) {
        why_not = "kernel counters include both address families and the stream follows one";
    } else if (scope_.filtered) {
        why_not = "the filter selects part of the connections";
    } else if (!counters0_.netstat.read() || !counters1_.netstat.read() ||
               !counters0_.snmp.read() || !counters1_.snmp.read()) {
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
            if (kernel > static_cast<std::int64_t>(window_.time_wait.n) && c.tw_no_timer != 0) {
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
