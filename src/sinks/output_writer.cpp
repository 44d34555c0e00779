// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/output_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace sstrace {

OutputWriter::OutputWriter(int fd, std::size_t max_queued) : s_(std::make_shared<Shared>())
{
    s_->fd = fd;
    s_->max_queued = max_queued;
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

void OutputWriter::push(std::string& chunk, std::uint64_t rows, std::uint64_t header_lines)
{
    if (chunk.empty()) {
        return;
    }
    {
        std::lock_guard lock(s_->mu);
        if (s_->state != State::Open || s_->stop ||
            s_->queued_bytes + chunk.size() > s_->max_queued) {
            s_->unwritten += rows;
        } else {
            s_->queued_bytes += chunk.size();
            s_->queue.push_back(Chunk{std::move(chunk), rows, header_lines});
            s_->wake.notify_one();
        }
    }
    chunk.clear();
}

void OutputWriter::run(const std::shared_ptr<Shared>& sp)
{
    Shared& s = *sp;
    std::unique_lock lock(s.mu);
    for (;;) {
        s.wake.wait(lock, [&s] { return s.stop || !s.queue.empty(); });
        if (s.queue.empty()) {
            break;  // stopping, and nothing left
        }
        Chunk c = std::move(s.queue.front());
        s.queue.pop_front();
        s.queued_bytes -= c.bytes.size();
        s.writing = true;
        s.writing_rows = c.rows;
        lock.unlock();

        std::size_t off = 0;
        int err = 0;
        while (off < c.bytes.size()) {
            const ssize_t n = ::write(s.fd, c.bytes.data() + off, c.bytes.size() - off);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                err = errno;
                break;
            }
            off += static_cast<std::size_t>(n);
        }

        lock.lock();
        if (!s.writing) {
            break;  // finish() gave up on this write and counted its rows
        }
        s.writing = false;
        if (err != 0) {
            // this chunk did not get out in full, and nothing after it will
            s.state = err == EPIPE ? State::ReaderGone : State::Failed;
            s.error = err;
            // whole rows that got out before the error count as written
            const auto lines = static_cast<std::uint64_t>(
                std::count(c.bytes.begin(), c.bytes.begin() + static_cast<std::ptrdiff_t>(off), '\n'));
            const std::uint64_t done = lines > c.header_lines ? lines - c.header_lines : 0;
            s.unwritten += c.rows - std::min(c.rows, done);
            drop_queue(s);
        }
        if (s.queue.empty()) {
            s.idle.notify_all();
        }
        if (s.state != State::Open) {
            break;
        }
    }
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
