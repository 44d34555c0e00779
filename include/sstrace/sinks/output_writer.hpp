// SPDX-License-Identifier: GPL-2.0-only
// Rows to a file descriptor (or a capture file) from a thread of their own, so that a slow or
// stalled reader (a stopped pager, a full pipe, a slow disk) never blocks the event loop: rows
// that do not fit the bounded queue are dropped and counted, and the loop goes on draining the
// ring buffer. Reading a capture back has no ring to drain: its writer waits for room instead.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace sstrace {

// Where the writer thread puts each chunk: a file descriptor (FdTarget, rows), or a capture
// file (sinks/capture_writer.hpp: compression, rotation).
class OutputTarget {
public:
    struct Result {
        int error = 0;                   // 0, or the errno that stopped the chunk
        std::uint64_t rows_written = 0;  // on an error: the chunk's rows that got out whole
    };

    virtual ~OutputTarget() = default;
    // Writes one chunk that holds `rows` rows after `header_lines` lines that are not rows.
    virtual Result write(std::string_view bytes, std::uint64_t rows,
                         std::uint64_t header_lines) = 0;
    // After the last chunk, on the writer thread, when no write failed: 0 or an errno.
    virtual int close() { return 0; }
};

// Writes to a descriptor it does not own; whole rows are counted by their newlines.
class FdTarget : public OutputTarget {
public:
    explicit FdTarget(int fd) : fd_(fd) {}
    Result write(std::string_view bytes, std::uint64_t rows, std::uint64_t header_lines) override;

private:
    int fd_;
};

class OutputWriter {
public:
    enum class State {
        Open,        // writing
        ReaderGone,  // EPIPE: the reader went away (a pipe into `head`)
        Failed,      // another write error (a full disk): `error()` says which
    };

    // What push() does when the queue is full.
    enum class WhenFull {
        Drop,  // counts the rows as unwritten (a live stream: the ring must be drained)
        Wait,  // waits for room (reading a capture back)
    };

    // `fd` is not owned. `max_queued` bounds the bytes waiting to be written.
    OutputWriter(int fd, std::size_t max_queued, WhenFull when_full = WhenFull::Drop);
    OutputWriter(std::unique_ptr<OutputTarget> target, std::size_t max_queued,
                 WhenFull when_full = WhenFull::Drop);
    ~OutputWriter();
    OutputWriter(const OutputWriter&) = delete;
    OutputWriter& operator=(const OutputWriter&) = delete;

    // Queues `chunk` (holding `rows` rows, after `header_lines` lines that are not rows) and
    // clears it. With WhenFull::Drop it never blocks on the reader: when the queue is full or
    // writing has stopped, the rows are counted as unwritten instead. true when it was queued.
    bool push(std::string& chunk, std::uint64_t rows, std::uint64_t header_lines = 0);

    // Waits up to `timeout_ms` for the queue to be written, then stops the thread. Rows still
    // queued are counted as unwritten. Returns the final state.
    State finish(int timeout_ms);

    State state() const;
    int error() const;  // errno of the failed write (State::Failed)
    // Rows dropped so far (queue full, reader gone, write failed, or left at finish()).
    std::uint64_t unwritten() const;
    // The part of unwritten() not yet reported by a previous call.
    std::uint64_t take_new_unwritten();

private:
    struct Chunk {
        std::string bytes;
        std::uint64_t rows = 0;
        std::uint64_t header_lines = 0;
    };
    // Everything the thread touches: shared with it, so that a thread left blocked in write()
    // on a stalled reader (see finish()) never outlives what it uses.
    struct Shared {
        std::unique_ptr<OutputTarget> target;
        std::size_t max_queued = 0;
        WhenFull when_full = WhenFull::Drop;
        std::mutex mu;
        std::condition_variable wake;   // work for the thread
        std::condition_variable idle;   // the queue became empty
        std::condition_variable space;  // a chunk left the queue (WhenFull::Wait)
        std::deque<Chunk> queue;
        std::size_t queued_bytes = 0;
        bool writing = false;  // the thread holds a chunk outside the queue
        std::uint64_t writing_rows = 0;
        bool stop = false;
        State state = State::Open;
        int error = 0;
        std::uint64_t unwritten = 0;
        std::uint64_t reported = 0;
    };
    static void run(const std::shared_ptr<Shared>& s);
    static void drop_queue(Shared& s);

    std::shared_ptr<Shared> s_;
    std::thread thread_;
};

}  // namespace sstrace
