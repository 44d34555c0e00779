// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/options.hpp"

#include "sstrace/core/error.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/ss/messages.hpp"
#include "sstrace/ss/usage.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#ifndef SSTRACE_VERSION
#define SSTRACE_VERSION "0.0.0"
#endif

namespace sstrace {

std::string version_text()
{
    return fmt::format("sstrace {} (ss utility compatible with iproute2-6.1.0)\n", SSTRACE_VERSION);
}

std::string help_text()
{
    // ss's own option list (the usage text ss prints), under sstrace's usage lines, then the
    // options only sstrace has.
    std::string ss_usage = ss_usage_text();
    const auto first_option = ss_usage.find("   -h, --help");
    return R"(Usage: sstrace [ OPTIONS ]
       sstrace [ OPTIONS ] [ FILTER ]
       sstrace -E [ OPTIONS ] [ state STATE ... ] [ exclude STATE ... ] [ EXPRESSION ]

ss options (same letters, same meaning as iproute2 ss 6.1; with -E, --events also follows
sockets entering the states the state words name):
)" + ss_usage.substr(first_option) +
           R"(
sstrace options (event streams, -E):
       --all-netns     events of every network namespace, with a Netns column (default:
                       sstrace's own namespace, or the one -N names)
       --timestamp     prefix every event row with its wall-clock time (HH:MM:SS.uuuuuu)
       --transitions   show the state left and the state entered (FIN-WAIT-2 -> TIME-WAIT)
   -c, --count=N       stop after N event rows
       --duration=SEC  stop after SEC seconds
       --ring-size=MiB BPF ring buffer size (power of two, default 8)
       --bpf-variant=V auto (tp_btf, falling back to classic tracepoints), tp_btf, or
                       tracepoint (mounts tracefs for the attach if it is not mounted)
   -v, --verbose       more diagnostics on stderr (repeat: -vv debug, -vvv libbpf debug)

Event streams: `sstrace -E` prints one row per destroyed TCP socket, like ss -E.
`sstrace -E state STATE ... [EXPRESSION]` prints one row per TCP socket entering one of
those states. The EXPRESSION (and -F FILE) is ss's filter language; it runs in the kernel
when it compiles to inet_diag bytecode (not with dev), and every row is checked again.
A TIME-WAIT row means the kernel handed the connection to a timewait socket (what the
TcpExtTW counter counts); no row is printed when tcp_max_tw_buckets left it none. Lost events
are counted in the kernel and reported on stderr; sstrace keeps running.

Exit status:
   0    success
   1    runtime failure (netlink, BPF attach, output), or a filter operand error (as ss)
   2    an ss option or mode that sstrace does not implement yet
   3    insufficient privileges (needs root, or CAP_BPF + CAP_PERFMON)
   4    the kernel lacks a required feature (BTF, tracepoints)
   5    the BPF programs failed to load (run with -v for the verifier's reason)
   255  bad options or arguments, or a filter syntax error (as ss)
)";
}

ParseResult parse_command_line(int argc, const char* const* argv)
{
    ParseResult res;
    Options& o = res.options;
    CLI::App app{"sstrace", "sstrace"};
    app.set_help_flag();  // -h is ours: ss's usage text goes to stdout
    app.allow_windows_style_options(false);
    app.positionals_at_end(false);

    app.add_flag("-h,--help", o.show_help);
    app.add_flag("-V,--version", o.show_version);
    app.add_flag("-v,--verbose", o.verbosity);
    app.add_flag("-n,--numeric", o.numeric);
    app.add_flag("-r,--resolve", o.resolve);
    app.add_flag("-o,--options", o.timers);
    app.add_flag("-e,--extended", o.extended);
    app.add_flag("-m,--memory", o.memory);
    app.add_flag("-p,--processes", o.processes);
    app.add_flag("-T,--threads", o.threads);
    app.add_flag("-i,--info", o.info);
    app.add_flag("--tipcinfo", o.tipcinfo);
    app.add_flag("-s,--summary", o.summary);
    app.add_flag("--tos", o.tos);
    app.add_flag("--cgroup", o.cgroup);
    app.add_flag("-b,--bpf", o.bpf);
    app.add_flag("-E,--events", o.events);
    app.add_flag("-Z,--context", o.context);
    app.add_flag("-z,--contexts", o.contexts);
    app.add_flag("-H,--no-header", o.no_header);
    app.add_flag("-O,--oneline", o.oneline);
    app.add_flag("--inet-sockopt", o.inet_sockopt);
    app.add_flag("-K,--kill", o.kill);
    app.add_option("-N,--net", o.netns);
    app.add_option("-D,--diag", o.diag_file);
    std::vector<std::string> filter_files;
    app.add_option("-F,--filter", filter_files)->take_all()->allow_extra_args(false);

    // Order-sensitive selection options: recorded in parse order below.
    std::vector<std::pair<CLI::Option*, std::string>> selectors;
    auto sel_flag = [&](const char* names, const char* token) {
        selectors.emplace_back(app.add_flag(names)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll),
                               token);
    };
    sel_flag("-a,--all", "-a");
    sel_flag("-l,--listening", "-l");
    sel_flag("-t,--tcp", "-t");
    sel_flag("-u,--udp", "-u");
    sel_flag("-d,--dccp", "-d");
    sel_flag("-w,--raw", "-w");
    sel_flag("-x,--unix", "-x");
    sel_flag("-S,--sctp", "-S");
    sel_flag("-M,--mptcp", "-M");
    sel_flag("-0,--packet", "-0");
    sel_flag("-4,--ipv4", "-4");
    sel_flag("-6,--ipv6", "-6");
    sel_flag("--vsock", "--vsock");
    sel_flag("--tipc", "--tipc");
    sel_flag("--xdp", "--xdp");
    std::vector<std::string> families;
    std::vector<std::string> queries;
    CLI::Option* fam = app.add_option("-f,--family", families)->take_all()->allow_extra_args(false);
    CLI::Option* query = app.add_option("-A,--query,--socket", queries)->take_all()->allow_extra_args(false);

