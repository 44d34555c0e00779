// SPDX-License-Identifier: GPL-2.0-only
// The command line: every ss option with ss's meaning, plus sstrace's own.
#pragma once

#include "sstrace/ss/selection.hpp"

#include <cstdint>
#include <optional>
#include <string>
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
    std::optional<std::uint64_t> count;  // -c N
    std::optional<double> duration;      // --duration SECONDS
    unsigned ring_mb = 8;          // --ring-size MiB
    std::string bpf_variant = "auto";  // --bpf-variant auto|tp_btf|tracepoint
    bool show_help = false;
    bool show_version = false;
};

struct ParseResult {
    Options options;
    int exit_code = 0;       // non-zero: stop with this code after printing `message`
    std::string message;     // for stderr
};

ParseResult parse_command_line(int argc, const char* const* argv);

// ss's selection from the command line's selection options and FILTER words.
inline SelectionResult build_selection(const Options& o)
{
    return build_selection(o.selection, o.filter_words);
}

// The --help text (stdout).
std::string help_text();

// `sstrace -V`.
std::string version_text();

}  // namespace sstrace
