// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/app.hpp"

#include "sstrace/app/listing.hpp"
#include "sstrace/app/log.hpp"
#include "sstrace/core/env.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/netns.hpp"
#include "sstrace/core/program.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace sstrace {

int run_main(int argc, const char* const* argv)
{
    ParseResult parsed = parse_command_line(argc, argv);
    if (parsed.exit_code != 0) {
        if (parsed.usage) {
            return usage_error(parsed.message);
        }
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
    const Environment env = Environment::from_process();
    setup_logging(opts.verbosity, env.log_level());
    bridge_libbpf_logging();
    try {
        // reading a capture, -N NAME selects that namespace's events by the capture's names
        if (!opts.netns.empty() && opts.read_files.empty()) {
            try {
                enter_named_netns(opts.netns);
            } catch (const Error& e) {
                if (live_stream(opts)) {
                    throw;
                }
                std::fprintf(stderr, "%s\n", e.what());  // ss's own wording, no prefix
                return e.exit_code();
            }
            if (!live_stream(opts) && netns_private_mounts(opts.netns) != 0) {
                return kExitFailure;
            }
        }
        if (live_stream(opts)) {
            return run_event_stream(opts, env);
        }
        if (!opts.read_files.empty()) {
            return run_replay(opts, env);
        }
        return run_listing(opts, env);
    } catch (const Error& e) {
        // one line: what failed, why, and what to do about it
        if (e.hint().empty()) {
            fmt::print(stderr, "{}: {}\n", program_name(), e.what());
        } else {
            fmt::print(stderr, "{}: {} ({})\n", program_name(), e.what(), e.hint());
        }
        return e.exit_code();
    }
}

}  // namespace sstrace
