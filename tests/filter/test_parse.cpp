// SPDX-License-Identifier: GPL-2.0-only
// Parser tables: the tree every spelling produces, the errors (text and exit code) ss gives,
// the lexer's word splitting and escapes, and -F file semantics.
#include "zoo.hpp"
#include "sstrace/core/program.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

namespace {

using namespace sstrace::filter;

ParseResult parse_words(const std::vector<std::string>& words, ParseOptions o = zoo::lab_options())
{
    return parse(words, nullptr, o);
}

ParseResult parse_cmd(const std::string& cmd, ParseOptions o = zoo::lab_options())
{
    return parse_words(zoo::shell_split(cmd), std::move(o));
}

struct TreeCase {
    const char* cmd;   // shell words, as typed after `ss -tan`
    const char* tree;  // Filter::to_string()
};

// Every operator spelling, operand form and grouping rule.
const TreeCase kTrees[] = {
    {"", "(all)"},
    {"autobound", "(autobound)"},
    // sport/dport: every comparison spelling
    {"sport = :22", "(src *:22)"},
    {"sport == :22", "(src *:22)"},
    {"sport eq :22", "(src *:22)"},
    {"sport :22", "(src *:22)"},
    {"sport 22", "(src *:22)"},
    {"sport = 22", "(src *:22)"},
    {"sport != :22", "(not (src *:22))"},
    {"sport ne :22", "(not (src *:22))"},
    {"sport neq :22", "(not (src *:22))"},
    {"sport >= :22", "(sport>= 22)"},
    {"sport ge :22", "(sport>= 22)"},
    {"sport geq :22", "(sport>= 22)"},
    {"sport <= :22", "(sport<= 22)"},
    {"sport le :22", "(sport<= 22)"},
    {"sport leq :22", "(sport<= 22)"},
    {"sport > :22", "(not (sport<= 22))"},
    {"sport gt :22", "(not (sport<= 22))"},
    {"sport < :22", "(not (sport>= 22))"},
    {"sport lt :22", "(not (sport>= 22))"},
    {"dport = :80", "(dst *:80)"},
    {"dport != :80", "(not (dst *:80))"},
    {"dport >= :80", "(dport>= 80)"},
    {"dport <= :80", "(dport<= 80)"},
    {"dport > :1024", "(not (dport<= 1024))"},
    {"dport < :1024", "(not (dport>= 1024))"},
    {"dport 80", "(dst *:80)"},
    // ports: C number syntax, services, quirks
    {"sport = :0x16", "(src *:22)"},
    {"sport = :026", "(src *:22)"},
    {"sport = :ssh", "(src *:22)"},
    {"sport = http", "(src *:80)"},
    {"sport = :", "(src *:*)"},
    {"sport = :-1", "(src *:*)"},
    {"sport = *", "(src *:*)"},
    {"sport = :*", "(src *:*)"},
    {"sport = :65536", "(src *:65536)"},
    {"sport >= :", "(sport>= -1)"},
    // src/dst hosts
    {"src 127.0.0.1", "(src inet:127.0.0.1/32:*)"},
    {"src = 127.0.0.1", "(src inet:127.0.0.1/32:*)"},
    {"src == 127.0.0.1", "(src inet:127.0.0.1/32:*)"},
    {"src eq 127.0.0.1", "(src inet:127.0.0.1/32:*)"},
    {"dst 127.0.0.1:22", "(dst inet:127.0.0.1/32:22)"},
    {"dst 10.0.0.0/8", "(dst inet:10.0.0.0/8:*)"},
    {"dst 10.0.0.0/255.255.0.0", "(dst inet:10.0.0.0/16:*)"},
    {"dst 193.233.7/24", "(dst inet:193.233.7.0/24:*)"},
    {"dst 127.1", "(dst inet:127.1.0.0/32:*)"},
    {"dst 0x7f.1", "(dst inet:127.1.0.0/32:*)"},
    {"dst 010.1.1.1", "(dst inet:8.1.1.1/32:*)"},
    {"dst 0.0.0.0/0", "(dst inet:*:*)"},
    {"src [::1]", "(src inet6:[::1]/128:*)"},
    {"src [::1]:8443", "(src inet6:[::1]/128:8443)"},
    {"src ::1/128", "(src inet6:[::1]/128:*)"},
    {"src fe80::/10", "(src inet6:[fe80::]/10:*)"},
    {"src [fe80::]/10", "__error__"},  // after brackets "/10" is taken for a port
    {"src [::ffff:127.0.0.1]", "(src inet6:[::ffff:127.0.0.1]/128:*)"},
    {"src *", "(src *:*)"},
    {"src *:8080", "(src *:8080)"},
    {"src :8080", "(src *:8080)"},
    {"src []:8080", "(src *:8080)"},
    {"src any", "(src *:*)"},
    {"src default", "(src *:*)"},
    {"src all", "(src *:*)"},
    {"src 127.0.0.1:http", "(src inet:127.0.0.1/32:80)"},
    {"src inet:127.0.0.1:8080", "(src inet:127.0.0.1/32:8080)"},
    {"src inet6:[::1]:22", "(src inet6:[::1]/128:22)"},
    {"src localhost:ssh", "(src inet:127.0.0.1/32,[::1]/128:22)"},
    {"127.0.0.1", "__syntax__"},
    // dev, fwmark, cgroup
    {"dev lo", "(dev 1)"},
    {"dev = v0", "(dev 5)"},
    {"dev == lo", "(dev 1)"},
    {"dev != lo", "(not (dev 1))"},
    {"dev 7", "(dev 7)"},
    {"dev 0x10", "(dev 16)"},
    {"fwmark 0x2a", "(fwmark 0x2a/0xffffffff)"},
    {"fwmark = 0x2/0x2", "(fwmark 0x2/0x2)"},
    {"fwmark != 42", "(not (fwmark 0x2a/0xffffffff))"},
    {"fwmark 010", "(fwmark 0x8/0xffffffff)"},
    {"fwmark 0xffffffff", "(fwmark 0xffffffff/0xffffffff)"},
    {"cgroup /", "(cgroup 2)"},
    {"cgroup != /", "(not (cgroup 2))"},
    // negation
    {"not autobound", "(not (autobound))"},
    {"! autobound", "(not (autobound))"},
    {"! ! autobound", "(not (not (autobound)))"},
    {"! ( sport = :22 )", "(not (src *:22))"},
    // left-to-right grouping with equal precedence
    {"sport = :22 or sport = :80 and dport = :60410",
     "(and (or (src *:22) (src *:80)) (dst *:60410))"},
    {"dport = :60410 and sport = :80 or sport = :22",
     "(or (and (dst *:60410) (src *:80)) (src *:22))"},
    {"sport = :1 sport = :2 sport = :3", "(and (and (src *:1) (src *:2)) (src *:3))"},
    {"sport = :1 & sport = :2 && sport = :3 and sport = :4",
     "(and (and (and (src *:1) (src *:2)) (src *:3)) (src *:4))"},
    {"sport = :1 | sport = :2 || sport = :3 or sport = :4",
     "(or (or (or (src *:1) (src *:2)) (src *:3)) (src *:4))"},
    {"( sport = :1 or sport = :2 ) and dport = :3", "(and (or (src *:1) (src *:2)) (dst *:3))"},
    {"sport = :1 or ( sport = :2 and dport = :3 )", "(or (src *:1) (and (src *:2) (dst *:3)))"},
    {"not sport = :1 or sport = :2", "(or (not (src *:1)) (src *:2))"},
    {"( ( ( autobound ) ) )", "(autobound)"},
    {"autobound autobound", "(and (autobound) (autobound))"},
    {"src 127.0.0.1:22 dst 127.0.0.1:60410",
     "(and (src inet:127.0.0.1/32:22) (dst inet:127.0.0.1/32:60410))"},
    // one argv word holding the whole expression is split again
    {"'( sport = :22 or dport = :22 )'", "(or (src *:22) (dst *:22))"},
    {"'sport = :22\tor\tdport = :22'", "(or (src *:22) (dst *:22))"},
    // backslash escapes; keywords are recognised after unescaping
    {"'\\(' autobound '\\)'", "(autobound)"},
    {"'sport = :2\\2'", "(src *:22)"},
    {"'dst 1.2.3.4:8\\0'", "(dst inet:1.2.3.4/32:80)"},
};

TEST(ParseTree, EverySpelling)
{
    int n = 0;
    for (const TreeCase& c : kTrees) {
        SCOPED_TRACE(c.cmd);
        const ParseResult r = parse_cmd(c.cmd);
        if (std::string(c.tree) == "__syntax__" || std::string(c.tree) == "__error__") {
            ASSERT_TRUE(r.error);
            EXPECT_EQ(r.error->exit_code, std::string(c.tree) == "__syntax__" ? 255 : 1);
            continue;
        }
        ASSERT_FALSE(r.error) << r.error->message;
        EXPECT_EQ(r.filter.to_string(), c.tree);
        ++n;
    }
    EXPECT_GE(n, 80);
}

TEST(ParseTree, FamilyPrefixResetsFamily)
{
    EXPECT_EQ(parse_cmd("src inet:127.0.0.1").family_reset, AF_INET);
    EXPECT_EQ(parse_cmd("src inet6:[::1]").family_reset, AF_INET6);
    EXPECT_EQ(parse_cmd("src unix:/run/x").family_reset, AF_UNIX);
    EXPECT_EQ(parse_cmd("src link:ip").family_reset, AF_PACKET);
    EXPECT_EQ(parse_cmd("src netlink:rtnl").family_reset, AF_NETLINK);
    EXPECT_EQ(parse_cmd("src vsock:2:22").family_reset, AF_VSOCK);
    EXPECT_FALSE(parse_cmd("src 127.0.0.1").family_reset.has_value());
    // the last prefix wins
    EXPECT_EQ(parse_cmd("src inet:1.2.3.4 or src inet6:[::1]").family_reset, AF_INET6);
}

TEST(ParseTree, FamilyStaysInForceForLaterOperands)
{
    // ss 6.1: once an operand selected a family, later operands without a prefix use it
    auto r = parse_cmd("src inet6:[::1] or src 127.0.0.1");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message,
              "Error: an inet prefix is expected rather than \"127.0.0.1\".\nCannot parse dst/src address.\n");
    r = parse_cmd("src link:ip or src 127.0.0.1");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message, "Cannot parse dst/src address.\n");
    // a later unix: operand turns port words into globs: no port error, but a syntax error
    r = parse_cmd("sport unix:/x sport = :22 0x2/0x2");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->exit_code, 255);
    // an explicit prefix still overrides
    EXPECT_EQ(parse_cmd("src inet:1.2.3.4 or src inet6:[::1]").filter.to_string(),
              "(or (src inet:1.2.3.4/32:*) (src inet6:[::1]/128:*))");
    EXPECT_EQ(parse_cmd("src netlink:rtnl or sport = :kernel").filter.to_string(),
              "(or (src netlink:0x0:*) (src netlink:*:0))");
}

