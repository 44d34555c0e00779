// SPDX-License-Identifier: GPL-2.0-only
#include "tracepoint_hits.hpp"

#include <fmt/format.h>
#include <linux/perf_event.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <linux/magic.h>
#include <sys/vfs.h>

namespace sstrace {

namespace {

constexpr const char* kTracefsDirs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

// A tracepoint's perf id, from tracefs (0: not found).
std::uint64_t tracepoint_id(const char* system, const char* event)
{
    for (const char* dir : kTracefsDirs) {
        std::ifstream in(fmt::format("{}/events/{}/{}/id", dir, system, event));
        std::uint64_t id = 0;
        if (in >> id) {
            return id;
        }
    }
    return 0;
}

}  // namespace

bool tracefs_mounted()
{
    for (const char* dir : kTracefsDirs) {
        struct statfs fs{};
        if (::statfs(dir, &fs) == 0 && fs.f_type == TRACEFS_MAGIC) {
            return true;
        }
    }
    return false;
}

// /sys/devices/system/cpu/online ("0-1", "0,2-5"); empty when it cannot be read.
std::vector<int> online_cpus()
{
    std::vector<int> cpus;
    std::ifstream in("/sys/devices/system/cpu/online");
    std::string list;
    std::getline(in, list);
    std::size_t at = 0;
    while (at < list.size()) {
        const std::size_t comma = list.find(',', at);
        const std::string part = list.substr(at, comma == std::string::npos ? std::string::npos
                                                                           : comma - at);
        const std::size_t dash = part.find('-');
        try {
            const int lo = std::stoi(part.substr(0, dash));
            const int hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
            for (int c = lo; c <= hi; ++c) {
                cpus.push_back(c);
            }
        } catch (const std::exception&) {
            return {};
        }
        if (comma == std::string::npos) {
            break;
        }
        at = comma + 1;
    }
    return cpus;
}

TracefsMount::TracefsMount()
{
    if (tracefs_mounted()) {
        return;
    }
    if (::mount("nodev", kTracefsDirs[0], "tracefs", 0, nullptr) != 0) {
        spdlog::info("cannot mount tracefs on {}: {}", kTracefsDirs[0], std::strerror(errno));
        return;
    }
    mounted_ = true;
    spdlog::debug("mounted tracefs on {}", kTracefsDirs[0]);
}

TracefsMount::~TracefsMount()
{
    if (mounted_ && ::umount(kTracefsDirs[0]) != 0) {
        spdlog::debug("umount {}: {}", kTracefsDirs[0], std::strerror(errno));
    }
}

std::optional<TracepointHits> TracepointHits::open(const char* system, const char* event)
{
    const std::uint64_t id = tracepoint_id(system, event);
    if (id == 0) {
        spdlog::warn("cannot read the id of tracepoint {}:{} in tracefs (root, or CAP_SYS_ADMIN "
                     "and CAP_DAC_READ_SEARCH): hits the kernel runs no program for are not "
                     "counted", system, event);
        return std::nullopt;
    }
    TracepointHits hits;
    for (const int cpu : online_cpus()) {
        perf_event_attr attr{};
        attr.type = PERF_TYPE_TRACEPOINT;
        attr.size = sizeof(attr);
        attr.config = id;
        attr.disabled = 1;
        const long fd = ::syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            spdlog::warn("perf_event_open on {}:{} (CPU {}): {}: hits the kernel runs no program "
                         "for are not counted", system, event, cpu, std::strerror(errno));
            return std::nullopt;
        }
        hits.fds_.emplace_back(static_cast<int>(fd));
    }
    if (hits.fds_.empty()) {
        return std::nullopt;
    }
    return hits;
}

void TracepointHits::enable()
{
    for (const auto& fd : fds_) {
        ::ioctl(fd.get(), PERF_EVENT_IOC_ENABLE, 0);
    }
}

std::uint64_t TracepointHits::read() const
{
    std::uint64_t sum = 0;
    for (const auto& fd : fds_) {
        std::uint64_t n = 0;
        if (::read(fd.get(), &n, sizeof(n)) == static_cast<ssize_t>(sizeof(n))) {
            sum += n;
        }
    }
    return sum;
}

}  // namespace sstrace
