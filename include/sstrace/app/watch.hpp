// SPDX-License-Identifier: GPL-2.0-only
// --watch: the listing, then every change to it. The programs are attached first; the listing
// runs while the ring buffer's records are held; they are replayed after it through the live
// table, which drops what the listing already showed. No gap and no duplicate at the seam.
#pragma once

#include "sstrace/app/listing.hpp"
#include "sstrace/app/stream_pipeline.hpp"
#include "sstrace/app/stream_plan.hpp"
#include "sstrace/model/live_table.hpp"
#include "sstrace/sources/bpf_event_source.hpp"

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace sstrace {

// The heading of one namespace's listing (--watch --all-netns): `netns: NAME` after a blank
// line between two, as `ip -all netns exec` heads each; with --json an object
// {"type":"netns","netns":INODE,"name":NAME}.
void print_netns_heading(std::FILE* out, bool json, bool first, std::uint32_t ino,
                         const std::string& label);

class Watch : public EventGate, public ListingObserver {
public:
    // Sockets the live table holds at the most, and bytes of records held during the listing
    // (beyond, the ring buffer keeps them, and counts what it then cannot hold).
    static constexpr std::size_t kMaxSockets = std::size_t{4} << 20;
    static constexpr std::size_t kMaxHeldBytes = std::size_t{256} << 20;

    // `tw_ends`: the source reports the ends of TIME-WAIT (EventKind::TimeWaitEnd).
    Watch(const WatchPlan& plan, std::uint32_t netns_ino, BpfEventSource& source, bool tw_ends);

    // Runs the listing (stdout) while the source holds the records that arrive; returns the
    // listing's exit code. Events before the end of the listing are checked against the table
    // from here on; later ones are changes whatever the table holds.
    int list(const Environment& env);

    bool pass(SocketEvent& ev) override;  // EventGate
    void listed(const Socket& s) override;      // ListingObserver
    void tick() override;

    // The sockets now (the gauges of --top).
    const LiveTable& table() const { return table_; }

    // --watch --write: the table keeps a row per socket, and table_records() gives them as
    // the Table records each capture file starts with. It is called from the capture's
    // writer thread while this one applies events: both take the lock.
    void keep_rows();
    std::string table_records();
    // The namespaces the listing covered, in its order.
    const std::vector<std::uint32_t>& listed_netns() const { return listed_netns_; }

    // Forgets the timewait sockets whose timer has fired (call about once a second).
    void expire();
    // The table at the end, with -v: its sockets per state, what the seam dropped.
    void report(std::FILE* out) const;

private:
    bool shown(const SocketEvent& ev) const;

    const WatchPlan& plan_;
    int list_every_netns(const Environment& env);

    std::uint32_t netns_ino_;  // the namespace being listed
    BpfEventSource& source_;
    LiveTable table_;
    std::uint64_t seam_ns_ = ~std::uint64_t{0};
    std::vector<std::uint32_t> listed_netns_;
    std::uint64_t seam_dropped_ = 0;  // queued events the listing already showed
    bool tw_ends_ = false;
    std::uint64_t tw_expired_ = 0;  // ends of TIME-WAIT seen, by kind
    std::uint64_t tw_killed_ = 0;
    std::mutex mu_;  // table_ (table_records() runs on the capture's writer thread)
    bool shared_ = false;  // keep_rows(): table_records() may run
};

}  // namespace sstrace
