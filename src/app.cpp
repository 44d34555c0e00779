// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app.hpp"

#include "sstrace/dump.hpp"
#include "sstrace/error.hpp"
#include "sstrace/log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sstrace {

void enter_named_netns(const std::string& name)
{
    const std::string path = "/var/run/netns/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw Error(fmt::format("Cannot open network namespace \"{}\"", name),
                    std::strerror(errno), kExitFailure);
    }
    const int rc = ::setns(fd, CLONE_NEWNET);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        throw Error(fmt::format("setting the network namespace \"{}\" failed", name),
                    std::strerror(err), kExitFailure);
    }
}

std::uint32_t current_netns_inode()
{
    struct stat st{};
    if (::stat("/proc/self/ns/net", &st) != 0) {
        throw Error::from_errno("stat /proc/self/ns/net", errno);
    }
    return static_cast<std::uint32_t>(st.st_ino);
}

int run_main(int argc, const char* const* argv)
{
    ParseResult parsed = parse_command_line(argc, argv);
    if (parsed.exit_code != 0) {
        std::fprintf(stderr, "%s\n", parsed.message.c_str());
        return parsed.exit_code;
    }
    const Options& opts = parsed.options;
    if (opts.show_help) {
        std::fputs(help_text().c_str(), stdout);
        return kExitOk;
    }
    if (opts.show_version) {
        std::fputs(version_text().c_str(), stdout);
        return kExitOk;
    }
    setup_logging(opts.verbosity);
    bridge_libbpf_logging();
    try {
        if (!opts.netns.empty()) {
            try {
                enter_named_netns(opts.netns);
            } catch (const Error& e) {
                if (opts.events) {
                    throw;
                }
                std::fprintf(stderr, "%s\n", e.what());  // ss's own wording, no prefix
                return e.exit_code();
            }
            if (!opts.events && netns_private_mounts(opts.netns) != 0) {
                return kExitFailure;
            }
        }
        if (opts.events) {
            return run_event_stream(opts);
        }
        return run_dump(opts);
    } catch (const Error& e) {
        // one line: what failed, why, and what to do about it
        if (e.hint().empty()) {
            std::fprintf(stderr, "sstrace: %s\n", e.what());
        } else {
            std::fprintf(stderr, "sstrace: %s (%s)\n", e.what(), e.hint().c_str());
        }
        return e.exit_code();
    }
}

}  // namespace sstrace
