// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/mib.hpp"

#include "sstrace/core/parse.hpp"

#include "sstrace/core/clock.hpp"
#include "sstrace/core/unique.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

namespace sstrace {

namespace {

std::map<std::string, std::int64_t> parse_mib(const std::string& text)
{
    std::map<std::string, std::int64_t> out;
    std::istringstream in(text);
    std::string names;
    std::string values;
    while (std::getline(in, names) && std::getline(in, values)) {
        std::istringstream ns(names);
        std::istringstream vs(values);
        std::string prefix;
        std::string vprefix;
        ns >> prefix;
        vs >> vprefix;
        if (prefix != vprefix || prefix.empty() || prefix.back() != ':') {
            continue;
        }
        prefix.pop_back();
        std::string name;
        std::string value;
        while (ns >> name && vs >> value) {
            if (const auto v = parse_number<std::int64_t>(value)) {
                out[prefix + name] = *v;
            }
        }
    }
    return out;
}

}  // namespace

MibRead read_mib_counters_timed(const std::string& path)
{
    MibRead r;
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return r;
    }
    // the kernel makes the whole text (a few KiB) in the first read(): its time is the read's
    std::string text;
    char buf[16384];
    std::uint64_t before = 0;
    std::uint64_t after = 0;
    for (;;) {
        const std::uint64_t t = monotonic_ns();
        const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (after == 0) {
            before = t;
            after = monotonic_ns();
        }
        if (n < 0) {
            return r;
        }
        if (n == 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    r.counters = parse_mib(text);
    r.begin_ns = before;
    r.end_ns = after;
    return r;
}

std::map<std::string, std::int64_t> read_mib_counters(const std::string& path)
{
    return read_mib_counters_timed(path).counters;
}

}  // namespace sstrace
