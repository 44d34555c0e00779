// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/model/inet_addr.hpp"

#include <sys/socket.h>

#include <algorithm>

namespace sstrace {

bool InetAddr::is_unspecified() const
{
    const std::size_t n = family == AF_INET ? 4 : 16;
    return std::all_of(bytes, bytes + n, [](std::uint8_t b) { return b == 0; });
}

}  // namespace sstrace
