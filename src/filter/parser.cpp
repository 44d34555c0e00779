// SPDX-License-Identifier: GPL-2.0-only
// Lexer and parser of the ss filter language (ss-behaviour.md 3.2, 3.3, 4.4).
//
// The lexer works like ss's: words are split again on blanks, a backslash escapes the next
// character, argv words come first and then the -F file lines, read lazily, as one stream.
// Operands are parsed when they are lexed, in the context of the most recent keyword, so an
// operand error stops the parse before a later syntax error would be seen.
//
// The grammar groups and/or/juxtaposition left to right with equal precedence and lets `!`
// bind one primary. The parser also counts the states ss's bison parser would hold on its
// stack, to fail with "memory exhausted" exactly where ss does (10000 states).
#include "internal.hpp"
#include "sstrace/core/port_range.hpp"
#include "sstrace/core/program.hpp"

#include <sys/socket.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace sstrace::filter {

namespace {

constexpr int kBisonMaxDepth = 10000;

// ss's words for a parse its bison parser gave up on.
std::string bison_bellows(std::string_view why)
{
    return fmt::format("{}: bison bellows (while parsing filter): \"{}\" Sorry.\n", program_name(),
                       why);
}

enum class Tok : std::uint8_t {
    End,
    Not,
    And,
    Or,
    LParen,
    RParen,
    Dst,
    Src,
    Dport,
    Sport,
    Dev,
    Fwmark,
    Cgroup,
    Autobound,
    Geq,
    Leq,
    Neq,
    Eq,
    Gt,
    Lt,
    HostCondTok,
    DevCondTok,
    MarkTok,
    CgroupTok,
};

// The keywords that start a condition; the last one seen decides how operands are read.
bool is_keyword(Tok t)
{
    switch (t) {
    case Tok::Dst:
    case Tok::Src:
    case Tok::Dport:
    case Tok::Sport:
    case Tok::Dev:
    case Tok::Fwmark:
    case Tok::Cgroup:
    case Tok::Autobound:
        return true;
    default:
        return false;
    }
}

struct Token {
    Tok type = Tok::End;
    HostCond host;
    unsigned ifindex = 0;
    std::uint32_t mark = 0;
    std::uint32_t mask = 0;
    std::uint64_t cgroup_id = 0;
};

// Raw words: argv elements, then -F lines.
class WordReader {
public:
    WordReader(std::span<const std::string> words, std::FILE* file) : words_(words), file_(file) {}

    // Next word; false at the end of input or on an error (then `error` is set).
    bool next(std::string& out, std::optional<FilterError>& error)
    {
        for (;;) {
            while (pos_ >= buf_.size()) {
                if (!refill(error)) {
                    return false;
                }
            }
            if (take_token(out)) {
                return true;
            }
        }
    }

private:
    bool refill(std::optional<FilterError>& error)
    {
        buf_.clear();
        pos_ = 0;
        if (word_ < words_.size()) {
            buf_ = words_[word_++];
            // a C string ends at its first NUL
            if (const auto nul = buf_.find('\0'); nul != std::string::npos) {
                buf_.resize(nul);
            }
            return true;
        }
        if (file_ == nullptr) {
            return false;
        }
        for (;;) {
            std::array<char, 1024> line{};
            if (std::fgets(line.data(), static_cast<int>(line.size()), file_) == nullptr) {
                return false;
            }
            const std::size_t len = strnlen(line.data(), line.size());
            if (len == 0) {
                error = FilterError{"Invalid line\n", 255, false};
                return false;
            }
            if (len >= line.size() - 1) {
                error = FilterError{"Too long line in filter\n", 255, false};
                return false;
            }
            std::size_t n = len;
            if (line[n - 1] == '\n') {
                --n;
            }
            if (line[0] == '#' || line[0] == '0') {
                continue;
            }
            buf_.assign(line.data(), n);
            return true;
        }
    }

