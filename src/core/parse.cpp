// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/core/parse.hpp"

#include "sstrace/core/unique.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace sstrace {

std::optional<std::string> read_small_file(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        return std::nullopt;
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return std::nullopt;
        }
        if (n == 0) {
            return out;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace sstrace
