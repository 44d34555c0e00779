// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/watch.hpp"
#include "sstrace/capture/format.hpp"
#include "sstrace/core/clock.hpp"

#include "sstrace/core/error.hpp"
#include "sstrace/core/netns.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/core/state.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace sstrace {

Watch::Watch(const WatchPlan& plan, std::uint32_t netns_ino, BpfEventSource& source,
             bool tw_ends)
    : plan_(plan), netns_ino_(netns_ino), source_(source), table_(kMaxSockets, plan.members),
      tw_ends_(tw_ends)
{
    table_.follow_ends(tw_ends);
    if (!plan.list) {
        seam_ns_ = 0;  // no listing: every event is a change
    }
}

namespace {

// stdout on /dev/null while it lives (a quiet watch's listing: the rows seed the table only).
class StdoutToNull {
public:
    StdoutToNull()
    {
        std::fflush(stdout);
        saved_.reset(::dup(STDOUT_FILENO));
        const UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        if (!saved_ || !null || ::dup2(null.get(), STDOUT_FILENO) < 0) {
            throw Error::from_errno("redirecting the listing to /dev/null", errno);
        }
    }
    ~StdoutToNull()
    {
        std::fflush(stdout);
        ::dup2(saved_.get(), STDOUT_FILENO);
    }
    StdoutToNull(const StdoutToNull&) = delete;
    StdoutToNull& operator=(const StdoutToNull&) = delete;

private:
    UniqueFd saved_;
};

}  // namespace

void print_netns_heading(std::FILE* out, bool json, bool first, std::uint32_t ino,
                         const std::string& label)
{
    if (json) {
        nlohmann::ordered_json j;
        j["type"] = "netns";
        j["netns"] = ino;
        if (label != std::to_string(ino)) {
            j["name"] = label;
        }
        fmt::print(out, "{}\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        return;
    }
    fmt::print(out, "{}netns: {}\n", first ? "" : "\n", label);
}

int Watch::list(const Environment& env)
{
    source_.hold(kMaxHeldBytes);
    std::optional<StdoutToNull> quiet;
    if (plan_.quiet) {
        quiet.emplace();
    }
    if (!plan_.all_netns) {
        listed_netns_.push_back(netns_ino_);
    }
    const int rc = plan_.all_netns ? list_every_netns(env) : run_listing(plan_.listing, env, this);
    std::fflush(stdout);
    quiet.reset();
    seam_ns_ = monotonic_ns();
    tick();
    spdlog::debug("listing done: {} sockets in the table, {} bytes of records held", table_.size(),
                  source_.held_bytes());
    source_.end_hold();
    return rc;
}

// One listing per namespace, each under an `ip -all netns exec` style heading, all into the one
// table (its sockets are known by namespace too).
int Watch::list_every_netns(const Environment& env)
{
    const UniqueFd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home) {
        throw Error::from_errno("opening /proc/self/ns/net", errno);
    }
    NetnsNames names;
    int rc = kExitOk;
    for (const NetnsHandle& ns : open_every_netns()) {
        if (::setns(ns.fd.get(), CLONE_NEWNET) != 0) {
            spdlog::warn("netns {}: not listed: {}", names.label(ns.ino), std::strerror(errno));
            continue;
        }
        netns_ino_ = ns.ino;
        print_netns_heading(stdout, plan_.listing.json, listed_netns_.empty(), ns.ino,
                            names.label(ns.ino));
        listed_netns_.push_back(ns.ino);
        rc = run_listing(plan_.listing, env, this);
        if (rc != kExitOk) {
            break;
        }
    }
    if (::setns(home.get(), CLONE_NEWNET) != 0) {
        throw Error::from_errno("returning to sstrace's network namespace", errno);
    }
    return rc;
}

void Watch::listed(const Socket& s)
{
    const std::lock_guard lock(mu_);
    table_.seed(s, netns_ino_, monotonic_ns());
}

