// SPDX-License-Identifier: GPL-2.0-only
// One thread's event loop: epoll over registered descriptors, timers and the stop signals.
// Adding a source, a sink's descriptor or a periodic job is one registration.
#pragma once

#include "sstrace/core/unique.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace sstrace {

class EventLoop {
public:
    using Handler = std::function<void()>;

    // Blocks SIGINT, SIGTERM and SIGHUP in this thread (and every thread started after it) and
    // watches them: the first one calls the signal handler (by default: stop), and restores
    // their default action, so that a second one ends the process at once.
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Calls `on_readable` when `fd` is readable.
    void watch(int fd, Handler on_readable);
    // Calls `on_error` when `fd` reports an error or a hang-up (a pipe's write end whose reader
    // has gone). false when the descriptor cannot be polled (a regular file, a terminal).
    bool watch_errors(int fd, Handler on_error);
    // Calls `job` every `interval`, the first time after one interval.
    void every(std::chrono::nanoseconds interval, Handler job);
    // Calls `job` once, after `delay`.
    void after(std::chrono::nanoseconds delay, Handler job);
    // Called after the handlers of every wake-up (the place to drain and flush).
    void after_each_wake(Handler job) { after_wake_ = std::move(job); }
    // Replaces the default reaction to the first stop signal (stop()).
    void on_signal(std::function<void(int signo)> handler) { on_signal_ = std::move(handler); }

    // Runs until stop() (called by a handler).
    void run();
    void stop() { running_ = false; }

private:
    struct Watch {
        int fd;
        Handler handler;
        bool timer;  // a timerfd: read its expiration count
    };
    void add(int fd, std::uint32_t events, Handler handler, bool timer);
    void timer(std::chrono::nanoseconds first, std::chrono::nanoseconds interval, Handler job);

    Unique<FdTraits> epoll_;
    Unique<FdTraits> signals_;
    std::vector<Unique<FdTraits>> timers_;
    std::vector<Watch> watches_;
    Handler after_wake_;
    std::function<void(int)> on_signal_;
    bool running_ = false;
};

}  // namespace sstrace
