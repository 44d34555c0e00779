// SPDX-License-Identifier: GPL-2.0-only
// ss-shaped rows for event streams. ss -E measures every row on its own, so its columns jump
// from row to row; a stream cannot look ahead, so these columns start at widths that fit the
// families in play and only ever grow (a wider value widens its column from that row on). The
// text of each column is the listing's (SsColumns); only the layout differs.
#pragma once

#include "sstrace/core/netns.hpp"
#include "sstrace/core/state.hpp"
#include "sstrace/sinks/event_sink.hpp"
#include "sstrace/sinks/output_writer.hpp"
#include "sstrace/sinks/ss_row.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace sstrace {

struct EventRowLayout {
    bool timestamp = false;    // --timestamp: leading wall-clock column
    bool netns = false;        // --all-netns: Netns column
    bool netid = true;         // hidden when exactly one table is selected (ss rule)
    bool state = true;         // hidden when exactly one state is selected (ss rule)
    bool transitions = false;  // State shows `OLD -> NEW`
    bool ipv6 = true;          // IPv6 rows possible: wider address columns
    bool header = true;        // -H clears it
    StateMask states = kAllStates;  // states rows can show (sizes the State column)
    std::string netns_dir = "/var/run/netns";  // where `ip netns` names are (Netns column)
};

class EventRowSink : public EventSink {
public:
    // `tty`: stdout is a terminal: the header is written at once (a pipe or a file gets nothing
    // before the first row). Rows go to `out` on flush() (none: tests of the layout).
    EventRowSink(const EventRowLayout& layout, SsColumns columns, OutputWriter* out, bool tty);

    // Wall-clock time = monotonic + this offset (ns).
    void set_clock_offset(std::int64_t realtime_minus_monotonic_ns)
    {
        clock_offset_ = realtime_minus_monotonic_ns;
    }

    void event(const SocketEvent& ev) override;
    void flush() override;

    // Rows formatted so far (written, or counted by the writer as not written).
    std::uint64_t rows() const { return rows_; }

    // The layout alone, for tests: the header line and one event's row.
    void append_header(std::string& out) const;
    void append_row(const SocketEvent& ev, std::string& out);

private:
    enum Col { kTime, kNetns, kNetid, kState, kRecvQ, kSendQ, kLocal, kLport, kPeer, kPport, kCols };

    void put(std::string& out, int col, std::string_view text, bool& first);

    EventRowLayout layout_;
    SsColumns columns_;
    std::optional<NetnsNames> netns_names_;  // the Netns column's names (layout.netns)
    OutputWriter* out_ = nullptr;
    std::int64_t clock_offset_ = 0;
    std::size_t width_[kCols] = {};
    std::string buf_;
    bool header_done_ = false;
    std::uint64_t buf_rows_ = 0;
    std::uint64_t buf_header_ = 0;
    std::uint64_t rows_ = 0;
};

}  // namespace sstrace
