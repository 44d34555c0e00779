// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/options.hpp"

#include "sstrace/app/metrics_server.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/parse.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/core/state.hpp"
#include "sstrace/ss/messages.hpp"
#include "sstrace/ss/usage.hpp"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

#ifndef SSTRACE_VERSION
#define SSTRACE_VERSION "0.0.0"
#endif

namespace sstrace {

std::string version_text()
{
    return fmt::format("sstrace {} (ss utility compatible with iproute2-6.1.0)\n", SSTRACE_VERSION);
}

std::string usage_text()
{
    // ss's option list as ss prints it, under synopsis lines that carry the invoked name.
    const std::string_view ss_text = ss_usage_text();
    const std::string_view ss_options = ss_text.substr(ss_text.find("   -h, --help"));
    return fmt::format(R"(Usage: {0} [ OPTIONS ]
       {0} [ OPTIONS ] [ FILTER ]
{1}
Event streams, sstrace's own options:
       {0} -E [ OPTIONS ] [ state STATE ... ] [ exclude STATE ... ] [ EXPRESSION ]
       --all-netns     events of every network namespace, with a Netns column
       --timestamp     prefix every row with its wall-clock time (HH:MM:SS.uuuuuu)
       --transitions   show the state left and the state entered (needs state words),
                       and sockets leaving the selected states too; the end of a
                       TIME-WAIT is a TIME-WAIT -> (gone) row ending in
                       ended:(expired|early,SECONDS)
       --watch         list the sockets first (as without -E), then every change as a row
   -c, --count=N       stop after N rows
       --duration=TIME stop after TIME: seconds, or with a unit (500ms, 2s, 2m, 1h)
       --ring-size=MiB the record rings' total size (one ring per CPU, each an even
                       share, at least 4096 records), a power of two from 1 to 1024 (default:
                       room for about 16,000 records: 2, 4 with -p or -T, 8 with -o -m -i
                       or --watch)
       --bpf-variant=V auto (tp_btf, falling back to classic tracepoints), tp_btf, or
                       tracepoint (mounts tracefs for the attach if it is not mounted)
   -v, --verbose       more diagnostics on stderr (-vv debug, -vvv libbpf's too); in a
                       listing, which source ran (SSTRACE_LISTING_SOURCE=diag|iter|auto)
       --json          one JSON object per event (or, without -E, per socket); doc/json.md
       --check-kernel  list the kernel features sstrace uses, the first Linux release
                       with each, and whether this kernel has it (exit 4: one that every
                       stream needs is missing)

Metrics, sstrace's own option (doc/metrics.md):
       {0} --metrics [ADDR:]PORT [ -E ... ] [ OPTIONS ] [ EXPRESSION ]
       --metrics=[ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics
                       (text format 0.0.4, or OpenMetrics when the Accept header asks):
                       TCP state entries, TIME-WAIT entries, resets and opens by service
                       port (the 64 busiest, then port="other"), connection lifetimes,
                       losses. ADDR is numeric ([IPV6] in brackets), 127.0.0.1 when not
                       given. With -E or --write the stream runs as usual; alone, no row
                       is printed. The FILTER expression, -4/-6 and --all-netns scope it.
       --user=NAME     once the programs are attached and the outputs open, run as NAME
                       (a user name or number, and its group), keeping only CAP_BPF and
                       CAP_PERFMON (and CAP_SYS_ADMIN with --all-netns, to enter the
                       namespaces): the HTTP endpoint and --post-rotate never run as root.
                       Any stream (-E, --metrics, --top) takes it
       --bpf-stats     with --metrics: export each BPF program's runs and run time
                       (sstrace_bpf_program_run_seconds_total); turns on the kernel's BPF
                       statistics while sstrace runs, which times, and slows a little,
                       every BPF program on the host

Live summary view, sstrace's own options:
       {0} --top [ --interval TIME ] [ --batch [ --json ] ] [ OPTIONS ] [ EXPRESSION ]
       --top           full screen, refreshed: TCP sockets per state now and entries per
                       second, then the busiest service ports by TIME-WAIT entries,
                       resets and new connections. Keys: q quit, s or < > sort, / filter
                       the ports shown (in userspace), arrows PgUp PgDn Home End scroll
       --interval=TIME between refreshes: seconds, or 500ms, 2s (default 1, at least 0.1)
       --batch         the same table as plain text every interval, for a pipe or file;
                       --json: one JSON object per report instead; -c N: N reports

Captures, sstrace's own options (the format: doc/capture.md):
       {0} -E [ OPTIONS ] --write FILE [ --print ] [ state STATE ... ] [ EXPRESSION ]
       {0} --read FILE [ --read FILE ... ] [ OPTIONS ] [ state STATE ... ] [ EXPRESSION ]
       --write=FILE    record the stream's events in FILE (- : stdout), zstd-compressed
       --print         with --write, print the rows (or --json lines) too
       --rotate-size=SIZE     a new file once this many bytes are written (k, M, G)
       --rotate-seconds=N     a new file every N seconds (FILE may hold strftime patterns)
       --rotate-count=N       keep the last N files (with --rotate-size or -seconds)
       --post-rotate=CMD      run CMD FILE on each closed file
       --read=FILE     replay a capture (repeatable; a rotated set by its first name)
                       through the same selection, filter and columns as -E; with
                       --watch (a capture written with --watch, each file starting with
                       the live table): that table as a listing, then the changes
       --since=TIME, --until=TIME  with --read: events in this wall-clock window
                       (03:10, 03:10:07.5, 2024-05-01 03:10, RFC 3339, @EPOCH)
)",
                       program_name(), ss_options);
}

int usage_error(std::string_view message, UsageTo to)
{
    std::FILE* out = to == UsageTo::Stdout ? stdout : stderr;
    if (!message.empty()) {
        fmt::print(out, "{}{}", message, message.back() == '\n' ? "" : "\n");
    }
    std::fputs(usage_text().c_str(), out);
    std::fflush(out);
    return to == UsageTo::Stdout ? kExitOk : kExitUsage;
}

std::string help_text()
{
    return usage_text() + fmt::format(R"(
Event streams: `{0} -E` prints one row per destroyed TCP socket, like ss -E.
`{0} -E state STATE ... [EXPRESSION]` prints one row per TCP socket entering one of
those states. The EXPRESSION (and -F FILE) is ss's filter language; it runs in the kernel
when it compiles to inet_diag bytecode (not with dev), and every row is checked again.
A TIME-WAIT row means the kernel handed the connection to a timewait socket (what the
TcpExtTW counter counts); no row is printed when tcp_max_tw_buckets left it none. Lost events
are counted in the kernel and reported on stderr; the stream keeps running. The options of
event streams are errors in a listing.
-p and -T on event rows name the socket's owner (never the task that ran the transition):
users:(("comm",pid=P,fd=F)), or users:(("comm",pid=P)) where the fd is not known (an accepted
socket before accept(): its listener's owner). Closed sockets keep naming their last holder.
They load a cgroup sock_create program and a sys_exit program (every socket creation and
system call while they run). --cgroup adds the socket's cgroup path as ss --cgroup does.
On event rows, -o -m -i -e show what a listing would show of the socket at that moment
(timer:, skmem:, tcp_info, uid: ino: sk: <->), read by the BPF programs only when asked for.
Destroy rows show -i as ss -E -i does (the kernel's tcp_info, without the congestion
control's name) and no timer; -i adds lifetime:MSms, the time since the socket left CLOSE
or LISTEN (connect, listen, or a passive open), when the stream saw that.

The live summary view (--top) counts state entries, TIME-WAIT entries, resets and new
connections per service port in the kernel (BPF maps, read at each refresh); the sockets now
come from a live table: a listing at the start that prints nothing, kept current by every
TCP state change (with --all-netns, of every namespace, each counted apart). Its
selection is a stream's: -4, -6, -N NAME, --all-netns (a Netns column), and the EXPRESSION,
which is loaded into the kernel at the start and fixed there; the / key filters the port
lines shown, in userspace. --top needs a terminal on stdin and stdout (exit 255 otherwise:
use --batch). -c N and --duration TIME stop it too.

Examples:
   incident      {0} -E state time-wait
                 {0} -E --timestamp --transitions state time-wait 'dport = :443'
                 {0} -E --watch --transitions state time-wait
   capture       {0} -E --write '/var/log/sstrace/tw-%Y%m%d-%H.cap' \
                     --rotate-seconds 3600 --rotate-count 48 state time-wait
                 {0} --read '/var/log/sstrace/tw-*.cap' --since 03:10 --until 03:20 \
                     --timestamp state time-wait 'dport = :443'
   performance   {0} -E -v --duration 10 state all > /dev/null    (counts on stderr)
                 {0} -E -t -i -e
                 {0} -tanp
                 {0} --top    (exact sockets per state, the busiest service ports)
   fleet         {0} --metrics :9465    (Prometheus, doc/metrics.md)
   kernel        {0} --check-kernel

Privileges (root has them all):
   listing         none, for what ss shows any user; the options below need more
   -E              CAP_BPF + CAP_PERFMON (tp_btf programs: the timer callbacks' addresses
                   come from the kernel's BTF, so no CAP_SYSLOG); UDP and raw destroys
                   (-E without -t) and -p -T --cgroup on event rows also CAP_NET_ADMIN
                   (cgroup programs); counting the tracepoint hits the kernel runs no
                   program for: CAP_DAC_READ_SEARCH (tracefs), and CAP_SYS_ADMIN if
                   tracefs is not mounted
   -E on classic tracepoints (--bpf-variant tracepoint, or when tp_btf cannot load): also
                   CAP_DAC_READ_SEARCH to read tracefs (root's only),
                   CAP_SYS_ADMIN if tracefs is not mounted (it is mounted for the attach),
                   and CAP_SYSLOG for SYN-SENT rows' local port (kernel addresses in
                   /proc/kallsyms; without it, a socket without a bound port shows port *)
   -N NAME         CAP_SYS_ADMIN (setns into the namespace)
   -p, -T          CAP_SYS_PTRACE, for other users' processes (their /proc/PID/fd; in
                   event streams also pidfd_getfd() of sockets open at the start)
   -K              CAP_NET_ADMIN (SOCK_DESTROY)

Exit status:
   0    success
   1    runtime failure (netlink, BPF attach, output), a namespace that cannot be entered,
        a library that a mode opens when it starts and that does not load (libncurses for
        --top, libzstd and libisal for captures, libmicrohttpd for --metrics), or a filter
        operand error (as ss)
   2    an ss option or mode that sstrace does not implement yet
   3    insufficient privileges: the missing one is named (streams need root, or CAP_BPF +
        CAP_PERFMON; the classic tracepoint fallback also CAP_DAC_READ_SEARCH, to read the
        tracepoints' ids in tracefs, and CAP_SYS_ADMIN where tracefs is not mounted)
   4    the kernel lacks a required feature (BTF, the ring buffer, a tracepoint, a BPF
        hook): named, with the first Linux release that has it (--check-kernel lists them)
   5    the BPF programs failed to load; -v shows the verifier's reason
   6    a capture read back (--read) is truncated or corrupt: every record before the damage
        was printed, then one line naming the file and the byte offset
   7    --metrics cannot listen on its address (in use, not a local address, no
        permission); no BPF program was loaded
   255  bad options or arguments, or a filter syntax error, as ss exits
)",
                                      program_name());
}

namespace {

// What an option does; the table below gives its names.
enum class Opt : std::uint8_t {
    Help, Version, Verbose, Numeric, Resolve, Options, Extended, Memory, Processes, Threads, Info,
    TipcInfo, Summary, Tos, Cgroup, Bpf, Events, Context, Contexts, NoHeader, Oneline, InetSockopt,
    Kill, Net, Diag, Filter, Family, Query, Select, AllNetns, Timestamp, Transitions, Watch, Count,
    Duration, RingSize, BpfVariant, Write, Read, Print, Json, RotateSize, RotateSeconds,
    RotateCount, PostRotate, Since, Until, CheckKernel, Metrics, Top, Interval, Batch, User,
    BpfStats,
};

struct OptionSpec {
    std::string_view long_name;
    char short_name;  // '\0': long only
    bool takes_value;
    bool from_ss;     // ss 6.1 has it: an abbreviation that names one of these is that one
    Opt id;
};

// ss 6.1's long options in the order its table has them, as far as getopt shows it (ambiguous
// abbreviations list their possibilities in table order), then sstrace's own. -v is sstrace's
// --verbose; in ss it is an undocumented alias of -V.
constexpr std::array kOptions{
    OptionSpec{"numeric", 'n', false, true, Opt::Numeric},
    OptionSpec{"resolve", 'r', false, true, Opt::Resolve},
    OptionSpec{"all", 'a', false, true, Opt::Select},
    OptionSpec{"listening", 'l', false, true, Opt::Select},
    OptionSpec{"options", 'o', false, true, Opt::Options},
    OptionSpec{"extended", 'e', false, true, Opt::Extended},
    OptionSpec{"memory", 'm', false, true, Opt::Memory},
    OptionSpec{"info", 'i', false, true, Opt::Info},
    OptionSpec{"processes", 'p', false, true, Opt::Processes},
    OptionSpec{"threads", 'T', false, true, Opt::Threads},
    OptionSpec{"udp", 'u', false, true, Opt::Select},
    OptionSpec{"tcp", 't', false, true, Opt::Select},
    OptionSpec{"sctp", 'S', false, true, Opt::Select},
    OptionSpec{"vsock", '\0', false, true, Opt::Select},
    OptionSpec{"dccp", 'd', false, true, Opt::Select},
    OptionSpec{"raw", 'w', false, true, Opt::Select},
    OptionSpec{"unix", 'x', false, true, Opt::Select},
    OptionSpec{"tipc", '\0', false, true, Opt::Select},
    OptionSpec{"packet", '0', false, true, Opt::Select},
    OptionSpec{"ipv4", '4', false, true, Opt::Select},
    OptionSpec{"ipv6", '6', false, true, Opt::Select},
    OptionSpec{"family", 'f', true, true, Opt::Family},
    OptionSpec{"socket", '\0', true, true, Opt::Query},
    OptionSpec{"query", 'A', true, true, Opt::Query},
    OptionSpec{"summary", 's', false, true, Opt::Summary},
    OptionSpec{"diag", 'D', true, true, Opt::Diag},
    OptionSpec{"filter", 'F', true, true, Opt::Filter},
    OptionSpec{"help", 'h', false, true, Opt::Help},
    OptionSpec{"context", 'Z', false, true, Opt::Context},
    OptionSpec{"contexts", 'z', false, true, Opt::Contexts},
    OptionSpec{"net", 'N', true, true, Opt::Net},
    OptionSpec{"kill", 'K', false, true, Opt::Kill},
    OptionSpec{"no-header", 'H', false, true, Opt::NoHeader},
    OptionSpec{"oneline", 'O', false, true, Opt::Oneline},
    OptionSpec{"mptcp", 'M', false, true, Opt::Select},
    OptionSpec{"tipcinfo", '\0', false, true, Opt::TipcInfo},
    OptionSpec{"tos", '\0', false, true, Opt::Tos},
    OptionSpec{"cgroup", '\0', false, true, Opt::Cgroup},
    OptionSpec{"version", 'V', false, true, Opt::Version},
    OptionSpec{"events", 'E', false, true, Opt::Events},
    OptionSpec{"bpf", 'b', false, true, Opt::Bpf},
    OptionSpec{"xdp", '\0', false, true, Opt::Select},
    OptionSpec{"inet-sockopt", '\0', false, true, Opt::InetSockopt},
    OptionSpec{"all-netns", '\0', false, false, Opt::AllNetns},
    OptionSpec{"timestamp", '\0', false, false, Opt::Timestamp},
    OptionSpec{"transitions", '\0', false, false, Opt::Transitions},
    OptionSpec{"watch", '\0', false, false, Opt::Watch},
    OptionSpec{"count", 'c', true, false, Opt::Count},
    OptionSpec{"duration", '\0', true, false, Opt::Duration},
    OptionSpec{"ring-size", '\0', true, false, Opt::RingSize},
    OptionSpec{"bpf-variant", '\0', true, false, Opt::BpfVariant},
    OptionSpec{"verbose", 'v', false, false, Opt::Verbose},
    OptionSpec{"write", '\0', true, false, Opt::Write},
    OptionSpec{"read", '\0', true, false, Opt::Read},
    OptionSpec{"print", '\0', false, false, Opt::Print},
    OptionSpec{"json", '\0', false, false, Opt::Json},
    OptionSpec{"rotate-size", '\0', true, false, Opt::RotateSize},
    OptionSpec{"rotate-seconds", '\0', true, false, Opt::RotateSeconds},
    OptionSpec{"rotate-count", '\0', true, false, Opt::RotateCount},
    OptionSpec{"post-rotate", '\0', true, false, Opt::PostRotate},
    OptionSpec{"since", '\0', true, false, Opt::Since},
    OptionSpec{"until", '\0', true, false, Opt::Until},
    OptionSpec{"check-kernel", '\0', false, false, Opt::CheckKernel},
    OptionSpec{"metrics", '\0', true, false, Opt::Metrics},
    OptionSpec{"user", '\0', true, false, Opt::User},
    OptionSpec{"bpf-stats", '\0', false, false, Opt::BpfStats},
    OptionSpec{"top", '\0', false, false, Opt::Top},
    OptionSpec{"interval", '\0', true, false, Opt::Interval},
    OptionSpec{"batch", '\0', false, false, Opt::Batch},
};

// Options of a live stream only (a capture read back has no ring buffer, programs or files to
// write), and options of a read-back only.
bool live_only(Opt id)
{
    switch (id) {
    case Opt::Duration: case Opt::RingSize: case Opt::BpfVariant: case Opt::Write:
    case Opt::Print: case Opt::RotateSize: case Opt::RotateSeconds: case Opt::RotateCount:
    case Opt::PostRotate: case Opt::Metrics: case Opt::User: case Opt::BpfStats:
        return true;
    default:
        return false;
    }
}

bool read_only(Opt id) { return id == Opt::Since || id == Opt::Until; }

bool top_only(Opt id) { return id == Opt::Interval || id == Opt::Batch; }

// sstrace's options that shape rows or files, which the summary view has none of.
bool not_with_top(Opt id)
{
    switch (id) {
    case Opt::Watch: case Opt::Transitions: case Opt::Timestamp: case Opt::Write: case Opt::Print:
    case Opt::RotateSize: case Opt::RotateSeconds: case Opt::RotateCount: case Opt::PostRotate:
    case Opt::Read: case Opt::Since: case Opt::Until:
        return true;
    default:
        return false;
    }
}

// The token Options::selection records for a table or family option.
std::string selection_token(const OptionSpec& spec)
{
    return spec.short_name != '\0' ? std::string{'-', spec.short_name}
                                   : "--" + std::string(spec.long_name);
}

const OptionSpec* find_short(char c)
{
    for (const OptionSpec& o : kOptions) {
        if (o.short_name == c && c != '\0') {
            return &o;
        }
    }
    return nullptr;
}

// A long option from its name or an abbreviation: the exact name; else the one option of ss's
// that the abbreviation names (so ss's abbreviations keep working next to sstrace's options);
// else the one option of all. Several: `ambiguous` lists them in table order.
const OptionSpec* find_long(std::string_view name, std::vector<const OptionSpec*>& ambiguous)
{
    for (const OptionSpec& o : kOptions) {
        if (o.long_name == name) {
            return &o;
        }
    }
    for (const bool ss_only : {true, false}) {
        ambiguous.clear();
        for (const OptionSpec& o : kOptions) {
            if ((o.from_ss || !ss_only) && o.long_name.substr(0, name.size()) == name) {
                ambiguous.push_back(&o);
            }
        }
        if (ambiguous.size() == 1) {
            const OptionSpec* found = ambiguous.front();
            ambiguous.clear();
            return found;
        }
    }
    return nullptr;
}

// "30", "1.5s", "500ms", "2m", "1h": seconds, or a number with a unit.
struct DurationUnit {
    std::string_view suffix;
    double seconds;
};
constexpr std::array kDurationUnits{DurationUnit{"ms", 1e-3}, DurationUnit{"s", 1.0},
                                    DurationUnit{"m", 60.0}, DurationUnit{"h", 3600.0}};

// The largest BPF ring buffer --ring-size accepts.
constexpr unsigned kMaxRingMiB = 1024;

// The shortest --interval: a refresh takes a snapshot of BPF maps and redraws the screen.
constexpr double kMinInterval = 0.1;

// The longest stream sstrace can time: INT64_MAX nanoseconds, in whole hours.
constexpr double kMaxDurationHours = 2562047;

// Reads argv into Options, in command-line order, with getopt's rules and ss's words for the
// errors getopt reports (ss parses with getopt_long): clusters (-tanp), values attached or in
// the next word (-ftcp, -f tcp, --family=tcp, --family tcp), unambiguous abbreviations, FILTER
// words between options, and `--` ending the options.
class CommandLineParser {
public:
    CommandLineParser(int argc, const char* const* argv) : args_(argv + 1, argv + argc) {}

    ParseResult run();

private:
    // false: stop (an error is set, or -h, -V or -f help ends the parse as it does in ss)
    bool long_option(std::string_view arg);
    bool short_options(std::string_view arg);
    bool apply(const OptionSpec& spec, std::string_view spelled, std::string_view value);
    bool value_option(const OptionSpec& spec, std::string_view spelled, std::string_view value);
    // A time (--duration, --interval): seconds, or a number with a unit; nullopt after an error.
    std::optional<double> time_value(std::string_view spelled, std::string_view value);
    // The checks that need the whole command line: sstrace's options against each other.
    void check_combinations();
    bool check_capture_options();
    bool check_top();
    // The first of sstrace's own options given that `which` holds for, as spelled.
    const std::string* first_given(bool (*which)(Opt)) const;
    bool usage_error(std::string message);
    bool error(std::string message);

    std::vector<std::string_view> args_;
    std::size_t next_ = 0;  // index in args_ of the word after the current one
    ParseResult res_;
    bool filter_file_given_ = false;
    std::vector<std::string> stream_only_;  // sstrace's stream options, as spelled, in order
    std::vector<std::pair<Opt, std::string>> given_;  // sstrace's own options, as spelled
    // sstrace's valued options given so far, and the value each had
    std::vector<std::pair<Opt, std::string_view>> values_given_;
};

bool CommandLineParser::usage_error(std::string message)
{
    res_.exit_code = kExitUsage;
    res_.usage = true;
    res_.message = std::move(message);
    return false;
}

bool CommandLineParser::error(std::string message)
{
    res_.exit_code = kExitUsage;
    res_.message = std::move(message);
    return false;
}

ParseResult CommandLineParser::run()
{
    bool words_only = false;
    while (next_ < args_.size()) {
        const std::string_view arg = args_[next_++];
        if (words_only || arg.size() < 2 || arg[0] != '-') {
            res_.options.filter_words.emplace_back(arg);
        } else if (arg == "--") {
            words_only = true;
        } else if (!(arg[1] == '-' ? long_option(arg) : short_options(arg))) {
            return std::move(res_);
        }
    }
    Options& o = res_.options;
    for (const auto& token : o.selection) {
        o.all = o.all || token == "-a";
        o.listening = o.listening || token == "-l";
    }
    if (o.extended || o.bpf) {
        o.timers = true;  // as in ss: -e and -b imply -o
    }
    check_combinations();
    return std::move(res_);
}

bool CommandLineParser::long_option(std::string_view arg)
{
    const std::string_view body = arg.substr(2);
    const std::size_t eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    std::vector<const OptionSpec*> ambiguous;
    const OptionSpec* spec = find_long(name, ambiguous);
    if (spec == nullptr && ambiguous.empty()) {
        return usage_error(fmt::format("{}: unrecognized option '{}'", program_name(), arg));
    }
    if (spec == nullptr) {
        std::string message =
            fmt::format("{}: option '{}' is ambiguous; possibilities:", program_name(), arg);
        for (const OptionSpec* o : ambiguous) {
            message += fmt::format(" '--{}'", o->long_name);
        }
        return usage_error(std::move(message));
    }
    const std::string spelled = fmt::format("--{}", spec->long_name);
    if (!spec->takes_value) {
        if (eq != std::string_view::npos) {
            return usage_error(fmt::format("{}: option '{}' doesn't allow an argument",
                                           program_name(), spelled));
        }
        return apply(*spec, spelled, {});
    }
    if (eq != std::string_view::npos) {
        return apply(*spec, spelled, body.substr(eq + 1));
    }
    if (next_ == args_.size()) {
        return usage_error(
            fmt::format("{}: option '{}' requires an argument", program_name(), spelled));
    }
    return apply(*spec, spelled, args_[next_++]);
}

bool CommandLineParser::short_options(std::string_view arg)
{
    for (std::size_t k = 1; k < arg.size(); ++k) {
        const OptionSpec* spec = find_short(arg[k]);
        if (spec == nullptr) {
            return usage_error(fmt::format("{}: invalid option -- '{}'", program_name(), arg[k]));
        }
        const std::string spelled{'-', arg[k]};
        if (!spec->takes_value) {
            if (!apply(*spec, spelled, {})) {
                return false;
            }
            continue;
        }
        // The rest of the word is the value, or else the next word is.
        if (k + 1 < arg.size()) {
            return apply(*spec, spelled, arg.substr(k + 1));
        }
        if (next_ == args_.size()) {
            return usage_error(
                fmt::format("{}: option requires an argument -- '{}'", program_name(), arg[k]));
        }
        return apply(*spec, spelled, args_[next_++]);
    }
    return true;
}

bool CommandLineParser::apply(const OptionSpec& spec, std::string_view spelled,
                              std::string_view value)
{
    Options& o = res_.options;
    switch (spec.id) {
    case Opt::Help: o.show_help = true; return false;
    case Opt::Version: o.show_version = true; return false;
    case Opt::CheckKernel: o.check_kernel = true; return false;
    case Opt::Verbose: ++o.verbosity; return true;
    case Opt::Numeric: o.numeric = true; return true;
    case Opt::Resolve: o.resolve = true; return true;
    case Opt::Options: o.timers = true; return true;
    case Opt::Extended: o.extended = true; return true;
    case Opt::Memory: o.memory = true; return true;
    case Opt::Processes: o.processes = true; return true;
    case Opt::Threads: o.threads = true; return true;
    case Opt::Info: o.info = true; return true;
    case Opt::TipcInfo: o.tipcinfo = true; return true;
    case Opt::Summary: o.summary = true; return true;
    case Opt::Tos: o.tos = true; return true;
    case Opt::Cgroup: o.cgroup = true; return true;
    case Opt::Bpf: o.bpf = true; return true;
    case Opt::Events: o.events = true; return true;
    case Opt::Context: o.context = true; return true;
    case Opt::Contexts: o.contexts = true; return true;
    case Opt::NoHeader: o.no_header = true; return true;
    case Opt::Oneline: o.oneline = true; return true;
    case Opt::InetSockopt: o.inet_sockopt = true; return true;
    case Opt::Kill: o.kill = true; return true;
    case Opt::Select: o.selection.push_back(selection_token(spec)); return true;
    case Opt::Net: o.netns = value; return true;
    case Opt::Diag: o.diag_file = value; return true;
    case Opt::Family:
        o.selection.push_back(fmt::format("-f {}", value));
        return value != "help";  // ss prints its usage at once
    case Opt::Query: o.selection.push_back(fmt::format("-A {}", value)); return true;
    case Opt::Filter:
        if (filter_file_given_) {
            return error(std::string(ss_text::kMoreThanOneFilterFile));
        }
        filter_file_given_ = true;
        o.filter_file = value;
        return true;
    case Opt::AllNetns: o.all_netns = true; break;
    case Opt::Timestamp: o.timestamp = true; break;
    case Opt::Transitions: o.transitions = true; break;
    case Opt::Print: o.print = true; break;
    case Opt::Json:
        o.json = true;
        given_.emplace_back(spec.id, spelled);
        return true;  // listings too
    case Opt::Read:
        o.read_files.emplace_back(value);  // repeatable
        given_.emplace_back(spec.id, spelled);
        return true;  // a stream of its own
    case Opt::Watch: o.watch = true; break;
    case Opt::Top:
        o.top = true;
        given_.emplace_back(spec.id, spelled);
        return true;  // a stream of its own
    case Opt::Batch: o.batch = true; break;
    case Opt::BpfStats: o.bpf_stats = true; break;
    case Opt::Count:
    case Opt::Duration:
    case Opt::RingSize:
    case Opt::BpfVariant:
    case Opt::Write:
    case Opt::RotateSize:
    case Opt::RotateSeconds:
    case Opt::RotateCount:
    case Opt::PostRotate:
    case Opt::Since:
    case Opt::Until:
    case Opt::Metrics:
    case Opt::Interval:
    case Opt::User:
        if (!value_option(spec, spelled, value)) {
            return false;
        }
        break;
    }
    stream_only_.emplace_back(spelled);
    given_.emplace_back(spec.id, spelled);
    return true;
}

bool CommandLineParser::value_option(const OptionSpec& spec, std::string_view spelled,
                                     std::string_view value)
{
    for (const auto& [id, earlier] : values_given_) {
        if (id == spec.id) {
            return error(fmt::format("{}: {}: given more than once ('{}', then '{}')",
                                     program_name(), spelled, earlier, value));
        }
    }
    values_given_.emplace_back(spec.id, value);
    Options& o = res_.options;
    switch (spec.id) {
    case Opt::Count:
        if (const auto n = parse_number<std::uint64_t>(value); n && *n > 0) {
            o.count = n;
            return true;
        }
        if (!value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos &&
            value.find_first_not_of('0') != std::string_view::npos) {
            return error(fmt::format("{}: {}: '{}' is too large (at most {})", program_name(),
                                     spelled, value, std::numeric_limits<std::uint64_t>::max()));
        }
        return error(fmt::format("{}: {}: expected a positive count, got '{}'", program_name(),
                                 spelled, value));
    case Opt::Duration: {
        const std::optional<double> seconds = time_value(spelled, value);
        if (seconds) {
            o.duration = *seconds;
        }
        return seconds.has_value();
    }
    case Opt::Interval: {
        const std::optional<double> seconds = time_value(spelled, value);
        if (seconds && *seconds < kMinInterval) {
            return error(fmt::format("{}: {}: '{}' is too short (at least {}s)", program_name(),
                                     spelled, value, kMinInterval));
        }
        if (seconds) {
            o.interval = *seconds;
        }
        return seconds.has_value();
    }
    case Opt::RingSize:
        if (const auto mib = parse_number<unsigned>(value);
            mib && *mib >= 1 && *mib <= kMaxRingMiB && std::has_single_bit(*mib)) {
            o.ring_mb = *mib;
            return true;
        }
        return error(fmt::format("{}: {}: expected a power of two in MiB from 1 to {}, got '{}'",
                                 program_name(), spelled, kMaxRingMiB, value));
    case Opt::BpfVariant:
        if (value == "auto" || value == "tp_btf" || value == "tracepoint") {
            o.bpf_variant = value;
            return true;
        }
        return error(fmt::format("{}: {}: expected auto, tp_btf or tracepoint, got '{}'",
                                 program_name(), spelled, value));
    case Opt::Write:
        if (value.empty()) {
            return error(fmt::format("{}: {}: expected a file name (or - for stdout), got ''",
                                     program_name(), spelled));
        }
        o.write_file = value;
        return true;
    case Opt::Metrics:
        if (!parse_metrics_endpoint(value)) {
            return error(fmt::format("{}: {}: expected [ADDR:]PORT (a numeric address, [IPV6] in "
                                     "brackets; a port from 1 to 65535), got '{}'",
                                     program_name(), spelled, value));
        }
        o.metrics = value;
        return true;
    case Opt::User:
        if (value.empty()) {
            return error(fmt::format("{}: {}: expected a user name or number, got ''",
                                     program_name(), spelled));
        }
        o.user = value;
        return true;
    case Opt::PostRotate:
        if (value.empty()) {
            return error(fmt::format("{}: {}: expected a program, got ''", program_name(),
                                     spelled));
        }
        o.post_rotate = value;
        return true;
    case Opt::RotateSize: {
        std::string_view number = value;
        std::uint64_t unit = 1;
        if (!number.empty()) {
            const char last = number.back();
            const std::uint64_t units[] = {1024, std::uint64_t{1} << 20, std::uint64_t{1} << 30};
            const std::string_view letters = "kmg";
            const std::size_t at = letters.find(static_cast<char>(last | 0x20));
            if (std::isalpha(static_cast<unsigned char>(last)) != 0 && at != std::string_view::npos) {
                unit = units[at];
                number.remove_suffix(1);
            }
        }
        const auto n = parse_number<std::uint64_t>(number);
        if (!n || *n == 0 || *n > std::numeric_limits<std::uint64_t>::max() / unit) {
            return error(fmt::format("{}: {}: expected a positive size in bytes, or with k, M or G "
                                     "(1024, 1024^2, 1024^3), got '{}'",
                                     program_name(), spelled, value));
        }
        o.rotate_size = *n * unit;
        return true;
    }
    case Opt::RotateSeconds:
        if (const auto n = parse_number<std::uint64_t>(value); n && *n > 0 && *n <= 1u << 30) {
            o.rotate_seconds = n;
            return true;
        }
        return error(fmt::format("{}: {}: expected a whole number of seconds from 1 to {}, got '{}'",
                                 program_name(), spelled, 1u << 30, value));
    case Opt::RotateCount:
        if (const auto n = parse_number<std::uint32_t>(value); n && *n > 0) {
            o.rotate_count = n;
            return true;
        }
        return error(fmt::format("{}: {}: expected a positive count of files, got '{}'",
                                 program_name(), spelled, value));
    case Opt::Since:
    case Opt::Until:
        if (const auto t = parse_wall_time(value)) {
            (spec.id == Opt::Since ? o.since : o.until) = t;
            return true;
        }
        return error(fmt::format("{}: {}: expected a time such as 03:10, 03:10:07.5, "
                                 "2024-05-01 03:10, 2024-05-01T03:10:00Z or @1714533000, got '{}'",
                                 program_name(), spelled, value));
    default:
        return true;
    }
}

std::optional<double> CommandLineParser::time_value(std::string_view spelled,
                                                     std::string_view value)
{
    double factor = 1.0;
    std::string_view number = value;
    for (const DurationUnit& unit : kDurationUnits) {
        if (number.size() > unit.suffix.size() && number.ends_with(unit.suffix)) {
            number.remove_suffix(unit.suffix.size());
            factor = unit.seconds;
            break;
        }
    }
    double amount = 0;
    const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), amount);
    if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() ||
        !std::isfinite(amount)) {
        error(fmt::format("{}: {}: expected a time such as 30 (seconds), 1.5s, 500ms, 2m or 1h, "
                          "got '{}'",
                          program_name(), spelled, value));
        return std::nullopt;
    }
    const double seconds = amount * factor;
    if (!(seconds * 1e9 >= 1.0)) {
        error(fmt::format("{}: {}: expected a positive time, got '{}'", program_name(), spelled,
                          value));
        return std::nullopt;
    }
    if (seconds > kMaxDurationHours * 3600) {
        error(fmt::format("{}: {}: '{}' is too long (at most {}h)", program_name(), spelled, value,
                          kMaxDurationHours));
        return std::nullopt;
    }
    return seconds;
}

const std::string* CommandLineParser::first_given(bool (*which)(Opt)) const
{
    for (const auto& [id, spelled] : given_) {
        if (which(id)) {
            return &spelled;
        }
    }
    return nullptr;
}

void CommandLineParser::check_combinations()
{
    const Options& o = res_.options;
    const bool reading = !o.read_files.empty();
    if (const std::string* s = first_given(top_only); s != nullptr && !o.top) {
        error(fmt::format("{}: {} applies only to the live summary view (--top)", program_name(),
                          *s));
        return;
    }
    if (o.top && !check_top()) {
        return;
    }
    if (!o.events && !reading && o.metrics.empty() && !o.top) {
        if (!stream_only_.empty()) {
            error(fmt::format("{}: {} applies only to event streams (-E)", program_name(),
                              stream_only_.front()));
        } else if (o.json && (o.summary || !o.diag_file.empty())) {
            error(fmt::format("{}: --json lists sockets: it does not apply to {}", program_name(),
                              o.summary ? "-s" : "-D"));
        }
        return;
    }
    if (o.bpf_stats && o.metrics.empty()) {
        error(fmt::format("{}: --bpf-stats applies only to --metrics (the run time of the BPF "
                          "programs is exported there)", program_name()));
        return;
    }
    if (!o.metrics.empty() && !o.events && o.watch) {
        error(fmt::format("{}: --watch with --metrics needs -E: without it no row is printed",
                          program_name()));
        return;
    }
    if (o.events && reading) {
        error(fmt::format("{}: -E follows the kernel and --read a capture file: give one of them",
                          program_name()));
        return;
    }
    if (const std::string* s = first_given(reading ? live_only : read_only)) {
        error(fmt::format("{}: {} applies only to {}", program_name(), *s,
                          reading ? "live event streams (-E)" : "a capture read back (--read)"));
        return;
    }
    if (!check_capture_options()) {
        return;
    }
    if (reading && o.watch && o.since) {
        error(fmt::format("{}: --watch with --since: a capture holds the table of each file's "
                          "start, not of any moment; read from the file that starts where you "
                          "want, or without --watch",
                          program_name()));
        return;
    }
    if (o.all_netns && !o.netns.empty()) {
        error(fmt::format("{}: -N and --all-netns conflict (one namespace, or every one): give "
                          "one of them",
                          program_name()));
        return;
    }
    // A destroy stream (-E without state words) has no state left and entered to show. Words
    // that do not parse are left to the stream, which reports them in ss's words.
    // (a capture read back without state words takes those it was written with)
    StateWords words;
    if (o.transitions && !reading && !parse_state_words(o.filter_words, words) && !words.mask) {
        error(fmt::format("{}: --transitions needs state words (-E state STATE ...): the destroy "
                          "stream shows no state changes",
                          program_name()));
    }
}

bool CommandLineParser::check_capture_options()
{
    const Options& o = res_.options;
    if (o.write_file.empty()) {
        for (const Opt id : {Opt::Print, Opt::RotateSize, Opt::RotateSeconds, Opt::RotateCount,
                             Opt::PostRotate}) {
            for (const auto& [given, spelled] : given_) {
                if (given == id) {
                    return error(fmt::format("{}: {} applies only with --write FILE",
                                             program_name(), spelled));
                }
            }
        }
        return true;
    }
    const bool rotating = o.rotate_size || o.rotate_seconds;
    if (o.write_file == "-" && (o.print || rotating || o.rotate_count || !o.post_rotate.empty())) {
        return error(fmt::format("{}: --write -: the capture goes to stdout, where rows cannot go "
                                 "too and no file rotates; --print, --rotate-* and --post-rotate "
                                 "need --write FILE",
                                 program_name()));
    }
    if (!rotating && (o.rotate_count || !o.post_rotate.empty())) {
        return error(fmt::format("{}: {} needs --rotate-size or --rotate-seconds (files to rotate)",
                                 program_name(), o.rotate_count ? "--rotate-count" : "--post-rotate"));
    }
    if (o.json && !o.print) {
        return error(fmt::format("{}: --json with --write needs --print: the capture file is "
                                 "binary, and nothing else is printed",
                                 program_name()));
    }
    return true;
}

bool CommandLineParser::check_top()
{
    const Options& o = res_.options;
    if (o.events) {
        return error(fmt::format("{}: --top is a view of its own, -E a stream of rows: give one "
                                 "of them",
                                 program_name()));
    }
    if (const std::string* s = first_given(not_with_top)) {
        return error(fmt::format("{}: {} does not apply to --top (it shows counts, not rows)",
                                 program_name(), *s));
    }
    // ss's options that add to rows, or modes of their own
    const std::pair<bool, std::string_view> row_options[] = {
        {o.processes, "-p"}, {o.threads, "-T"}, {o.extended, "-e"}, {o.bpf, "-b"}, {o.memory, "-m"},
        {o.info, "-i"}, {o.timers, "-o"}, {o.cgroup, "--cgroup"}, {o.tos, "--tos"},
        {o.summary, "-s"}, {o.kill, "-K"}, {!o.diag_file.empty(), "-D"}, {o.resolve, "-r"},
        {o.context, "-Z"}, {o.contexts, "-z"}, {o.oneline, "-O"}, {o.no_header, "-H"},
        {o.inet_sockopt, "--inet-sockopt"}, {o.tipcinfo, "--tipcinfo"}};
    for (const auto& [given, spelled] : row_options) {
        if (given) {
            return error(fmt::format("{}: {} does not apply to --top (it shows counts, not rows)",
                                     program_name(), spelled));
        }
    }
    StateWords words;
    if (!parse_state_words(o.filter_words, words) && words.mask) {
        return error(fmt::format("{}: --top counts every state: state and exclude words do not "
                                 "apply (a FILTER expression selects the sockets)",
                                 program_name()));
    }
    return true;
}

}  // namespace

ParseResult parse_command_line(int argc, const char* const* argv)
{
    ParseResult r = CommandLineParser(argc, argv).run();
    r.options.argv.assign(argv, argv + argc);
    return r;
}

}  // namespace sstrace