TEST(ParseTree, OtherFamilies)
{
    EXPECT_EQ(parse_cmd("src unix:@*").filter.to_string(), "(src unix:@*)");
    EXPECT_EQ(parse_cmd("src link:ip").filter.to_string(), "(src link:0x800:*)");
    EXPECT_EQ(parse_cmd("src link:*:lo").filter.to_string(), "(src link:*:1)");
    EXPECT_EQ(parse_cmd("src link:0x86dd:3").filter.to_string(), "(src link:0x86dd:3)");
    EXPECT_EQ(parse_cmd("src netlink:rtnl").filter.to_string(), "(src netlink:0x0:*)");
    EXPECT_EQ(parse_cmd("src netlink:tcpdiag:kernel").filter.to_string(), "(src netlink:0x4:0)");
    EXPECT_EQ(parse_cmd("src vsock:3:1024").filter.to_string(), "(src vsock:0x3:1024)");

    ParseOptions ux = zoo::lab_options();
    ux.preferred_family = AF_UNIX;  // -x: every host operand is a path glob
    EXPECT_EQ(parse_cmd("src '*ssdoc*'", ux).filter.to_string(), "(src unix:*ssdoc*)");
    EXPECT_EQ(parse_cmd("sport = :2316801", ux).filter.to_string(), "(src unix::2316801)");

    ParseOptions nl = zoo::lab_options();
    nl.preferred_family = AF_NETLINK;
    EXPECT_EQ(parse_cmd("sport = :kernel", nl).filter.to_string(), "(src netlink:*:0)");
    EXPECT_EQ(parse_cmd("sport = kernel", nl).filter.to_string(), "(src netlink:*:0)");
    EXPECT_EQ(parse_cmd("sport = :5", nl).filter.to_string(), "(src netlink:*:5)");
    EXPECT_TRUE(parse_cmd("sport = ::5", nl).error);

    ParseOptions vs = zoo::lab_options();
    vs.preferred_family = AF_VSOCK;  // --vsock: after sport/dport only a port, ':' optional
    EXPECT_EQ(parse_cmd("sport = :22", vs).filter.to_string(), "(src vsock:*:22)");
    EXPECT_EQ(parse_cmd("sport = 22", vs).filter.to_string(), "(src vsock:*:22)");

    ParseOptions pk = zoo::lab_options();
    pk.preferred_family = AF_PACKET;  // -0: after sport/dport an ifindex or interface name
    EXPECT_EQ(parse_cmd("sport = :lo", pk).filter.to_string(), "(src link:*:1)");
    EXPECT_EQ(parse_cmd("sport = 3", pk).filter.to_string(), "(src link:*:3)");
    EXPECT_TRUE(parse_cmd("sport = :ip", pk).error);

    ParseOptions v4 = zoo::lab_options();
    v4.preferred_family = AF_INET;  // -4
    EXPECT_EQ(parse_cmd("src 127.0.0.1", v4).filter.to_string(), "(src inet:127.0.0.1/32:*)");
    EXPECT_TRUE(parse_cmd("src ::1/128", v4).error);
}

