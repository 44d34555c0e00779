// SPDX-License-Identifier: GPL-2.0-only
// Whole-string integer parsing for kernel text (/proc tables, readlink targets).
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace sstrace {

// The number `text` spells in `base`, all of it; nullopt when empty, malformed or out of range.
template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10)
{
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

}  // namespace sstrace
