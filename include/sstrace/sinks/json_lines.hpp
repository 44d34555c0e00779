// SPDX-License-Identifier: GPL-2.0-only
// JSON lines (--json): one object per event, per loss report, or per socket of a listing, with
// typed fields under the same names for events and sockets. The schema: doc/json.md.
#pragma once

#include "sstrace/model/socket.hpp"
#include "sstrace/sinks/event_sink.hpp"
#include "sstrace/sinks/output_writer.hpp"
#include "sstrace/ss/selection.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace sstrace {

struct JsonOptions {
    bool extended = false;  // events: uid and inode (what -e prints in a row)
    // Names of network namespaces by inode (`ip netns`; a capture's header when reading one).
    std::map<std::uint32_t, std::string> namespaces;
};

// RFC 3339 in UTC with nanoseconds (2024-05-01T03:10:00.123456789Z): the `time` of every object.
std::string rfc3339(std::int64_t ns);

// One socket's object (a listing's row), appended to `out` with a newline.
void append_socket_json(std::string& out, const Socket& s);

// The lines of an event stream, written through `out` after each batch.
class JsonEventSink : public EventSink {
public:
    JsonEventSink(const JsonOptions& options, OutputWriter* out);

    // Wall-clock time = monotonic + this offset (ns).
    void set_clock_offset(std::int64_t realtime_minus_monotonic_ns) { clock_offset_ = realtime_minus_monotonic_ns; }
    void set_namespaces(std::map<std::uint32_t, std::string> names) { options_.namespaces = std::move(names); }

    void event(const SocketEvent& ev) override;
    void flush() override;
    void loss(const EventLoss& lost) override;

    std::uint64_t rows() const { return rows_; }

    // One event's line, for tests.
    void append_event(const SocketEvent& ev, std::string& out) const;

private:
    JsonOptions options_;
    OutputWriter* out_;
    std::int64_t clock_offset_ = 0;
    std::string buf_;
    std::uint64_t buf_rows_ = 0;
    std::uint64_t buf_extra_ = 0;  // loss lines in buf_
    std::uint64_t rows_ = 0;
};

// A listing's sockets as JSON lines on a stdio stream (sstrace -tan --json).
class JsonSocketWriter {
public:
    explicit JsonSocketWriter(std::FILE* out) : out_(out) {}
    void socket(const Socket& s);
    void flush();

private:
    std::FILE* out_;
    std::string buf_;
};

}  // namespace sstrace
