// SPDX-License-Identifier: GPL-2.0-only
// The sinks of a stream, live or read back, and what they write through: ss rows or JSON lines
// on stdout, a capture file. One place decides what a failed output means (the full-disk
// policy of doc/capture.md and the README: stop, summary, exit 1), for stdout and files alike.
#pragma once

#include "sstrace/app/stream_pipeline.hpp"
#include "sstrace/app/stream_plan.hpp"
#include "sstrace/sinks/capture_writer.hpp"
#include "sstrace/sinks/event_rows.hpp"
#include "sstrace/sinks/json_lines.hpp"
#include "sstrace/sinks/output_writer.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sstrace {

// --watch --write: the live table each capture file starts with.
struct CaptureTableSource {
    std::function<std::string()> records;  // its Table records now
    std::vector<std::uint32_t> netns;      // the namespaces the listing covered, in order
};

class StreamOutputs {
public:
    // `clock_offset`: realtime - monotonic, for the rows' times and the capture's first pair.
    // `table`: with --watch, what each capture file starts with.
    StreamOutputs(const StreamPlan& plan, std::int64_t clock_offset,
                  OutputWriter::WhenFull when_full, CaptureTableSource table = {});

    // Registers the sinks with the pipeline.
    void attach(StreamPipeline& pipeline);

    // A capture read back: its clock pairs and namespace names.
    void set_clock_offset(std::int64_t offset);
    void set_namespaces(const std::map<std::uint32_t, std::string>& names);

    // Every output still takes what it is given.
    bool writing() const;
    // The reader of stdout went away (EPIPE): the run ends quietly.
    bool reader_gone() const;
    // About once a second: a warning for rows or events that could not be written.
    void warn_unwritten();
    // Gives what is queued up to `timeout_ms` to be written, then stops the writer threads.
    void finish(int timeout_ms);

    // Rows printed, or events written to the capture when nothing is printed; and which.
    std::uint64_t delivered() const;
    const char* delivered_as() const;
    // At the end, before the summary: what was not written, and (with `verbose`, or when the
    // capture is the only output) what the capture wrote.
    void report(bool verbose) const;
    // The policy for a failed output (a full disk, any write error): after the summary, one
    // Error with exit status 1 naming the output.
    void throw_if_failed() const;

private:
    std::optional<OutputWriter> stdout_;
    std::optional<EventRowSink> rows_;
    std::optional<JsonEventSink> json_;
    std::optional<CaptureOutput> capture_;
};

// The header every file of a live stream's capture starts with.
capture::Header capture_header(const StreamPlan& plan);

}  // namespace sstrace