struct ErrorCase {
    const char* cmd;
    const char* message;  // exact stderr text ("" for the bison line + usage)
    int code;
};

constexpr const char* kSyntax = "";

const ErrorCase kErrors[] = {
    {"'sport = :abc'", "Error: \"abc\" does not look like a port.\nCannot parse dst/src address.\n", 1},
    {"'sport ='", kSyntax, 255},
    {"'( sport = :22'", kSyntax, 255},
    {"'sport = :22 )'", kSyntax, 255},
    {"'sport = :ssh and'", kSyntax, 255},
    {"sport = :ssh dport", kSyntax, 255},
    {"')'", kSyntax, 255},
    {"and", kSyntax, 255},
    {"'!'", kSyntax, 255},
    {"sport", kSyntax, 255},
    {"dev", kSyntax, 255},
    {"fwmark = =", kSyntax, 255},
    {"'dst != 1.2.3.4'", kSyntax, 255},
    {"'sport = :22 ( )'", kSyntax, 255},
    {"'\\'", kSyntax, 255},  // a lone backslash is an empty operand, which cannot start an expr
    {"') dst 1.2.3.4.5'", kSyntax, 255},  // the syntax error comes first
    {"dst 1.2.3.4.5",
     "Error: an inet prefix is expected rather than \"1.2.3.4.5\".\nCannot parse dst/src address.\n", 1},
    {"'dst 1.2.3.4.5 )'",
     "Error: an inet prefix is expected rather than \"1.2.3.4.5\".\nCannot parse dst/src address.\n", 1},
    {"dst nosuchhost.invalid",
     "Error: an inet prefix is expected rather than \"nosuchhost.invalid\".\nCannot parse dst/src address.\n", 1},
    {"foo", "Error: an inet prefix is expected rather than \"foo\".\nCannot parse dst/src address.\n", 1},
    {"src 127.0.0.1/33",
     "Error: an inet prefix is expected rather than \"127.0.0.1/33\".\nCannot parse dst/src address.\n", 1},
    {"src 1.2.3.256", "Error: an inet prefix is expected rather than \"1.2.3.256\".\nCannot parse dst/src address.\n", 1},
    {"src any/8", "Error: an inet prefix is expected rather than \"any/8\".\nCannot parse dst/src address.\n", 1},
    {"src ::1", "Error: an inet prefix is expected rather than \":\".\nCannot parse dst/src address.\n", 1},
    {"src '[::1]x'", "Error: \"x\" does not look like a port.\nCannot parse dst/src address.\n", 1},
    {"src '*abc'", "Error: \"abc\" does not look like a port.\nCannot parse dst/src address.\n", 1},
    {"src 1.2.3.4 :abc", "Error: \"abc\" does not look like a port.\nCannot parse dst/src address.\n", 1},
    {"sport = :99999999999", "Error: \"99999999999\" does not look like a port.\nCannot parse dst/src address.\n", 1},
    {"'src [::1'", "Cannot parse dst/src address.\n", 1},
    {"'(sport'", "Error: an inet prefix is expected rather than \"(sport\".\nCannot parse dst/src address.\n", 1},
    {"'sport=:22'", "Error: an inet prefix is expected rather than \"sport=\".\nCannot parse dst/src address.\n", 1},
    {"sport = :22 state established",
     "Error: \"state\" does not look like a port.\nCannot parse dst/src address.\n", 1},
    {"'src\\ 127.0.0.1'",
     "Error: an inet prefix is expected rather than \"src 127.0.0.1\".\nCannot parse dst/src address.\n", 1},
    {"dev nosuchdev", "Cannot parse device.\n", 1},
    {"dev -1", "Cannot parse device.\n", 1},
    {"fwmark zz", "Cannot parse mark zz.\n", 1},
    {"fwmark 1/", "Cannot parse mark 1/.\n", 1},
    {"cgroup /nonexistent",
     "Failed to get cgroup2 ID: No such file or directory\nCannot parse cgroup /nonexistent.\n", 1},
    {"src link:bogus", "Cannot parse dst/src address.\n", 1},
    {"src link:ip:nosuchdev", "Cannot parse dst/src address.\n", 1},
    {"src netlink:rtnl:foo", "Cannot parse dst/src address.\n", 1},
    {"src vsock:x", "Cannot parse dst/src address.\n", 1},
    {"sport = link:ip", "Cannot parse dst/src address.\n", 1},  // after sport: a port only
    {"dport netlink:rtnl", "Cannot parse dst/src address.\n", 1},
    {"sport = vsock:", "Cannot parse dst/src address.\n", 1},
    {"sport = link::ip", "Cannot parse dst/src address.\n", 1},
    {"src netlink:256", "Cannot parse dst/src address.\n", 1},  // netlink protocols: 0-255
    {"src netlink:RTNL", "Cannot parse dst/src address.\n", 1},
    {"src link:65536", "Cannot parse dst/src address.\n", 1},
    {"cgroup '\\'", "Invalid cgroup2 path\nCannot parse cgroup .\n", 1},
};