    // One blank-separated token from buf_ at pos_; false when only blanks remain.
    bool take_token(std::string& out)
    {
        while (pos_ < buf_.size() && (buf_[pos_] == ' ' || buf_[pos_] == '\t')) {
            ++pos_;
        }
        if (pos_ >= buf_.size()) {
            return false;
        }
        out.clear();
        while (pos_ < buf_.size() && buf_[pos_] != ' ' && buf_[pos_] != '\t') {
            if (buf_[pos_] == '\\') {
                ++pos_;
                if (pos_ >= buf_.size()) {
                    break;
                }
            }
            out += buf_[pos_++];
        }
        if (pos_ < buf_.size()) {
            ++pos_;  // the separator
        }
        return true;
    }

    std::span<const std::string> words_;
    std::FILE* file_;
    std::size_t word_ = 0;
    std::string buf_;
    std::size_t pos_ = 0;
};

struct ParseFailure {};

class Parser {
public:
    Parser(std::span<const std::string> words, std::FILE* file, const ParseOptions& opts)
        : reader_(words, file), opts_(opts), preferred_family_(opts.preferred_family)
    {
    }

    ParseResult run()
    {
        ParseResult res;
        try {
            std::unique_ptr<Node> root;
            if (peek().type != Tok::End) {
                root = parse_list();
                if (peek().type != Tok::End) {
                    syntax_error();
                }
            }
            res.filter = Filter(std::move(root));
        } catch (const ParseFailure&) {
            res.error = error_;
        }
        res.family_reset = family_reset_;
        return res;
    }

private:
    [[noreturn]] void fail(std::string message, int code, bool usage)
    {
        error_ = FilterError{std::move(message), code, usage};
        throw ParseFailure{};
    }

    [[noreturn]] void syntax_error()
    {
        fail(bison_bellows("syntax error!"), 255, true);
    }

    // One bison stack state more.
    void push()
    {
        if (++depth_ >= kBisonMaxDepth) {
            fail(bison_bellows("memory exhausted!"), 255, true);
        }
    }

    const Token& peek()
    {
        if (!have_) {
            lex(tok_);
            have_ = true;
        }
        return tok_;
    }

    Token take()
    {
        peek();
        have_ = false;
        return std::move(tok_);
    }

    void lex(Token& t)
    {
        t = Token{};
        std::string w;
        std::optional<FilterError> err;
        if (!reader_.next(w, err)) {
            if (err) {
                fail(err->message, err->exit_code, err->usage);
            }
            t.type = Tok::End;
            return;
        }
        struct Word {
            std::string_view text;
            Tok tok;
        };
        static constexpr Word kWords[] = {
            {"!", Tok::Not},        {"not", Tok::Not},        {"&", Tok::And},
            {"&&", Tok::And},       {"and", Tok::And},        {"|", Tok::Or},
            {"||", Tok::Or},        {"or", Tok::Or},          {"(", Tok::LParen},
            {")", Tok::RParen},     {"dst", Tok::Dst},        {"src", Tok::Src},
            {"dport", Tok::Dport},  {"sport", Tok::Sport},    {"dev", Tok::Dev},
            {"fwmark", Tok::Fwmark}, {"cgroup", Tok::Cgroup}, {">=", Tok::Geq},
            {"ge", Tok::Geq},       {"geq", Tok::Geq},        {"<=", Tok::Leq},
            {"le", Tok::Leq},       {"leq", Tok::Leq},        {"!=", Tok::Neq},
            {"ne", Tok::Neq},       {"neq", Tok::Neq},        {"=", Tok::Eq},
            {"==", Tok::Eq},        {"eq", Tok::Eq},          {">", Tok::Gt},
            {"gt", Tok::Gt},        {"<", Tok::Lt},           {"lt", Tok::Lt},
            {"autobound", Tok::Autobound},
        };
        for (const Word& kw : kWords) {
            if (w == kw.text) {
                t.type = kw.tok;
                if (is_keyword(kw.tok)) {
                    context_ = kw.tok;
                }
                return;
            }
        }
        if (context_ == Tok::Dev) {
            auto idx = detail::parse_devcond(w, opts_);
            if (!idx) {
                fail("Cannot parse device.\n", 1, false);
            }
            t.type = Tok::DevCondTok;
            t.ifindex = *idx;
            return;
        }
        if (context_ == Tok::Fwmark) {
            auto mm = detail::parse_markmask(w);
            if (!mm) {
                fail(fmt::format("Cannot parse mark {}.\n", w), 1, false);
            }
            t.type = Tok::MarkTok;
            t.mark = mm->first;
            t.mask = mm->second;
            return;
        }
        if (context_ == Tok::Cgroup) {
            std::string msg;
            auto id = detail::parse_cgroupcond(w, opts_, msg);
            if (!id) {
                fail(msg + fmt::format("Cannot parse cgroup {}.\n", w), 1, false);
            }
            t.type = Tok::CgroupTok;
            t.cgroup_id = *id;
            return;
        }
        std::string msg;
        auto h = detail::parse_hostcond(w, context_ == Tok::Sport || context_ == Tok::Dport,
                                        preferred_family_, opts_, msg, family_reset_);
        if (!h) {
            fail(msg + "Cannot parse dst/src address.\n", 1, false);
        }
        if (family_reset_) {
            preferred_family_ = *family_reset_;  // sticky for the operands that follow
        }
        t.type = Tok::HostCondTok;
        t.host = std::move(*h);
    }

