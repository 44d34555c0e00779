// SPDX-License-Identifier: GPL-2.0-only
// Whole-string integer parsing for kernel text (/proc tables, readlink targets).
#pragma once

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
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

// The whole of a small kernel text file (/proc, /sys), read with read(2): no iostreams, whose
// first use builds the locale (dozens of facets) at a listing's start. nullopt when it cannot be
// opened or read.
std::optional<std::string> read_small_file(const std::string& path);

// The next whitespace-separated word of `rest`, taken off its front ("" at its end).
inline std::string_view next_word(std::string_view& rest)
{
    constexpr std::string_view kSpace = " \t\n";
    rest.remove_prefix(std::min(rest.find_first_not_of(kSpace), rest.size()));
    const std::size_t end = std::min(rest.find_first_of(kSpace), rest.size());
    const std::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    return word;
}

// The whitespace-separated words of `text`, each as a number in turn: "32768\t60999\n" -> 32768
// then 60999. Stops at the first word that is not a number.
template <typename T>
class NumberWords {
public:
    explicit NumberWords(std::string_view text) : rest_(text) {}

    std::optional<T> next()
    {
        const std::string_view word = next_word(rest_);
        if (word.empty()) {
            return std::nullopt;
        }
        return parse_number<T>(word);
    }

private:
    std::string_view rest_;
};

}  // namespace sstrace
