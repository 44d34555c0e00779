// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/wall_time.hpp"

#include <cctype>
#include <ctime>

namespace sstrace {

namespace {

constexpr std::int64_t kSec = 1000000000;

// Reads exactly `digits` decimal digits.
bool take_number(std::string_view& s, std::size_t digits, int& out)
{
    if (s.size() < digits) {
        return false;
    }
    int v = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    s.remove_prefix(digits);
    return true;
}

bool take(std::string_view& s, char c)
{
    if (s.empty() || s.front() != c) {
        return false;
    }
    s.remove_prefix(1);
    return true;
}

// ".123456789": up to nine digits of a second.
bool take_fraction(std::string_view& s, std::int64_t& ns)
{
    ns = 0;
    if (!take(s, '.')) {
        return true;
    }
    std::int64_t scale = kSec / 10;
    std::size_t n = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
        if (n++ < 9) {
            ns += (s.front() - '0') * scale;
            scale /= 10;
        }
        s.remove_prefix(1);
    }
    return n != 0;
}

// "HH:MM[:SS[.frac]]"
bool take_time(std::string_view& s, int& h, int& m, int& sec, std::int64_t& frac)
{
    sec = 0;
    frac = 0;
    if (!take_number(s, 2, h) || !take(s, ':') || !take_number(s, 2, m) || h > 23 || m > 59) {
        return false;
    }
    if (take(s, ':')) {
        if (!take_number(s, 2, sec) || sec > 60 || !take_fraction(s, frac)) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<WallTime> parse_wall_time(std::string_view s)
{
    WallTime out;
    if (take(s, '@')) {
        int sign = 1;
        if (take(s, '-')) {
            sign = -1;
        }
        std::int64_t secs = 0;
        std::size_t n = 0;
        while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
            if (secs > INT64_MAX / kSec / 10) {
                return std::nullopt;
            }
            secs = secs * 10 + (s.front() - '0');
            s.remove_prefix(1);
            ++n;
        }
        std::int64_t frac = 0;
        if (n == 0 || !take_fraction(s, frac) || !s.empty()) {
            return std::nullopt;
        }
        out.epoch_ns = sign * (secs * kSec + frac);
        return out;
    }
    int h = 0;
    int m = 0;
    int sec = 0;
    std::int64_t frac = 0;
    if (s.size() >= 3 && s[2] == ':') {
        if (!take_time(s, h, m, sec, frac) || !s.empty()) {
            return std::nullopt;
        }
        out.day_ns = (std::int64_t{h} * 3600 + m * 60 + sec) * kSec + frac;
        return out;
    }
    int year = 0;
    int mon = 0;
    int day = 0;
    if (!take_number(s, 4, year) || !take(s, '-') || !take_number(s, 2, mon) || !take(s, '-') ||
        !take_number(s, 2, day) || mon < 1 || mon > 12 || day < 1 || day > 31) {
        return std::nullopt;
    }
    if (!s.empty() && !take(s, 'T') && !take(s, ' ')) {
        return std::nullopt;
    }
    if (!s.empty() && !take_time(s, h, m, sec, frac)) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    std::time_t t = 0;
    if (s.empty()) {
        tm.tm_isdst = -1;
        t = std::mktime(&tm);
    } else if (take(s, 'Z') || take(s, 'z')) {
        if (!s.empty()) {
            return std::nullopt;
        }
        t = timegm(&tm);
    } else {
        const int sign = take(s, '+') ? 1 : take(s, '-') ? -1 : 0;
        int oh = 0;
        int om = 0;
        if (sign == 0 || !take_number(s, 2, oh)) {
            return std::nullopt;
        }
        take(s, ':');
        if (!s.empty() && !take_number(s, 2, om)) {
            return std::nullopt;
        }
        if (!s.empty() || oh > 23 || om > 59) {
            return std::nullopt;
        }
        t = timegm(&tm) - sign * (oh * 3600 + om * 60);
    }
    out.epoch_ns = std::int64_t{t} * kSec + frac;
    return out;
}

std::int64_t resolve_wall_time(const WallTime& t, std::int64_t reference_ns)
{
    if (t.epoch_ns) {
        return *t.epoch_ns;
    }
    const std::time_t ref = static_cast<std::time_t>(reference_ns / kSec);
    std::tm tm{};
    localtime_r(&ref, &tm);
    tm.tm_hour = 0;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    const std::time_t midnight = std::mktime(&tm);
    // seconds of the day on the clock, across a DST change too: mktime normalises them
    std::tm at{};
    localtime_r(&midnight, &at);
    at.tm_sec += static_cast<int>(t.day_ns / kSec);
    at.tm_isdst = -1;
    return std::int64_t{std::mktime(&at)} * kSec + t.day_ns % kSec;
}

}  // namespace sstrace