    static bool starts_expr(Tok t)
    {
        return t == Tok::LParen || t == Tok::Not || is_keyword(t);
    }

    // list := expr { [and|or] expr }. On return one state (exprlist) is on the stack.
    std::unique_ptr<Node> parse_list()
    {
        auto list = std::make_unique<Node>();
        list->kind = NodeKind::List;
        list->items.emplace_back(Joiner::And, parse_expr());
        for (;;) {
            const Tok t = peek().type;
            Joiner j = Joiner::And;
            if (t == Tok::And || t == Tok::Or) {
                j = t == Tok::And ? Joiner::And : Joiner::Or;
                take();
                push();
                list->items.emplace_back(j, parse_expr());
                depth_ -= 2;  // exprlist op expr -> exprlist
            } else if (starts_expr(t)) {
                list->items.emplace_back(j, parse_expr());
                depth_ -= 1;  // exprlist expr -> exprlist
            } else {
                break;
            }
        }
        if (list->items.size() == 1) {
            return std::move(list->items.front().second);
        }
        return list;
    }

    // expr; on return one state (expr) more is on the stack than on entry.
    std::unique_ptr<Node> parse_expr()
    {
        // `!` chains are handled in a loop: no recursion per `!`
        std::size_t nots = 0;
        while (peek().type == Tok::Not) {
            take();
            push();
            ++nots;
        }
        std::unique_ptr<Node> e = parse_primary();
        for (std::size_t i = 0; i < nots; ++i) {
            auto n = std::make_unique<Node>();
            n->kind = NodeKind::Not;
            n->child = std::move(e);
            e = std::move(n);
            depth_ -= 1;  // '!' expr -> expr
        }
        return e;
    }

    static std::unique_ptr<Node> negate(std::unique_ptr<Node> n)
    {
        auto r = std::make_unique<Node>();
        r->kind = NodeKind::Not;
        r->child = std::move(n);
        return r;
    }

