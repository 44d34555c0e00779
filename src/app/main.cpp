// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/app.hpp"
#include "sstrace/core/program.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace {

// Descriptors 0-2 closed by the caller (`sstrace >&-`) would be taken by sstrace's own files and
// sockets, and rows would go to one of them. Closed stdin or stderr get /dev/null; a closed
// stdout is an error: rows would have nowhere to go.
bool standard_fds_open()
{
    for (int fd = 0; fd <= 2; ++fd) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) {
            continue;
        }
        const int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (got != fd) {
            return false;
        }
        if (fd == 1) {
            fmt::print(stderr,
                       "{}: stdout is closed (rows need somewhere to go: redirect it, e.g. "
                       "> FILE or > /dev/null)\n",
                       sstrace::program_name());
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    sstrace::set_program_name(argc > 0 && argv[0] != nullptr ? argv[0] : "");
    if (!standard_fds_open()) {
        return 1;
    }
    return sstrace::run_main(argc, argv);
}