TEST(ParseErrors, MessagesAndExitCodes)
{
    sstrace::set_program_name("ss");  // ss's words, as a copy installed as ss prints them
    for (const ErrorCase& c : kErrors) {
        SCOPED_TRACE(c.cmd);
        const ParseResult r = parse_cmd(c.cmd);
        ASSERT_TRUE(r.error);
        EXPECT_EQ(r.error->exit_code, c.code);
        if (std::string(c.message).empty()) {
            EXPECT_TRUE(r.error->usage);
            EXPECT_EQ(r.error->message,
                      "ss: bison bellows (while parsing filter): \"syntax error!\" Sorry.\n");
        } else {
            EXPECT_FALSE(r.error->usage);
            EXPECT_EQ(r.error->message, c.message);
        }
    }
}

TEST(ParseErrors, ServiceNamesFollowSelectedTables)
{
    ParseOptions o = zoo::lab_options();
    o.resolvers.service = [](const std::string& name, const char* proto) -> std::optional<int> {
        if (name == "ambig") {
            return std::string(proto) == "tcp" ? 1000 : 2000;
        }
        if (name == "udponly" && std::string(proto) == "udp") {
            return 3000;
        }
        return std::nullopt;
    };
    o.tcp = o.udp = true;
    auto r = parse_cmd("sport = :ambig", o);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message, "Error: ambiguous port \"ambig\".\nCannot parse dst/src address.\n");
    EXPECT_EQ(r.error->exit_code, 1);

    o.udp = false;  // -t: only the tcp lookup
    EXPECT_EQ(parse_cmd("sport = :ambig", o).filter.to_string(), "(src *:1000)");
    EXPECT_TRUE(parse_cmd("sport = :udponly", o).error);
    o.udp = true;
    o.tcp = false;  // -u
    EXPECT_EQ(parse_cmd("sport = :ambig", o).filter.to_string(), "(src *:2000)");
    EXPECT_EQ(parse_cmd("sport = :udponly", o).filter.to_string(), "(src *:3000)");
    o.udp = false;  // neither table: names cannot be ports, numbers still can
    EXPECT_TRUE(parse_cmd("sport = :ambig", o).error);
    EXPECT_EQ(parse_cmd("sport = :7", o).filter.to_string(), "(src *:7)");
}