    // Everything but `!`; leaves exactly one more state on the stack.
    std::unique_ptr<Node> parse_primary()
    {
        const std::size_t entry = depth_;
        Token t = take();
        push();
        auto node = std::make_unique<Node>();
        switch (t.type) {
        case Tok::LParen: {
            auto inner = parse_list();
            if (peek().type != Tok::RParen) {
                syntax_error();
            }
            take();
            push();
            depth_ = entry + 1;
            return inner;
        }
        case Tok::Autobound:
            node->kind = NodeKind::Auto;
            depth_ = entry + 1;
            return node;
        case Tok::Dst:
        case Tok::Src: {
            // DCOND eq HOSTCOND, eq being `=` or nothing
            if (peek().type == Tok::Eq) {
                take();
                push();
            } else if (peek().type == Tok::HostCondTok) {
                push();  // the empty `eq`
            }
            if (peek().type != Tok::HostCondTok) {
                syntax_error();
            }
            node->kind = t.type == Tok::Dst ? NodeKind::DstCond : NodeKind::SrcCond;
            node->host = take().host;
            push();
            depth_ = entry + 1;
            return node;
        }
        case Tok::Dport:
        case Tok::Sport: {
            const bool dport = t.type == Tok::Dport;
            Tok op = peek().type;
            if (op == Tok::Geq || op == Tok::Leq || op == Tok::Gt || op == Tok::Lt ||
                op == Tok::Eq || op == Tok::Neq) {
                take();
                push();
            } else if (op == Tok::HostCondTok) {
                op = Tok::Eq;
                push();  // the empty `eq`
            } else {
                syntax_error();
            }
            if (peek().type != Tok::HostCondTok) {
                syntax_error();
            }
            node->host = take().host;
            push();
            depth_ = entry + 1;
            switch (op) {
            case Tok::Geq:
                node->kind = dport ? NodeKind::DportGe : NodeKind::SportGe;
                return node;
            case Tok::Leq:
                node->kind = dport ? NodeKind::DportLe : NodeKind::SportLe;
                return node;
            case Tok::Gt:  // > is not <=
                node->kind = dport ? NodeKind::DportLe : NodeKind::SportLe;
                return negate(std::move(node));
            case Tok::Lt:  // < is not >=
                node->kind = dport ? NodeKind::DportGe : NodeKind::SportGe;
                return negate(std::move(node));
            case Tok::Neq:
                node->kind = dport ? NodeKind::DstCond : NodeKind::SrcCond;
                return negate(std::move(node));
            default:
                node->kind = dport ? NodeKind::DstCond : NodeKind::SrcCond;
                return node;
            }
        }
        case Tok::Dev:
        case Tok::Fwmark:
        case Tok::Cgroup: {
            const Tok want = t.type == Tok::Dev      ? Tok::DevCondTok
                             : t.type == Tok::Fwmark ? Tok::MarkTok
                                                     : Tok::CgroupTok;
            bool neg = false;
            if (peek().type == Tok::Eq || peek().type == Tok::Neq) {
                neg = peek().type == Tok::Neq;
                take();
                push();
            } else if (peek().type == want) {
                push();  // the empty `eq`
            }
            if (peek().type != want) {
                syntax_error();
            }
            Token v = take();
            push();
            depth_ = entry + 1;
            if (t.type == Tok::Dev) {
                node->kind = NodeKind::Dev;
                node->ifindex = v.ifindex;
            } else if (t.type == Tok::Fwmark) {
                node->kind = NodeKind::Mark;
                node->mark = v.mark;
                node->mask = v.mask;
            } else {
                node->kind = NodeKind::Cgroup;
                node->cgroup_id = v.cgroup_id;
            }
            return neg ? negate(std::move(node)) : std::move(node);
        }
        default:
            syntax_error();
        }
    }

    WordReader reader_;
    const ParseOptions& opts_;
    Token tok_;
    bool have_ = false;
    Tok context_ = Tok::End;
    int preferred_family_;
    std::size_t depth_ = 1;  // bison's initial state
    std::optional<FilterError> error_;
    std::optional<int> family_reset_;
};

}  // namespace

ParseResult parse(std::span<const std::string> words, std::FILE* file, const ParseOptions& opts)
{
    Parser p(words, file, opts);
    ParseResult res = p.run();
    if (!res.error && res.filter.contains(NodeKind::Auto)) {
        std::pair<unsigned, unsigned> range{1024, 4999};
        if (opts.ephemeral) {
            range = *opts.ephemeral;
        } else if (auto r = read_ephemeral_range()) {
            range = *r;
        }
        res.filter.set_ephemeral_range(range.first, range.second);
    }
    return res;
}

ParseResult parse_string(std::string_view text, const ParseOptions& opts)
{
    const std::string word(text);
    return parse(std::span<const std::string>(&word, 1), nullptr, opts);
}

std::FILE* open_filter_file(const std::string& path, std::optional<FilterError>& error)
{
    if (path == "-") {
        return stdin;
    }
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) {
        error = FilterError{fmt::format("fopen filter file: {}\n", std::strerror(errno)), 255,
                            false};
    }
    return f;
}

}  // namespace sstrace::filter
