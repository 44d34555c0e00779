// SPDX-License-Identifier: GPL-2.0-only
// CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns(), so event times and userspace
// times compare directly.
#pragma once

#include <time.h>

#include <cstdint>

namespace sstrace {

inline std::uint64_t monotonic_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace sstrace