TEST(ParseErrors, SyntaxErrorNamesTheProgramAsInvoked)
{
    sstrace::set_program_name("/opt/bin/sstrace");
    const ParseResult r = parse_cmd("sport =");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message,
              "sstrace: bison bellows (while parsing filter): \"syntax error!\" Sorry.\n");
}

TEST(ParseErrors, BisonStackLimit)
{
    sstrace::set_program_name("ss");
    // ss's bison parser holds at most 9999 states: 9997 `!` + autobound fit, 9998 do not.
    for (int n : {9997, 9998}) {
        std::vector<std::string> words(static_cast<std::size_t>(n), "!");
        words.emplace_back("autobound");
        const ParseResult r = parse_words(words);
        if (n == 9997) {
            EXPECT_FALSE(r.error);
            const zoo::Row& row = zoo::tcp_zoo()[8];  // 127.0.0.1:38440, autobound
            EXPECT_EQ(r.filter.matches(row.view), false);  // odd number of negations
        } else {
            ASSERT_TRUE(r.error);
            EXPECT_EQ(r.error->message,
                      "ss: bison bellows (while parsing filter): \"memory exhausted!\" Sorry.\n");
            EXPECT_EQ(r.error->exit_code, 255);
            EXPECT_TRUE(r.error->usage);
        }
    }
    // parentheses cost two states each after a leading expression: 4998 levels fit, 4999 do not
    for (int n : {4998, 4999}) {
        std::vector<std::string> words;
        for (int i = 0; i < n; ++i) {
            words.emplace_back("autobound");
            words.emplace_back("(");
        }
        words.emplace_back("autobound");
        for (int i = 0; i < n; ++i) {
            words.emplace_back(")");
        }
        EXPECT_EQ(parse_words(words).error.has_value(), n == 4999) << n;
    }
    // a long flat list needs no stack at all
    std::vector<std::string> flat;
    for (int i = 0; i < 50000; ++i) {
        flat.emplace_back(i % 2 ? "or" : "autobound");
    }
    flat.emplace_back("autobound");
    const ParseResult r = parse_words(flat);
    ASSERT_FALSE(r.error);
    EXPECT_TRUE(r.filter.matches(zoo::tcp_zoo()[8].view));
}

