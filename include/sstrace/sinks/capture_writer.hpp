// SPDX-License-Identifier: GPL-2.0-only
// Capture files (--write): the sink encodes each event as a record on the event loop's thread;
// the writer thread compresses each batch into the open zstd frame, ends frames at least every
// second, and opens, rotates, syncs and hands over the files. The format: doc/capture.md.
#pragma once

#include "sstrace/capture/format.hpp"
#include "sstrace/sinks/event_sink.hpp"
#include "sstrace/sinks/output_writer.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace sstrace {

struct CaptureSettings {
    std::string path;                 // "-": stdout; with rotate_seconds, a strftime pattern
    std::uint64_t rotate_bytes = 0;   // a new file once the current one holds this many (0: never)
    std::uint64_t rotate_seconds = 0; // a new file after this many seconds (0: never)
    std::uint32_t rotate_count = 0;   // keep at most this many files of the run (0: all)
    std::string post_rotate;          // a program run with each closed file's name ("": none)
    bool compress = true;             // zstd frames (false: plain records, for tests)
    int level = 1;                    // zstd level
    std::size_t frame_bytes = std::size_t{4} << 20;  // a frame ends after this many record bytes
    std::chrono::milliseconds frame_age{1000};       // ... or once it is this old
    // --watch: the Table records (the live table now) that each file starts with; called on
    // the thread that opens the file (the writer's, once the run goes)
    std::function<std::string()> table;
};

// What a capture wrote, for the summary and the benchmark.
struct CaptureStats {
    std::uint64_t events = 0;        // event records written
    std::uint64_t record_bytes = 0;  // bytes of records before compression
    std::uint64_t file_bytes = 0;    // bytes written to files (headers included)
    std::uint32_t files = 0;         // files opened
};

// The writer thread's side: files, frames, rotation, the full-disk trailer.
class CaptureTarget : public OutputTarget {
public:
    // Opens the first file and writes its header at once (throws Error when it cannot).
    // `clock_offset` is the realtime - monotonic offset in force, kept by the sink.
    CaptureTarget(const CaptureSettings& settings, const capture::Header& header,
                  std::shared_ptr<const std::atomic<std::int64_t>> clock_offset);
    ~CaptureTarget() override;

    Result write(std::string_view bytes, std::uint64_t rows, std::uint64_t header_lines) override;
    int close() override;

    CaptureStats stats() const;
    // The name of the file open now (or the last one).
    std::string current_name() const;
    // Waits for the --post-rotate programs still running (after the writer finished).
    void wait_post_rotate();

private:
    // One piece of a batch: rotation by time before it, by size after it.
    Result write_batch(std::string_view bytes, std::uint64_t rows);
    int open_next();
    int end_file(capture::EndReason reason);
    int rotate();
    // Compresses `records` into out_; `end_frame` ends the frame.
    void compress(std::string_view records, bool end_frame);
    // Makes room on disk for `bytes` more, plus the trailer; ENOSPC when there is none.
    int reserve(std::size_t bytes);
    int write_out();
    int sync();
    void reap(bool wait);

    CaptureSettings settings_;
    capture::Header header_;
    std::shared_ptr<const std::atomic<std::int64_t>> clock_offset_;
    struct Cctx;
    std::unique_ptr<Cctx> cctx_;
    int fd_ = -1;
    bool owns_fd_ = false;
    std::string name_;
    std::uint64_t file_size_ = 0;     // bytes written to the current file
    std::uint64_t reserved_end_ = 0;  // the file's space is allocated up to here
    bool can_reserve_ = true;         // fallocate works on this file
    std::uint64_t file_events_ = 0;
    std::int64_t file_started_ns_ = 0;  // CLOCK_MONOTONIC
    std::size_t frame_records_ = 0;     // record bytes in the open frame
    std::int64_t frame_started_ns_ = 0;
    bool frame_open_ = false;
    std::string out_;
    std::string scratch_;              // a batch being sealed
    std::uint64_t records_pos_ = 0;    // record bytes of the current file so far
    std::deque<std::string> kept_;        // files of this run, oldest first (rotate_count)
    std::set<std::string> used_names_;
    std::vector<pid_t> children_;
    std::uint32_t file_index_ = 0;
    mutable std::atomic<std::uint64_t> events_{0}, record_bytes_{0}, file_bytes_{0};
    std::atomic<std::uint32_t> files_{0};
    mutable std::mutex name_mu_;
};

// The event loop's side: records into batches.
class CaptureSink : public EventSink {
public:
    CaptureSink(OutputWriter& writer, std::shared_ptr<std::atomic<std::int64_t>> clock_offset);

    // Records are handed to the writer thread in batches of at least kBatchBytes, or once the
    // oldest is kBatchAge old (the stream drains at least every 100 ms): each batch ends a zstd
    // block, and a block per small drain cost more CPU than the rows would have.
    static constexpr std::size_t kBatchBytes = std::size_t{128} << 10;
    static constexpr std::int64_t kBatchAgeNs = 100'000'000;

    void event(const SocketEvent& ev) override;
    void flush() override;
    void loss(const EventLoss& lost) override;
    // Hands over what is held, whatever its size and age (at the end of the stream).
    void push_held();

    // The realtime - monotonic offset the rows use; the sink records a new clock pair when the
    // clocks drift 1 us or more from it (checked every second).
    void set_clock_offset(std::int64_t offset);

    std::uint64_t events() const { return events_; }

private:
    OutputWriter& writer_;
    std::shared_ptr<std::atomic<std::int64_t>> clock_offset_;
    std::string buf_;
    std::uint64_t buf_events_ = 0;
    std::uint64_t events_ = 0;
    EventLoss pending_loss_;          // not in an accepted batch yet
    std::uint64_t unwritten_seen_ = 0;  // the writer's unwritten count already in pending_loss_
    std::int64_t last_clock_check_ns_ = 0;
    std::int64_t held_since_ns_ = 0;  // when the oldest record in buf_ came
};

// Everything a --write needs: the writer thread, its target and the sink.
class CaptureOutput {
public:
    // `clock_offset`: the realtime - monotonic offset the stream's rows use (the first
    // header's clock pair carries it).
    CaptureOutput(const CaptureSettings& settings, const capture::Header& header,
                  std::int64_t clock_offset, std::size_t max_queued);

    CaptureSink& sink() { return sink_; }
    OutputWriter& writer() { return writer_; }
    const OutputWriter& writer() const { return writer_; }
    const CaptureSettings& settings() const { return settings_; }
    CaptureStats stats() const { return target_->stats(); }
    std::string current_name() const { return target_->current_name(); }
    void wait_post_rotate() { target_->wait_post_rotate(); }

private:
    CaptureSettings settings_;
    std::shared_ptr<std::atomic<std::int64_t>> clock_offset_;
    CaptureTarget* target_;  // owned by writer_
    OutputWriter writer_;
    CaptureSink sink_;
};

// The network namespaces `ip netns` names now (/run/netns): inode -> name.
std::map<std::uint32_t, std::string> named_namespaces();

// A CLOCK_MONOTONIC and CLOCK_REALTIME pair read together (the realtime reading between two
// monotonic ones, paired with their midpoint).
capture::ClockPair read_clock_pair();

}  // namespace sstrace
