// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/output_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace sstrace {

OutputTarget::Result FdTarget::write(std::string_view bytes, std::uint64_t rows,
                                     std::uint64_t header_lines)
{
    std::size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            // whole rows that got out before the error count as written
            const auto lines = static_cast<std::uint64_t>(std::count(
                bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(off), '\n'));
            const std::uint64_t done = lines > header_lines ? lines - header_lines : 0;
            return {errno, std::min(rows, done)};
        }
        off += static_cast<std::size_t>(n);
    }
    return {0, rows};
}

OutputWriter::OutputWriter(int fd, std::size_t max_queued, WhenFull when_full)
    : OutputWriter(std::make_unique<FdTarget>(fd), max_queued, when_full)
{
}

OutputWriter::OutputWriter(std::unique_ptr<OutputTarget> target, std::size_t max_queued,
                           WhenFull when_full)
    : s_(std::make_shared<Shared>())
{
    s_->target = std::move(target);
    s_->max_queued = max_queued;
    s_->when_full = when_full;
    thread_ = std::thread([s = s_] { run(s); });
}

OutputWriter::~OutputWriter()
{
    if (thread_.joinable()) {
        finish(0);
    }
}

void OutputWriter::drop_queue(Shared& s)
{
    for (const Chunk& c : s.queue) {
        s.unwritten += c.rows;
    }
    s.queue.clear();
    s.queued_bytes = 0;
}

bool OutputWriter::push(std::string& chunk, std::uint64_t rows, std::uint64_t header_lines)
{
    if (chunk.empty()) {
        return true;
    }
    bool queued = false;
    {
        std::unique_lock lock(s_->mu);
        if (s_->when_full == WhenFull::Wait) {
            // room for it, or an empty queue for a chunk larger than the bound
            s_->space.wait(lock, [&] {
                return s_->state != State::Open || s_->stop || s_->queue.empty() ||
                       s_->queued_bytes + chunk.size() <= s_->max_queued;
            });
        }
        const bool fits = s_->queued_bytes + chunk.size() <= s_->max_queued ||
                          (s_->when_full == WhenFull::Wait && s_->queue.empty());
        if (s_->state != State::Open || s_->stop || !fits) {
            s_->unwritten += rows;
        } else {
            s_->queued_bytes += chunk.size();
            s_->queue.push_back(Chunk{std::move(chunk), rows, header_lines});
            s_->wake.notify_one();
            queued = true;
        }
    }
    chunk.clear();
    return queued;
}

void OutputWriter::run(const std::shared_ptr<Shared>& sp)
{
    Shared& s = *sp;
    std::unique_lock lock(s.mu);
    bool drained = false;  // stopped with every chunk written
    for (;;) {
        s.wake.wait(lock, [&s] { return s.stop || !s.queue.empty(); });
        if (s.queue.empty()) {
            drained = true;  // stopping, and nothing left
            break;
        }
        Chunk c = std::move(s.queue.front());
        s.queue.pop_front();
        s.queued_bytes -= c.bytes.size();
        s.writing = true;
        s.writing_rows = c.rows;
        s.space.notify_all();
        lock.unlock();

        const OutputTarget::Result r = s.target->write(c.bytes, c.rows, c.header_lines);

        lock.lock();
        if (!s.writing) {
            break;  // finish() gave up on this write and counted its rows
        }
        s.writing = false;
        if (r.error != 0) {
            // this chunk did not get out in full, and nothing after it will
            s.state = r.error == EPIPE ? State::ReaderGone : State::Failed;
            s.error = r.error;
            s.unwritten += c.rows - std::min(c.rows, r.rows_written);
            drop_queue(s);
        }
        if (s.queue.empty()) {
            s.idle.notify_all();
        }
        if (s.state != State::Open) {
            break;
        }
    }
    if (drained && s.state == State::Open) {
        // stopping after the last chunk: the target ends its output (a capture's end record)
        lock.unlock();
        const int err = s.target->close();
        lock.lock();
        if (err != 0) {
            s.state = State::Failed;
            s.error = err;
        }
    }
    s.space.notify_all();
    s.idle.notify_all();
}

OutputWriter::State OutputWriter::finish(int timeout_ms)
{
    std::unique_lock lock(s_->mu);
    s_->idle.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
        return (s_->queue.empty() && !s_->writing) || s_->state != State::Open;
    });
    s_->stop = true;
    drop_queue(*s_);  // what could not be written in time
    s_->wake.notify_one();
    s_->space.notify_all();
    const bool stuck = s_->writing;
    if (stuck) {
        s_->unwritten += s_->writing_rows;  // it may never get out
        s_->writing_rows = 0;
    }
    lock.unlock();
    if (thread_.joinable()) {
        if (stuck) {
            // a write() blocked on a stalled reader cannot be interrupted: the thread is left
            // to the process's exit (it owns what it uses)
            thread_.detach();
        } else {
            thread_.join();
        }
    }
    return state();
}

OutputWriter::State OutputWriter::state() const
{
    std::lock_guard lock(s_->mu);
    return s_->state;
}

int OutputWriter::error() const
{
    std::lock_guard lock(s_->mu);
    return s_->error;
}

std::uint64_t OutputWriter::unwritten() const
{
    std::lock_guard lock(s_->mu);
    return s_->unwritten;
}

std::uint64_t OutputWriter::take_new_unwritten()
{
    std::lock_guard lock(s_->mu);
    const std::uint64_t n = s_->unwritten - s_->reported;
    s_->reported = s_->unwritten;
    return n;
}

}  // namespace sstrace
