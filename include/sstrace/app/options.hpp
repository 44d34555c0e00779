// SPDX-License-Identifier: GPL-2.0-only
// The command line: every ss option with ss's meaning, plus sstrace's own.
#pragma once

#include "sstrace/core/wall_time.hpp"
#include "sstrace/ss/selection.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace {

struct Options {
    // ss display options
    bool numeric = false;       // -n
    bool resolve = false;       // -r
    bool all = false;           // -a
    bool listening = false;     // -l
    bool timers = false;        // -o (also set by -e and -b)
    bool extended = false;      // -e
    bool memory = false;        // -m
    bool processes = false;     // -p
    bool threads = false;       // -T
    bool info = false;          // -i
    bool tipcinfo = false;      // --tipcinfo
    bool summary = false;       // -s
    bool tos = false;           // --tos
    bool cgroup = false;        // --cgroup
    bool bpf = false;           // -b
    bool events = false;        // -E
    bool context = false;       // -Z
    bool contexts = false;      // -z
    bool no_header = false;     // -H
    bool oneline = false;       // -O
    bool inet_sockopt = false;  // --inet-sockopt
    bool kill = false;          // -K

    // table and family selection, kept in command-line order because ss applies it in order:
    // "-t", "-u", "-d", "-w", "-x", "-S", "-M", "-0", "-4", "-6", "--vsock", "--tipc", "--xdp",
    // "-f FAMILY", "-A QUERY", "-a", "-l".
    std::vector<std::string> selection;

    std::string diag_file;    // -D
    std::string filter_file;  // -F
    std::string netns;        // -N
    std::vector<std::string> filter_words;  // FILTER: state words, then the expression

    int verbosity = 0;  // -v, repeatable

    // sstrace extensions
    bool all_netns = false;        // --all-netns
    bool timestamp = false;        // --timestamp
    bool transitions = false;      // --transitions
    bool watch = false;            // --watch: the listing, then the stream of its changes
    std::optional<std::uint64_t> count;  // -c N
    std::optional<double> duration;      // --duration TIME, in seconds
    unsigned ring_mb = 0;          // --ring-size MiB (a power of two, 1 to 1024); 0: by layout
    std::string bpf_variant = "auto";  // --bpf-variant auto|tp_btf|tracepoint

    // the live summary view (sstrace's own)
    bool top = false;             // --top: sockets per state and the busiest ports, refreshed
    double interval = 1.0;        // --interval SECONDS between refreshes
    bool batch = false;           // --batch: plain text (or --json) reports, no full screen

    // captures and JSON lines (sstrace's own)
    std::string write_file;               // --write FILE ("-": stdout)
    std::vector<std::string> read_files;  // --read FILE, repeatable
    bool print = false;                   // --print: rows too, with --write
    bool json = false;                    // --json: JSON lines instead of rows
    std::optional<std::uint64_t> rotate_size;     // --rotate-size SIZE, in bytes
    std::optional<std::uint64_t> rotate_seconds;  // --rotate-seconds N
    std::optional<std::uint32_t> rotate_count;    // --rotate-count N
    std::string post_rotate;                      // --post-rotate CMD
    std::optional<WallTime> since;                // --since TIME
    std::optional<WallTime> until;                // --until TIME
    // --metrics [ADDR:]PORT: the Prometheus endpoint (checked by parse_metrics_endpoint());
    // without -E it runs a stream that prints no rows
    std::string metrics;
    std::string user;  // --user NAME: the user a live stream runs as once it is set up
    bool bpf_stats = false;  // --bpf-stats: the programs' run time, with --metrics
    std::vector<std::string> argv;  // the command line as given (a capture's header keeps it)
    bool show_help = false;
    bool show_version = false;
    bool check_kernel = false;  // --check-kernel
};

struct ParseResult {
    Options options;
    int exit_code = 0;       // non-zero: stop with this code after printing `message`
    std::string message;     // for stderr, one line (no newline)
    bool usage = false;      // the usage text follows the message (usage_error())
};

// Reads argv as ss's getopt_long does (clusters, attached or separate values, abbreviations of
// long options, FILTER words anywhere, `--`), with ss's words for its errors, and checks
// sstrace's own options: their values, and that they are used where they mean something.
// -h, -V and `-f help` end the parse where they stand, as in ss.
ParseResult parse_command_line(int argc, const char* const* argv);

// A live stream runs: -E, --metrics (which without -E prints no rows), or --top (a view).
inline bool live_stream(const Options& o) { return o.events || !o.metrics.empty() || o.top; }

// ss's selection from the command line's selection options and FILTER words.
inline SelectionResult build_selection(const Options& o)
{
    return build_selection(o.selection, o.filter_words);
}

// The usage text, the same wherever it is printed: ss's synopsis and option list under the
// program's name as invoked (program_name()), then sstrace's own options for event streams.
// `sstrace --help` prints it too, followed by notes on streams, privileges and exit status.
std::string usage_text();

// Where the usage text goes: after an error, to stderr with exit status 255 (kExitUsage, ss's
// code for bad arguments); when it was asked for (`-f help`), to stdout with exit status 0.
enum class UsageTo { Stderr, Stdout };

// Prints `message` on a line of its own (a newline is added unless it ends with one; an empty
// message prints nothing), then the usage text, to the stream `to` names, and returns the exit
// status to leave with: 255 for UsageTo::Stderr, 0 for UsageTo::Stdout. Every usage error of the
// program goes through here: unknown options and missing or unwanted option values, a bad -f or
// -A, a filter syntax error (ss's bison line, which ends with its own newline).
int usage_error(std::string_view message, UsageTo to = UsageTo::Stderr);

// The --help text (stdout): the usage text, then notes on streams and the exit status.
std::string help_text();

// `sstrace -V`.
std::string version_text();

}  // namespace sstrace