    app.add_flag("--all-netns", o.all_netns);
    app.add_flag("--timestamp", o.timestamp);
    app.add_flag("--transitions", o.transitions);
    std::uint64_t count = 0;
    CLI::Option* count_opt = app.add_option("-c,--count", count)->check(CLI::PositiveNumber);
    double duration = 0;
    CLI::Option* dur_opt = app.add_option("--duration", duration)->check(CLI::PositiveNumber);
    app.add_option("--ring-size", o.ring_mb)->check(CLI::Range(1u, 1024u));
    app.add_option("--bpf-variant", o.bpf_variant)
        ->check(CLI::IsMember({"auto", "tp_btf", "tracepoint"}));
    app.add_option("FILTER", o.filter_words);

    // CLI11 2.1 reads a value written `[...]` as a list: it strips the brackets and splits at
    // commas, so `src [::1]` would reach the filter as `src ::1`. Words starting with '[' get
    // a marker CLI11 leaves alone, removed again below.
    constexpr char kShield = '\x1f';
    std::vector<std::string> shielded(argv, argv + argc);
    std::vector<const char*> args;
    for (std::string& a : shielded) {
        if (!a.empty() && a.front() == '[') {
            a.insert(a.begin(), kShield);
        }
        args.push_back(a.c_str());
    }
    auto unshield = [&](std::string& v) {
        if (!v.empty() && v.front() == kShield) {
            v.erase(v.begin());
        }
    };
    try {
        app.parse(argc, args.data());
        for (auto* list : {&o.filter_words, &families, &queries, &filter_files}) {
            std::for_each(list->begin(), list->end(), unshield);
        }
        unshield(o.netns);
        unshield(o.diag_file);
    } catch (const CLI::ParseError& e) {
        res.exit_code = kExitUsage;
        // An option ss does not know either: ss's getopt wording and usage text.
        if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
            const std::string what = e.what();
            constexpr std::string_view kFlags = "dhaletuwxnro460spTbEmMivVzZKHSO";
            constexpr std::string_view kWithArg = "fADFNc";
            std::string bad_message;
            for (int i = 1; i < argc && bad_message.empty(); ++i) {
                const std::string_view arg = argv[i];
                if (arg.size() > 2 && arg.substr(0, 2) == "--") {
                    const std::string_view name = arg.substr(0, arg.find('='));
                    if (what.find(std::string(name)) != std::string::npos) {
                        bad_message = fmt::format("{}: unrecognized option '{}'", program_name(), name);
                    }
                    continue;
                }
                if (arg.size() < 2 || arg[0] != '-') {
                    continue;
                }
                for (std::size_t k = 1; k < arg.size(); ++k) {
                    if (kWithArg.find(arg[k]) != std::string_view::npos) {
                        if (k + 1 == arg.size()) {
                            ++i;  // the option's value is the next word
                        }
                        break;
                    }
                    if (kFlags.find(arg[k]) == std::string_view::npos) {
                        bad_message = fmt::format("{}: invalid option -- '{}'", program_name(), arg[k]);
                        break;
                    }
                }
            }
            if (!bad_message.empty()) {
                std::string usage = ss_usage_text();
                if (!usage.empty() && usage.back() == '\n') {
                    usage.pop_back();  // the caller adds the newline
                }
                res.message = bad_message + "\n" + usage;
                return res;
            }
        }
        res.message = fmt::format("{0}: {1}\nTry '{0} --help' for more information.",
                                  program_name(), e.what());
        return res;
    }

    if (filter_files.size() > 1) {
        res.exit_code = kExitUsage;
        res.message = ss_text::kMoreThanOneFilterFile;
        return res;
    }
    if (!filter_files.empty()) {
        o.filter_file = filter_files.front();
    }

    // Rebuild the order in which selection options appeared.
    std::size_t fam_i = 0;
    std::size_t query_i = 0;
    for (CLI::Option* opt : app.parse_order()) {
        if (opt == fam) {
            o.selection.push_back("-f " + families.at(fam_i++));
        } else if (opt == query) {
            o.selection.push_back("-A " + queries.at(query_i++));
        } else {
            for (const auto& [sel, token] : selectors) {
                if (sel == opt) {
                    o.selection.push_back(token);
                }
            }
        }
    }
    for (const auto& token : o.selection) {
        if (token == "-a") {
            o.all = true;
        } else if (token == "-l") {
            o.listening = true;
        }
    }
    if (o.extended || o.bpf) {
        o.timers = true;  // as in ss: -e and -b imply -o
    }
    if (count_opt->count() > 0) {
        o.count = count;
    }
    if (dur_opt->count() > 0) {
        o.duration = duration;
    }
    if ((o.ring_mb & (o.ring_mb - 1)) != 0) {
        res.exit_code = kExitUsage;
        res.message = fmt::format("{}: --ring-size must be a power of two (MiB)", program_name());
    }
    return res;
}

}  // namespace sstrace
