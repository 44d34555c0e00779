// SPDX-License-Identifier: GPL-2.0-only
// ss's own words for the errors and notes of a listing, where more than one file prints them.
// Where ss names itself, they name the program as it was invoked (program_name()).
#pragma once

#include "sstrace/core/program.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace sstrace::ss_text {

// A second -F (exit 255).
inline constexpr std::string_view kMoreThanOneFilterFile = "More than one filter file";
// -Z, -z (exit 1).
inline std::string selinux_disabled()
{
    return fmt::format("{}: SELinux is not enabled.\n", program_name());
}
// -D without the TCP table (exit 0).
inline std::string tcpdiag_without_tcp()
{
    return fmt::format("{}: tcpdiag dump requested and no tcp in filter.\n", program_name());
}
// The cgroup2 mount is needed to name cgroup ids (-e, --cgroup).
inline constexpr std::string_view kNoCgroup2Mount = "Failed to find cgroup2 mount\n";

// A sock_diag dump the kernel refused; `err` is a negative errno.
inline std::string rtnetlink_answers(int err)
{
    return fmt::format("RTNETLINK answers: {}\n", std::strerror(-err));
}

// A socket -K could not destroy; `err` is a negative errno.
inline std::string sock_destroy_answers(int err)
{
    return fmt::format("SOCK_DESTROY answers: {}\n", std::strerror(-err));
}

// Writes `text` as it is (stderr by default).
inline void put(std::string_view text, std::FILE* to = stderr)
{
    std::fwrite(text.data(), 1, text.size(), to);
}

}  // namespace sstrace::ss_text
