// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/options.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/program.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <string>
#include <vector>

using namespace sstrace;

namespace {

ParseResult parse(std::vector<std::string> args)
{
    std::vector<const char*> argv{"sstrace"};
    for (const auto& a : args) {
        argv.push_back(a.c_str());
    }
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

// A command line that must fail with exit 255 and this message.
struct ErrorCase {
    std::vector<std::string> args;
    const char* message;
};

// `usage`: the usage text follows the message (getopt's errors), or not (one line).
void expect_errors(const std::vector<ErrorCase>& cases, bool usage)
{
    for (const ErrorCase& c : cases) {
        std::string command;
        for (const auto& a : c.args) {
            command += " " + a;
        }
        SCOPED_TRACE(command);
        const auto r = parse(c.args);
        EXPECT_EQ(r.exit_code, 255);
        EXPECT_EQ(r.message, c.message);
        EXPECT_EQ(r.usage, usage);
    }
}

}  // namespace

TEST(Options, ShortClusters)
{
    auto r = parse({"-tanp"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_TRUE(r.options.numeric);
    EXPECT_TRUE(r.options.processes);
    EXPECT_TRUE(r.options.all);
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-t", "-a"}));
}

TEST(Options, SelectionKeepsCommandLineOrder)
{
    auto r = parse({"-l", "-4", "-x", "-a", "-f", "inet6", "-A", "tcp,!udp", "-u"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.selection,
              (std::vector<std::string>{"-l", "-4", "-x", "-a", "-f inet6", "-A tcp,!udp", "-u"}));
}

TEST(Options, AttachedOptionValues)
{
    auto r = parse({"-Atcp", "-ffamily", "-Nns1"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-A tcp", "-f family"}));
    EXPECT_EQ(r.options.netns, "ns1");
}

TEST(Options, ExtendedImpliesTimers)
{
    EXPECT_TRUE(parse({"-e"}).options.timers);
    EXPECT_TRUE(parse({"-b"}).options.timers);
    EXPECT_FALSE(parse({"-m"}).options.timers);
}

TEST(Options, FilterWordsAreKeptInOrder)
{
    auto r = parse({"-E", "state", "time-wait", "dport", "=", ":22"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_TRUE(r.options.events);
    EXPECT_EQ(r.options.filter_words,
              (std::vector<std::string>{"state", "time-wait", "dport", "=", ":22"}));
}

TEST(Options, EventOptions)
{
    auto r = parse({"-E", "-c", "5", "--duration", "2.5", "--timestamp", "--transitions",
                    "--all-netns", "--ring-size", "16", "-vv", "state", "all"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.count.value_or(0), 5u);
    EXPECT_DOUBLE_EQ(r.options.duration.value_or(0), 2.5);
    EXPECT_TRUE(r.options.timestamp);
    EXPECT_TRUE(r.options.transitions);
    EXPECT_TRUE(r.options.all_netns);
    EXPECT_EQ(r.options.ring_mb, 16u);
    EXPECT_EQ(r.options.verbosity, 2);
}

TEST(Options, BadOptionsExitLikeSs)
{
    set_program_name("ss");
    EXPECT_EQ(parse({"-Q"}).exit_code, 255);
    EXPECT_EQ(parse({"--bogus"}).exit_code, 255);
    EXPECT_EQ(parse({"-c", "0"}).exit_code, 255);
    EXPECT_EQ(parse({"--ring-size", "3"}).exit_code, 255);
    // unknown options are reported in ss's getopt words, followed by the usage text
    EXPECT_EQ(parse({"-Q"}).message, "ss: invalid option -- 'Q'");
    EXPECT_TRUE(parse({"-Q"}).usage);
    EXPECT_EQ(parse({"-tQ"}).message, "ss: invalid option -- 'Q'");
    EXPECT_EQ(parse({"--bogus"}).message, "ss: unrecognized option '--bogus'");
    EXPECT_TRUE(parse({"--bogus"}).usage);
}

TEST(Options, HelpAndVersion)
{
    EXPECT_TRUE(parse({"-h"}).options.show_help);
    EXPECT_TRUE(parse({"-V"}).options.show_version);
    EXPECT_NE(help_text().find("Exit status:"), std::string::npos);
    EXPECT_EQ(help_text().rfind(usage_text(), 0), 0u);  // --help begins with the usage text
    EXPECT_NE(version_text().find("iproute2-6.1.0"), std::string::npos);
}

TEST(Options, OneFilterFileOnly)
{
    auto r = parse({"-F", "a", "-F", "b"});
    EXPECT_EQ(r.exit_code, 255);
    EXPECT_EQ(r.message, "More than one filter file");
    EXPECT_EQ(parse({"-F", "-"}).options.filter_file, "-");
}

TEST(Options, BracketedWordsReachTheFilterUnchanged)
{
    // CLI11 would read `[...]` as a list; ss filters need IPv6 operands in brackets
    auto r = parse({"-tan", "src", "[::1]", "dst", "[::ffff:127.0.0.1]:80", "[1,2]"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.filter_words,
              (std::vector<std::string>{"src", "[::1]", "dst", "[::ffff:127.0.0.1]:80", "[1,2]"}));
}

// The errors getopt_long reports in ss, in its words, with the usage text (issue 9, item 6).
TEST(Options, GetoptErrorsInSsWords)
{
    set_program_name("ss");
    expect_errors({
        {{"--numeric=yes"}, "ss: option '--numeric' doesn't allow an argument"},
        {{"--tc=1"}, "ss: option '--tcp' doesn't allow an argument"},
        {{"-f"}, "ss: option requires an argument -- 'f'"},
        {{"-tf"}, "ss: option requires an argument -- 'f'"},
        {{"--family"}, "ss: option '--family' requires an argument"},
        {{"--bogus=1"}, "ss: unrecognized option '--bogus=1'"},
        {{"--f"}, "ss: option '--f' is ambiguous; possibilities: '--family' '--filter'"},
        {{"--n"}, "ss: option '--n' is ambiguous; possibilities: '--numeric' '--net' "
                  "'--no-header'"},
        {{"--s=1"}, "ss: option '--s=1' is ambiguous; possibilities: '--sctp' '--socket' "
                    "'--summary' '--since'"},
        // sstrace's own options follow the same rules
        {{"-c"}, "ss: option requires an argument -- 'c'"},
        {{"-E", "--count"}, "ss: option '--count' requires an argument"},
        {{"-E", "--transitions=yes"}, "ss: option '--transitions' doesn't allow an argument"},
        {{"-E", "--timestamp=1"}, "ss: option '--timestamp' doesn't allow an argument"},
        {{"-E", "--all-netns=no"}, "ss: option '--all-netns' doesn't allow an argument"},
        {{"--verbose=2"}, "ss: option '--verbose' doesn't allow an argument"},
        {{"--t"}, "ss: option '--t' is ambiguous; possibilities: '--threads' '--tcp' '--tipc' "
                  "'--tipcinfo' '--tos' '--timestamp' '--transitions' '--top'"},
    }, true);
}

TEST(Options, GetoptSyntax)
{
    // abbreviations: ss's own resolve among ss's options first
    auto r = parse({"--fam=inet", "--num", "--al", "--socket", "tcp", "--times", "-E"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-f inet", "-a", "-A tcp"}));
    EXPECT_TRUE(r.options.numeric);
    EXPECT_TRUE(r.options.timestamp);
    // FILTER words between options, `--` ends the options, a lone `-` is a word
    r = parse({"state", "established", "-t", "-n", "--", "-x", "-"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.filter_words,
              (std::vector<std::string>{"state", "established", "-x", "-"}));
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-t"}));
    // values attached or in the next word, whatever it looks like
    r = parse({"-Ec3", "-f", "-t", "-Ntest", "--net", "-x", "state", "all"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(r.options.count.value_or(0), 3u);
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-f -t"}));
    EXPECT_EQ(r.options.netns, "-x");
    // -h, -V and -f help end the parse where they stand, as in ss
    r = parse({"-h", "--bogus"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(r.options.show_help);
    EXPECT_EQ(parse({"--bogus", "-h"}).exit_code, 255);
    EXPECT_TRUE(parse({"-Vc"}).options.show_version);
    r = parse({"-f", "help", "-Q"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.options.selection, (std::vector<std::string>{"-f help"}));
}

// sstrace's own values: one line in the user's words, exit 255 (issue 9, item 6).
TEST(Options, NumericValuesInTheUsersWords)
{
    set_program_name("sstrace");
    expect_errors({
        {{"-E", "-c", "abc"}, "sstrace: -c: expected a positive count, got 'abc'"},
        {{"-E", "-c", "0"}, "sstrace: -c: expected a positive count, got '0'"},
        {{"-E", "-c", "-1"}, "sstrace: -c: expected a positive count, got '-1'"},
        {{"-E", "-c", ""}, "sstrace: -c: expected a positive count, got ''"},
        {{"-E", "--count=1x"}, "sstrace: --count: expected a positive count, got '1x'"},
        {{"-E", "-c", "18446744073709551616"},
         "sstrace: -c: '18446744073709551616' is too large (at most 18446744073709551615)"},
        {{"-E", "-c", "1", "-c", "2"}, "sstrace: -c: given more than once ('1', then '2')"},
        {{"-E", "-c", "1", "--count", "1"},
         "sstrace: --count: given more than once ('1', then '1')"},
        {{"-E", "--duration", "0"}, "sstrace: --duration: expected a positive time, got '0'"},
        {{"-E", "--duration", "0ms"}, "sstrace: --duration: expected a positive time, got '0ms'"},
        {{"-E", "--duration", "-1s"}, "sstrace: --duration: expected a positive time, got '-1s'"},
        {{"-E", "--duration", "1e-10"},
         "sstrace: --duration: expected a positive time, got '1e-10'"},
        {{"-E", "--duration", "2562048h"},
         "sstrace: --duration: '2562048h' is too long (at most 2562047h)"},
        {{"-E", "--duration", "1", "--duration", "2"},
         "sstrace: --duration: given more than once ('1', then '2')"},
        {{"-E", "--ring-size", "3"},
         "sstrace: --ring-size: expected a power of two in MiB from 1 to 1024, got '3'"},
        {{"-E", "--ring-size", "0"},
         "sstrace: --ring-size: expected a power of two in MiB from 1 to 1024, got '0'"},
        {{"-E", "--ring-size", "2048"},
         "sstrace: --ring-size: expected a power of two in MiB from 1 to 1024, got '2048'"},
        {{"-E", "--ring-size", "8M"},
         "sstrace: --ring-size: expected a power of two in MiB from 1 to 1024, got '8M'"},
        {{"-E", "--bpf-variant", "fentry"},
         "sstrace: --bpf-variant: expected auto, tp_btf or tracepoint, got 'fentry'"},
    }, false);  // one line
    for (const std::string bad : {"abc", "1d", "s", "nan", "1.5.2s", " 1s"}) {
        const auto r = parse({"-E", "--duration", bad});
        EXPECT_EQ(r.exit_code, 255);
        EXPECT_EQ(r.message, "sstrace: --duration: expected a time such as 30 (seconds), 1.5s, "
                             "500ms, 2m or 1h, got '" + bad + "'");
    }
}

TEST(Options, DurationsWithUnits)
{
    const struct {
        const char* text;
        double seconds;
    } cases[] = {{"30", 30}, {"1.5", 1.5}, {"1s", 1}, {"500ms", 0.5}, {"2m", 120},
                 {"1h", 3600}, {"0.25h", 900}, {"1e3", 1000}, {"2562047h", 2562047.0 * 3600}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.text);
        const auto r = parse({"-E", "--duration", c.text});
        ASSERT_EQ(r.exit_code, 0) << r.message;
        ASSERT_TRUE(r.options.duration);
        EXPECT_DOUBLE_EQ(*r.options.duration, c.seconds);
        // the stream times it in int64 nanoseconds
        EXPECT_LT(*r.options.duration * 1e9, 9.3e18);
    }
    for (const char* mib : {"1", "2", "64", "1024"}) {
        const auto r = parse({"-E", "--ring-size", mib});
        ASSERT_EQ(r.exit_code, 0) << r.message;
        EXPECT_EQ(std::to_string(r.options.ring_mb), mib);
    }
    EXPECT_EQ(parse({"-E", "--bpf-variant=tracepoint"}).options.bpf_variant, "tracepoint");
    EXPECT_EQ(parse({"-E", "--count=18446744073709551615"}).options.count.value_or(0),
              18446744073709551615u);
}

// sstrace's stream options are errors in a listing, never silently ignored (issue 9, item 8).
TEST(Options, StreamOptionsInAListing)
{
    set_program_name("sstrace");
    const struct {
        std::vector<std::string> args;
        const char* named;
    } cases[] = {
        {{"--timestamp", "-tan"}, "--timestamp"},   {{"-c", "1", "-tan"}, "-c"},
        {{"--count=1", "-tan"}, "--count"},        {{"--duration", "1", "-tan"}, "--duration"},
        {{"--transitions", "-tan"}, "--transitions"}, {{"--ring-size", "2", "-tan"}, "--ring-size"},
        {{"--bpf-variant", "tp_btf", "-tan"}, "--bpf-variant"},
        {{"--all-netns", "-tan"}, "--all-netns"},
        {{"-tan", "--ring-size=8", "--timestamp"}, "--ring-size"},  // the first one given
        {{"--times", "-tan"}, "--timestamp"},                       // named in full
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.named);
        const auto r = parse(c.args);
        EXPECT_EQ(r.exit_code, 255);
        EXPECT_EQ(r.message, std::string("sstrace: ") + c.named +
                                 " applies only to event streams (-E)");
        EXPECT_FALSE(r.usage);
        // the same command line with -E is a stream
        auto with_e = c.args;
        with_e.emplace_back("-E");
        with_e.insert(with_e.end(), {"state", "all"});
        EXPECT_EQ(parse(with_e).exit_code, 0) << parse(with_e).message;
    }
    // -v raises the verbosity of listings too
    EXPECT_EQ(parse({"-v", "-tan"}).exit_code, 0);
}

TEST(Options, ConflictingStreamOptions)
{
    set_program_name("sstrace");
    for (const auto& args : {std::vector<std::string>{"-N", "ns1", "-E", "--all-netns"},
                             std::vector<std::string>{"--all-netns", "-E", "-Nns1", "state", "all"}}) {
        const auto r = parse(args);
        EXPECT_EQ(r.exit_code, 255);
        EXPECT_EQ(r.message, "sstrace: -N and --all-netns conflict (one namespace, or every one): "
                             "give one of them");
    }
    EXPECT_EQ(parse({"-N", "ns1", "-E"}).exit_code, 0);
    EXPECT_EQ(parse({"--all-netns", "-E"}).exit_code, 0);
}

// Capture options: where each applies, and their values in the user's words (issue 11).
TEST(Options, CaptureOptions)
{
    set_program_name("sstrace");
    auto ok = parse({"-E", "state", "all", "--write", "f.cap", "--rotate-size", "2M",
                     "--rotate-count=3", "--post-rotate", "gzip", "--print", "--json"});
    ASSERT_EQ(ok.exit_code, 0) << ok.message;
    EXPECT_EQ(ok.options.write_file, "f.cap");
    EXPECT_EQ(ok.options.rotate_size, std::uint64_t{2} << 20);
    EXPECT_EQ(ok.options.rotate_count, 3u);
    EXPECT_TRUE(ok.options.print && ok.options.json);
    EXPECT_EQ(parse({"-E", "--write", "f", "--rotate-size", "10k"}).options.rotate_size, 10240u);
    EXPECT_EQ(parse({"-E", "--write", "f", "--rotate-size", "7"}).options.rotate_size, 7u);
    // a watch writes its table into each file, and reads it back
    EXPECT_EQ(parse({"-E", "--watch", "--write", "f", "state", "time-wait"}).exit_code, 0);
    EXPECT_EQ(parse({"--read", "f", "--watch", "--until", "03:10"}).exit_code, 0);
    auto rd = parse({"--read", "a.cap", "--read=b.cap", "-n", "--since", "03:10", "--until",
                     "@1714533000", "state", "time-wait"});
    ASSERT_EQ(rd.exit_code, 0) << rd.message;
    EXPECT_EQ(rd.options.read_files, (std::vector<std::string>{"a.cap", "b.cap"}));
    ASSERT_TRUE(rd.options.until && rd.options.until->epoch_ns);
    EXPECT_EQ(*rd.options.until->epoch_ns, std::int64_t{1714533000} * 1000000000);
    EXPECT_EQ(parse({"-tan", "--json"}).exit_code, 0);

    const struct {
        std::vector<std::string> args;
        const char* message;
    } errors[] = {
        {{"-E", "--write", "f", "--rotate-size", "0"},
         "sstrace: --rotate-size: expected a positive size in bytes, or with k, M or G (1024, "
         "1024^2, 1024^3), got '0'"},
        {{"-E", "--write", "f", "--rotate-size", "3X"},
         "sstrace: --rotate-size: expected a positive size in bytes, or with k, M or G (1024, "
         "1024^2, 1024^3), got '3X'"},
        {{"-E", "--print"}, "sstrace: --print applies only with --write FILE"},
        {{"-E", "--rotate-seconds", "5"}, "sstrace: --rotate-seconds applies only with --write FILE"},
        {{"-E", "--write", "f", "--rotate-count", "2"},
         "sstrace: --rotate-count needs --rotate-size or --rotate-seconds (files to rotate)"},
        {{"-E", "--write", "-", "--print"},
         "sstrace: --write -: the capture goes to stdout, where rows cannot go too and no file "
         "rotates; --print, --rotate-* and --post-rotate need --write FILE"},
        {{"-E", "--write", "f", "--json"},
         "sstrace: --json with --write needs --print: the capture file is binary, and nothing "
         "else is printed"},
        {{"-E", "--read", "f"},
         "sstrace: -E follows the kernel and --read a capture file: give one of them"},
        {{"--read", "f", "--duration", "1"},
         "sstrace: --duration applies only to live event streams (-E)"},
        {{"--read", "f", "--write", "g"}, "sstrace: --write applies only to live event streams (-E)"},
        {{"-E", "--since", "03:10"}, "sstrace: --since applies only to a capture read back (--read)"},
        {{"--write", "f", "-tan"}, "sstrace: --write applies only to event streams (-E)"},
        {{"-s", "--json"}, "sstrace: --json lists sockets: it does not apply to -s"},
        {{"--read", "f", "--until", "yesterday"},
         "sstrace: --until: expected a time such as 03:10, 03:10:07.5, 2024-05-01 03:10, "
         "2024-05-01T03:10:00Z or @1714533000, got 'yesterday'"},
        {{"--read", "f", "--watch", "--since", "03:10"},
         "sstrace: --watch with --since: a capture holds the table of each file's start, not of "
         "any moment; read from the file that starts where you want, or without --watch"},
    };
    for (const auto& c : errors) {
        SCOPED_TRACE(c.args.back());
        const auto r = parse(c.args);
        EXPECT_EQ(r.exit_code, 255);
        EXPECT_EQ(r.message, c.message);
    }
}

// --transitions has a meaning on state streams only: the destroy stream would print
// `UNCONN -> UNCONN` on every row (issue 9, item 8).
TEST(Options, TransitionsNeedStateWords)
{
    set_program_name("sstrace");
    const char* message = "sstrace: --transitions needs state words (-E state STATE ...): the "
                          "destroy stream shows no state changes";
    for (const auto& args :
         {std::vector<std::string>{"-E", "--transitions"},
          std::vector<std::string>{"-E", "--transitions", "dport", "=", ":443"},
          std::vector<std::string>{"-tE", "--transitions", "-F", "/dev/null"}}) {
        const auto r = parse(args);
        EXPECT_EQ(r.exit_code, 255);
        EXPECT_EQ(r.message, message);
    }
    for (const auto& args :
         {std::vector<std::string>{"-E", "--transitions", "state", "time-wait"},
          std::vector<std::string>{"-E", "--transitions", "exclude", "listening", "sport", "=",
                                   ":22"},
          std::vector<std::string>{"--transitions", "state", "all", "-E"},
          // words that do not parse are the stream's to report, in ss's words
          std::vector<std::string>{"-E", "--transitions", "state", "bogus"},
          std::vector<std::string>{"-E", "--transitions", "state"}}) {
        EXPECT_EQ(parse(args).exit_code, 0) << parse(args).message;
    }
}

// One usage text, naming the program as invoked, with sstrace's own options (issue 9, item 7).
// --top: a view of its own, with the selection of a stream and none of its rows (issue 12).
TEST(Options, TopOptions)
{
    set_program_name("sstrace");
    auto r = parse({"--top"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_TRUE(r.options.top);
    EXPECT_FALSE(r.options.events);
    EXPECT_DOUBLE_EQ(r.options.interval, 1.0);
    r = parse({"--top", "--interval", "500ms", "--batch", "-c", "3", "--json", "-4",
               "--all-netns", "dport", "=", ":80"});
    ASSERT_EQ(r.exit_code, 0) << r.message;
    EXPECT_DOUBLE_EQ(r.options.interval, 0.5);
    EXPECT_TRUE(r.options.batch);
    EXPECT_EQ(r.options.count.value_or(0), 3u);
    EXPECT_EQ(r.options.filter_words.size(), 3u);
    EXPECT_DOUBLE_EQ(parse({"--top", "--interval=2"}).options.interval, 2.0);
    EXPECT_EQ(parse({"--top", "--duration", "10s", "-N", "web"}).exit_code, 0);

    expect_errors({
        {{"--interval", "2"}, "sstrace: --interval applies only to the live summary view (--top)"},
        {{"-E", "--batch"}, "sstrace: --batch applies only to the live summary view (--top)"},
        {{"--top", "-E"}, "sstrace: --top is a view of its own, -E a stream of rows: give one of "
                          "them"},
        {{"--top", "--interval", "50ms"}, "sstrace: --interval: '50ms' is too short (at least "
                                          "0.1s)"},
        {{"--top", "--interval", "x"}, "sstrace: --interval: expected a time such as 30 "
                                       "(seconds), 1.5s, 500ms, 2m or 1h, got 'x'"},
        {{"--top", "--interval", "0"}, "sstrace: --interval: expected a positive time, got '0'"},
        {{"--top", "--transitions"}, "sstrace: --transitions does not apply to --top (it shows "
                                     "counts, not rows)"},
        {{"--top", "--write", "f"}, "sstrace: --write does not apply to --top (it shows counts, "
                                    "not rows)"},
        {{"--top", "--read", "f"}, "sstrace: --read does not apply to --top (it shows counts, "
                                   "not rows)"},
        {{"--top", "-p"}, "sstrace: -p does not apply to --top (it shows counts, not rows)"},
        {{"--top", "-e"}, "sstrace: -e does not apply to --top (it shows counts, not rows)"},
        {{"--top", "state", "time-wait"}, "sstrace: --top counts every state: state and exclude "
                                          "words do not apply (a FILTER expression selects the "
                                          "sockets)"},
        {{"--top", "--all-netns", "-N", "x"}, "sstrace: -N and --all-netns conflict (one "
                                              "namespace, or every one): give one of them"},
    }, false);
}

TEST(Usage, OneTextWithSstracesOptions)
{
    set_program_name("/usr/local/sbin/sstrace");
    const std::string text = usage_text();
    EXPECT_EQ(text.rfind("Usage: sstrace [ OPTIONS ]\n       sstrace [ OPTIONS ] [ FILTER ]\n"
                         "   -h, --help          this message\n",
                         0),
              0u)
        << text;
    for (const char* o : {"--all-netns", "--timestamp", "--transitions", "-c, --count=N", "--top",
                          "--interval=TIME", "--batch",
                          "--duration=TIME", "--ring-size=MiB", "--bpf-variant=V", "--verbose",
                          "       sstrace -E [ OPTIONS ]"}) {
        EXPECT_NE(text.find(o), std::string::npos) << o;
    }
    set_program_name("ss");
    const std::string as_ss = usage_text();
    EXPECT_EQ(as_ss.rfind("Usage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n", 0), 0u);
    EXPECT_NE(as_ss.find("       ss -E [ OPTIONS ]"), std::string::npos);
    EXPECT_EQ(as_ss.find("sstrace -E"), std::string::npos);
}

TEST(Usage, UsageErrorPrintsMessageThenUsage)
{
    set_program_name("sstrace");
    testing::internal::CaptureStderr();
    EXPECT_EQ(usage_error("sstrace: invalid option -- 'Q'"), 255);
    EXPECT_EQ(testing::internal::GetCapturedStderr(),
              "sstrace: invalid option -- 'Q'\n" + usage_text());
    testing::internal::CaptureStderr();
    EXPECT_EQ(usage_error("bison line\n"), 255);  // not doubled
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "bison line\n" + usage_text());
    testing::internal::CaptureStdout();
    EXPECT_EQ(usage_error("", UsageTo::Stdout), 0);  // -f help
    EXPECT_EQ(testing::internal::GetCapturedStdout(), usage_text());
}

namespace {

std::string read_source_file(const std::string& relative)
{
    std::ifstream in(std::string(SSTRACE_SOURCE_DIR) + "/" + relative);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// One sentence as the three documents spell it: no markup, single spaces, lower-case start,
// no final period.
std::string plain(std::string text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 2, "\\-") == 0) {
            continue;  // troff's minus: the '-' follows
        }
        const char c = text[i] == '\n' ? ' ' : text[i];
        if (c == '`' || (c == ' ' && (out.empty() || out.back() == ' '))) {
            continue;
        }
        out += c;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '.')) {
        out.pop_back();
    }
    if (!out.empty()) {
        out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
    }
    return out;
}

// README: `| code | meaning |` rows under "## Exit codes".
std::map<int, std::string> readme_exit_codes(const std::string& readme)
{
    std::map<int, std::string> codes;
    std::istringstream in(readme.substr(readme.find("## Exit codes")));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line) && (line.empty() || line[0] == '|' || codes.empty())) {
        if (line.size() > 2 && std::isdigit(static_cast<unsigned char>(line[2])) != 0) {
            const std::size_t bar = line.find('|', 2);
            codes[std::stoi(line.substr(2))] =
                plain(line.substr(bar + 1, line.rfind('|') - bar - 1));
        }
    }
    return codes;
}

// Meanings by exit code: a line `start` recognises begins an entry (and gives its code and the
// text on that line), the lines up to the next one continue it; troff's .TP lines are markup.
template <typename Start>
std::map<int, std::string> entries(const std::string& section, Start start)
{
    std::map<int, std::string> codes;
    std::istringstream in(section);
    std::string line;
    std::optional<int> code;
    std::string text;
    while (std::getline(in, line)) {
        std::string rest;
        if (const std::optional<int> next = start(line, rest)) {
            if (code) {
                codes[*code] = plain(text);
            }
            code = next;
            text = rest;
        } else if (line != ".TP") {
            text += " " + line;
        }
    }
    if (code) {
        codes[*code] = plain(text);
    }
    return codes;
}

// --help: "   N    meaning" lines under "Exit status:", continued by deeper indented lines.
std::map<int, std::string> help_exit_codes(const std::string& help)
{
    return entries(help.substr(help.find("Exit status:\n")),
                   [](const std::string& line, std::string& rest) -> std::optional<int> {
                       if (line.size() <= 3 || std::isdigit(static_cast<unsigned char>(line[3])) == 0) {
                           return std::nullopt;
                       }
                       rest = line.substr(line.find(' ', 3));
                       return std::stoi(line.substr(3));
                   });
}

// The man page: ".TP", ".B N", then the meaning, under ".SH EXIT STATUS".
std::map<int, std::string> man_exit_codes(const std::string& man)
{
    const std::size_t begin = man.find(".SH EXIT STATUS\n");
    return entries(man.substr(begin, man.find(".SH ", begin + 1) - begin),
                   [](const std::string& line, std::string&) -> std::optional<int> {
                       if (line.rfind(".B ", 0) != 0) {
                           return std::nullopt;
                       }
                       return std::stoi(line.substr(3));
                   });
}

}  // namespace

// --help, the README and the man page give the same exit codes the same meaning
// (issue 9, item 10).
TEST(Help, ExitStatusAsTheReadmeAndTheManPage)
{
    const auto readme = readme_exit_codes(read_source_file("README.md"));
    ASSERT_EQ(readme.size(), 9u);
    for (const int code : {kExitOk, kExitFailure, kExitNotImplemented, kExitNoPrivilege,
                           kExitNoKernelSupport, kExitBpfLoad, kExitDamaged, kExitListen,
                           kExitUsage}) {
        EXPECT_TRUE(readme.count(code) == 1) << code;
    }
    EXPECT_EQ(help_exit_codes(help_text()), readme);
    EXPECT_EQ(man_exit_codes(read_source_file("doc/sstrace.8")), readme);
}

// The capabilities of each stream and feature are in --help (issue 9, item 10).
TEST(Help, PrivilegesOfEachStreamAndFeature)
{
    const std::string help = help_text();
    const std::string privileges = help.substr(help.find("Privileges"));
    for (const char* needed : {"CAP_BPF + CAP_PERFMON", "no CAP_SYSLOG",
                               "for SYN-SENT rows' local port",
                               "CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN if tracefs is not mounted",
                               "-N NAME         CAP_SYS_ADMIN", "-p, -T          CAP_SYS_PTRACE",
                               "-K              CAP_NET_ADMIN"}) {
        EXPECT_NE(privileges.find(needed), std::string::npos) << needed;
    }
}