void Watch::keep_rows()
{
    table_.keep_rows(&capture::encode_event);
    shared_ = true;
}

std::string Watch::table_records()
{
    const std::lock_guard lock(mu_);
    // the table reflects every event applied before now: a reader drops the events of the
    // file's start that it already shows (as the seam of the listing does here)
    const std::uint64_t now = monotonic_ns();
    std::string out;
    table_.rows([&](const sstrace_event& row, std::uint64_t since_ns) {
        capture::append_table(out, now, since_ns, row);
    });
    return out;
}

void Watch::tick()
{
    source_.drain([](SocketEvent&) {});  // held: nothing is delivered
}

bool Watch::pass(SocketEvent& ev)
{
    std::unique_lock lock(mu_, std::defer_lock);
    if (shared_) {
        lock.lock();  // a capture's writer thread may be taking the table
    }
    const LiveTable::Verdict v = table_.apply(ev);
    if (shared_) {
        lock.unlock();
    }
    if (ev.kind == EventKind::TimeWaitEnd) {
        if (ev.tw_end == TwEnd::Rearmed) {
            return false;  // not an end
        }
        ++(ev.tw_end == TwEnd::Expired ? tw_expired_ : tw_killed_);
        // a watch shows the end of what it listed or showed entering; a stream without a
        // listing every end (of sockets that entered before it too)
        if (plan_.list && v != LiveTable::Verdict::New) {
            return false;
        }
    }
    if (ev.mono_ns < seam_ns_ && v != LiveTable::Verdict::New) {
        ++seam_dropped_;
        return false;
    }
    return shown(ev);
}

bool Watch::shown(const SocketEvent& ev) const
{
    if (plan_.shown == 0) {
        return ev.kind == EventKind::Destroy;  // the destroy stream's rows
    }
    if (ev.kind == EventKind::TimeWaitEnd) {
        return plan_.leaving && (plan_.shown & state_bit(kStateTimeWait)) != 0;
    }
    if (ev.kind != EventKind::StateEntry) {
        return false;
    }
    if ((plan_.shown & state_bit(ev.new_state)) != 0) {
        return true;
    }
    return plan_.leaving && ev.old_state >= 0 && (plan_.shown & state_bit(ev.old_state)) != 0;
}

void Watch::expire()
{
    const std::lock_guard lock(mu_);
    table_.expire(monotonic_ns());
}

void Watch::report(std::FILE* out) const
{
    const auto n = table_.states();
    std::string per_state;
    for (int st = 0; st < kStateCount; ++st) {
        if (n[static_cast<std::size_t>(st)] != 0) {
            per_state += fmt::format("{}{} {}", per_state.empty() ? "" : ", ", state_name(st),
                                     n[static_cast<std::size_t>(st)]);
        }
    }
    const std::size_t datagram = table_.datagram_sockets();
    fmt::print(out, "{}: live table: {} TCP sockets{}{}\n", program_name(),
               table_.size() - datagram, per_state.empty() ? "" : ": ", per_state);
    if (plan_.datagram) {
        fmt::print(out, "{}: live table: {} UDP and raw sockets (listed ones not destroyed since)\n",
                   program_name(), datagram);
    }
    if (plan_.list) {
        fmt::print(out, "{}: {} events queued during the listing were already in it (not shown)\n",
                   program_name(), seam_dropped_);
    }
    if (tw_ends_) {
        fmt::print(out, "{}: ends of TIME-WAIT: {} expired, {} ended early\n", program_name(),
                   tw_expired_, tw_killed_);
        if (table_.unseen_ends() != 0) {
            fmt::print(out, "{}: {} timewait sockets left the table at their timer without an "
                       "end event\n", program_name(), table_.unseen_ends());
        }
    }
    if (table_.dropped() != 0) {
        fmt::print(out, "{}: {} sockets did not fit in the live table (at most {}): their changes "
                   "were shown, their rows not held\n", program_name(), table_.dropped(),
                   kMaxSockets);
    }
}

}  // namespace sstrace
