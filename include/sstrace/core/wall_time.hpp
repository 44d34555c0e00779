// SPDX-License-Identifier: GPL-2.0-only
// Wall-clock times as a user writes them (--since, --until): a date and a time, a time of day,
// or seconds since the epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sstrace {

struct WallTime {
    std::optional<std::int64_t> epoch_ns;  // set: an instant (a date was given, or @SECONDS)
    std::int64_t day_ns = 0;               // else: a local time of day, ns after midnight
};

// "2024-05-01 03:10", "2024-05-01T03:10:00.5", with "Z" or "+02:00" (else local time),
// "2024-05-01" (local midnight), "03:10", "03:10:07.250" (a time of day), "@1714533000.5".
std::optional<WallTime> parse_wall_time(std::string_view text);

// Nanoseconds since the epoch. A time of day is taken on the local day of `reference_ns`.
std::int64_t resolve_wall_time(const WallTime& t, std::int64_t reference_ns);

}  // namespace sstrace
