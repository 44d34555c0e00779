// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/port_range.hpp"

#include "sstrace/core/parse.hpp"

namespace sstrace {

std::optional<std::pair<unsigned, unsigned>> read_ephemeral_range(const std::string& path)
{
    const std::optional<std::string> text = read_small_file(path);
    if (!text) {
        return std::nullopt;
    }
    NumberWords<unsigned> words(*text);
    const std::optional<unsigned> lo = words.next();
    const std::optional<unsigned> hi = words.next();
    if (!lo || !hi || *lo > *hi) {
        return std::nullopt;
    }
    return std::make_pair(*lo, *hi);
}

}  // namespace sstrace
