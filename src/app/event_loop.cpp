// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/event_loop.hpp"

#include "sstrace/core/error.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace sstrace {

namespace {

sigset_t stop_signals()
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    return mask;
}

timespec to_timespec(std::chrono::nanoseconds ns)
{
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
    return ts;
}

}  // namespace

EventLoop::EventLoop() : epoll_(epoll_create1(EPOLL_CLOEXEC))
{
    if (!epoll_) {
        throw Error::from_errno("epoll_create1", errno);
    }
    const sigset_t mask = stop_signals();
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    signals_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_) {
        throw Error::from_errno("signalfd", errno);
    }
    on_signal_ = [this](int) { stop(); };
    add(signals_.get(), EPOLLIN,
        [this] {
            signalfd_siginfo si{};
            if (::read(signals_.get(), &si, sizeof(si)) != static_cast<ssize_t>(sizeof(si))) {
                return;
            }
            // a second signal ends the process at once
            ::signal(SIGINT, SIG_DFL);
            ::signal(SIGTERM, SIG_DFL);
            ::signal(SIGHUP, SIG_DFL);
            const sigset_t m = stop_signals();
            pthread_sigmask(SIG_UNBLOCK, &m, nullptr);
            on_signal_(static_cast<int>(si.ssi_signo));
        },
        false);
}

EventLoop::~EventLoop() = default;

void EventLoop::add(int fd, std::uint32_t events, Handler handler, bool timer)
{
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = watches_.size();
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        throw Error::from_errno("epoll_ctl", errno);
    }
    watches_.push_back(Watch{fd, std::move(handler), timer});
}

void EventLoop::watch(int fd, Handler on_readable) { add(fd, EPOLLIN, std::move(on_readable), false); }

bool EventLoop::watch_errors(int fd, Handler on_error)
{
    epoll_event ev{};
    ev.events = 0;  // EPOLLERR and EPOLLHUP are always reported
    ev.data.u64 = watches_.size();
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        return false;  // EPERM: a regular file or a terminal cannot be polled
    }
    watches_.push_back(Watch{fd, std::move(on_error), false});
    return true;
}

void EventLoop::timer(std::chrono::nanoseconds first, std::chrono::nanoseconds interval,
                      Handler job)
{
    Unique<FdTraits> fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!fd) {
        throw Error::from_errno("timerfd_create", errno);
    }
    itimerspec its{};
    its.it_value = to_timespec(first);
    its.it_interval = to_timespec(interval);
    if (timerfd_settime(fd.get(), 0, &its, nullptr) != 0) {
        throw Error::from_errno("timerfd_settime", errno);
    }
    add(fd.get(), EPOLLIN, std::move(job), true);
    timers_.push_back(std::move(fd));
}

void EventLoop::every(std::chrono::nanoseconds interval, Handler job)
{
    timer(interval, interval, std::move(job));
}

void EventLoop::after(std::chrono::nanoseconds delay, Handler job)
{
    // a zero it_value would disarm the timer
    timer(std::max(delay, std::chrono::nanoseconds(1)), std::chrono::nanoseconds(0),
          std::move(job));
}

void EventLoop::run()
{
    running_ = true;
    std::array<epoll_event, 16> evs{};
    while (running_) {
        const int n = epoll_wait(epoll_.get(), evs.data(), static_cast<int>(evs.size()), -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error::from_errno("epoll_wait", errno);
        }
        for (int i = 0; i < n; ++i) {
            Watch& w = watches_[evs[static_cast<std::size_t>(i)].data.u64];
            if (w.timer) {
                std::uint64_t expirations = 0;
                if (::read(w.fd, &expirations, sizeof(expirations)) < 0) {
                    continue;
                }
            }
            w.handler();
        }
        if (after_wake_) {
            after_wake_();
        }
    }
}

}  // namespace sstrace