// --- -F ------------------------------------------------------------------------------------

struct TempFile {
    explicit TempFile(const std::string& content) : f(std::tmpfile())
    {
        std::fwrite(content.data(), 1, content.size(), f);
        std::rewind(f);
    }
    ~TempFile() { std::fclose(f); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    std::FILE* f;
};

TEST(FilterFile, ArgvFirstThenFileAsOneStream)
{
    // ss -tn -F f sport = :80, f = "sport = :22\nor dport = :22": (80 and 22) or dport 22
    TempFile file("sport = :22\nor dport = :22\n");
    const std::vector<std::string> argv = {"sport", "=", ":80"};
    const ParseResult r = parse(argv, file.f, zoo::lab_options());
    ASSERT_FALSE(r.error) << r.error->message;
    EXPECT_EQ(r.filter.to_string(), "(or (and (src *:80) (src *:22)) (dst *:22))");
}

TEST(FilterFile, CommentsZeroLinesBlanksAndEscapes)
{
    TempFile file("# a comment\n0 or dport = :22\n\n   \n\tsport\\ = :22\n( sport = :2\\2 )\n");
    const ParseResult r = parse({}, file.f, zoo::lab_options());
    ASSERT_TRUE(r.error);  // "sport =" escaped into one operand word
    EXPECT_EQ(r.error->message,
              "Error: an inet prefix is expected rather than \"sport =\".\nCannot parse dst/src address.\n");

    TempFile ok("# x\n0 or dport = :22\n\n( sport = :2\\2 )\nor autobound");
    const ParseResult r2 = parse({}, ok.f, zoo::lab_options());
    ASSERT_FALSE(r2.error) << r2.error->message;
    EXPECT_EQ(r2.filter.to_string(), "(or (src *:22) (autobound))");
}

TEST(FilterFile, StateWordsAreOperandsInTheFile)
{
    TempFile file("state established\n");
    const ParseResult r = parse({}, file.f, zoo::lab_options());
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message,
              "Error: an inet prefix is expected rather than \"state\".\nCannot parse dst/src address.\n");
}

