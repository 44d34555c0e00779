// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/port_range.hpp"

#include <fstream>

namespace sstrace {

std::optional<std::pair<unsigned, unsigned>> read_ephemeral_range(const std::string& path)
{
    std::ifstream in(path);
    unsigned lo = 0;
    unsigned hi = 0;
    if (!(in >> lo >> hi) || lo > hi) {
        return std::nullopt;
    }
    return std::make_pair(lo, hi);
}

}  // namespace sstrace