TEST(FilterFile, LineLengthLimit)
{
    const std::string pad(1010, ' ');
    TempFile fits(pad + std::string(1021 - pad.size() - 9, ' ') + "autobound\n");  // 1021 + '\n'
    EXPECT_FALSE(parse({}, fits.f, zoo::lab_options()).error);

    TempFile too_long(std::string(1013, ' ') + "autobound\n");  // 1022 + '\n' = 1023 bytes
    const ParseResult r = parse({}, too_long.f, zoo::lab_options());
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message, "Too long line in filter\n");
    EXPECT_EQ(r.error->exit_code, 255);
}

TEST(FilterFile, ReadLazily)
{
    // a syntax error in argv stops the parse before the file is read
    TempFile file("autobound\n");
    const std::vector<std::string> argv = {")"};
    ASSERT_TRUE(parse(argv, file.f, zoo::lab_options()).error);
    EXPECT_EQ(std::ftell(file.f), 0);
}

TEST(FilterFile, OpenErrors)
{
    std::optional<FilterError> err;
    EXPECT_EQ(open_filter_file("/nonexistent", err), nullptr);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->message, "fopen filter file: No such file or directory\n");
    EXPECT_EQ(err->exit_code, 255);
    err.reset();
    EXPECT_EQ(open_filter_file("-", err), stdin);
    EXPECT_FALSE(err);
}

TEST(ParseOptionsTest, EphemeralRangeForAutobound)
{
    ParseOptions o = zoo::lab_options();
    o.ephemeral = std::pair<unsigned, unsigned>{1024, 4999};
    const ParseResult r = parse_cmd("autobound", o);
    ASSERT_FALSE(r.error);
    SockView v = zoo::tcp_zoo()[8].view;  // lport 38440
    EXPECT_FALSE(r.filter.matches(v));
    v.lport = 4999;
    EXPECT_TRUE(r.filter.matches(v));
    v.lport = 5000;
    EXPECT_FALSE(r.filter.matches(v));
}

}  // namespace

#include <net/if.h>

namespace {

TEST(SystemResolvers, InterfacesAndServices)
{
    const Resolvers r = Resolvers::system();
    EXPECT_EQ(r.ifindex("lo"), if_nametoindex("lo"));
    EXPECT_EQ(r.ifindex("if7"), 7u);  // the names ss prints for unknown indexes
    EXPECT_EQ(r.ifindex("if0"), 0u);
    EXPECT_EQ(r.ifindex("nosuchdev"), 0u);
    if (auto ssh = r.service("ssh", "tcp")) {
        EXPECT_EQ(*ssh, 22);
    }
    EXPECT_FALSE(r.service("no-such-service-x", "tcp"));
    std::string err;
    EXPECT_FALSE(r.cgroup("/nonexistent/cgroup/path", err));
    EXPECT_EQ(err, "Failed to get cgroup2 ID: No such file or directory\n");
}

}  // namespace
