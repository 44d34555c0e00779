// SPDX-License-Identifier: GPL-2.0-only
// --top's front ends. The full screen is ncurses (Debian's libncurses), driven from the stream's
// event loop: stdin's keys, SIGWINCH through a signalfd and the refresh timer are three
// registrations, so nothing runs in a signal handler. The batch printer writes the same
// lines, or one JSON object per report, to stdout.
#include "sstrace/app/top.hpp"

#include "sstrace/core/error.hpp"
#include "sstrace/core/program.hpp"
#include "sstrace/core/shared_library.hpp"
#include "sstrace/core/unique.hpp"
#include "sstrace/sinks/top_view.hpp"

#define NCURSES_NOMACROS  // every call goes through Curses below
#include <curses.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

namespace sstrace {

namespace {

// The longest port filter the prompt takes.
constexpr std::size_t kMaxFilter = 32;
// How long ncurses waits after Esc for the rest of a key's sequence.
constexpr int kEscDelayMs = 25;
// Diagnostics kept while the screen is up (the last ones), printed when it is gone.
constexpr std::size_t kHeldLogLines = 200;

// While the full screen is up, diagnostics would be written over it: they are kept and printed
// on stderr once the terminal is restored.
class HeldLog {
public:
    HeldLog() : logger_(spdlog::default_logger()), held_(std::make_shared<Ring>(kHeldLogLines))
    {
        std::string prefix;  // the program's name, '%' escaped from spdlog's pattern flags
        for (const char c : program_name()) {
            prefix += c == '%' ? "%%" : std::string(1, c);
        }
        held_->set_pattern(prefix + ": %l: %v");
        saved_ = logger_->sinks();
        logger_->sinks() = {held_};
    }
    ~HeldLog()
    {
        logger_->sinks() = saved_;
        for (const std::string& line : held_->last_formatted()) {
            std::fputs(line.c_str(), stderr);
        }
    }
    HeldLog(const HeldLog&) = delete;
    HeldLog& operator=(const HeldLog&) = delete;

private:
    using Ring = spdlog::sinks::ringbuffer_sink_mt;
    std::shared_ptr<spdlog::logger> logger_;
    std::shared_ptr<Ring> held_;
    std::vector<spdlog::sink_ptr> saved_;
};

std::string clock_text(std::int64_t wall_ns)
{
    const std::time_t t = static_cast<std::time_t>(wall_ns / 1'000'000'000);
    std::tm tm{};
    localtime_r(&t, &tm);
    return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// What both front ends keep: the previous snapshot (the base of the rates) and the view state.
class TopCore {
public:
    TopCore(const TopPlan& plan, std::function<StatsSnapshot()> take, std::int64_t offset)
        : plan_(plan), take_(std::move(take)), offset_(offset)
    {
        screen_.netns_column = plan.netns_column;
        current_ = take_();
        remake(false);
    }

    // A new snapshot; the rates are over the time since the previous one.
    void refresh()
    {
        previous_ = std::move(current_);
        current_ = take_();
        ++reports_;
        remake(true);
    }

    // The report again (a new sort key ranks the same numbers).
    void remake(bool with_previous)
    {
        report_ = make_top_report(with_previous && previous_ ? &*previous_ : nullptr, current_,
                                  screen_.sort);
        const double seconds = static_cast<double>(plan_.interval.count()) / 1e9;
        screen_.title = fmt::format("sstrace --top  {}  every {:g}s  {}",
                                    clock_text(static_cast<std::int64_t>(report_.mono_ns) + offset_),
                                    seconds, plan_.scope);
    }
    void resort() { remake(previous_.has_value()); }

    bool done() const { return plan_.reports != 0 && reports_ >= plan_.reports; }

    const TopPlan& plan_;
    std::function<StatsSnapshot()> take_;
    std::int64_t offset_;
    std::optional<StatsSnapshot> previous_;
    StatsSnapshot current_;
    TopReport report_;
    TopScreen screen_;
    std::uint64_t reports_ = 0;
};

class BatchTop final : public TopFrontEnd {
public:
    BatchTop(const TopPlan& plan, EventLoop& loop, std::function<StatsSnapshot()> take,
             std::int64_t offset)
        : plan_(plan), loop_(loop), core_(plan_, std::move(take), offset)
    {
        loop_.every(plan_.interval, [this] { tick(); });
    }

private:
    void tick()
    {
        core_.refresh();
        std::string text;
        if (plan_.json) {
            text = top_json(core_.report_, core_.screen_, core_.offset_);
        } else {
            for (const std::string& line : render_top(core_.report_, core_.screen_)) {
                text += line;
                text += '\n';
            }
            text += '\n';
        }
        // a reader that went away (EPIPE: SIGPIPE is ignored by the stream) stops the view
        if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
            std::fflush(stdout) != 0 || core_.done()) {
            loop_.stop();
        }
    }

    TopPlan plan_;
    EventLoop& loop_;
    TopCore core_;
};

sigset_t winch_set()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    return set;
}

// libncurses (with libtinfo, which it needs) is opened when the full screen starts instead of
// being linked: every other run would map and relocate both (core/shared_library.hpp).
struct Curses {
    decltype(&::newterm) newterm = nullptr;
    decltype(&::delscreen) delscreen = nullptr;
    decltype(&::endwin) endwin = nullptr;
    decltype(&::set_escdelay) set_escdelay = nullptr;
    decltype(&::cbreak) cbreak = nullptr;
    decltype(&::noecho) noecho = nullptr;
    decltype(&::keypad) keypad = nullptr;
    decltype(&::nodelay) nodelay = nullptr;
    decltype(&::curs_set) curs_set = nullptr;
    decltype(&::resizeterm) resizeterm = nullptr;
    decltype(&::wgetch) wgetch = nullptr;
    decltype(&::werase) werase = nullptr;
    decltype(&::wrefresh) wrefresh = nullptr;
    decltype(&::wattr_on) wattr_on = nullptr;
    decltype(&::wattr_off) wattr_off = nullptr;
    decltype(&::wmove) wmove = nullptr;
    decltype(&::waddnstr) waddnstr = nullptr;
    WINDOW** screen = nullptr;  // stdscr
    int* lines = nullptr;       // LINES
    int* cols = nullptr;        // COLS
};

const Curses& curses()
{
    static const Curses c = [] {
        const SharedLibrary lib("libncurses.so.6", "--top", "libncurses6");
        Curses f;
        lib.bind(f.newterm, "newterm");
        lib.bind(f.delscreen, "delscreen");
        lib.bind(f.endwin, "endwin");
        lib.bind(f.set_escdelay, "set_escdelay");
        lib.bind(f.cbreak, "cbreak");
        lib.bind(f.noecho, "noecho");
        lib.bind(f.keypad, "keypad");
        lib.bind(f.nodelay, "nodelay");
        lib.bind(f.curs_set, "curs_set");
        lib.bind(f.resizeterm, "resizeterm");
        lib.bind(f.wgetch, "wgetch");
        lib.bind(f.werase, "werase");
        lib.bind(f.wrefresh, "wrefresh");
        lib.bind(f.wattr_on, "wattr_on");
        lib.bind(f.wattr_off, "wattr_off");
        lib.bind(f.wmove, "wmove");
        lib.bind(f.waddnstr, "waddnstr");
        f.screen = &lib.variable<WINDOW*>("stdscr");
        f.lines = &lib.variable<int>("LINES");
        f.cols = &lib.variable<int>("COLS");
        return f;
    }();
    return c;
}

class ScreenTop final : public TopFrontEnd {
public:
    ScreenTop(const TopPlan& plan, EventLoop& loop, std::function<StatsSnapshot()> take,
              std::int64_t offset)
        : plan_(plan), loop_(loop), core_(plan_, std::move(take), offset)
    {
        // SIGWINCH through a descriptor of the loop, not ncurses' own handler
        const sigset_t set = winch_set();
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        winch_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!winch_) {
            throw Error::from_errno("signalfd", errno);
        }
        // the loop's registrations first: nothing can fail after the terminal is taken
        loop_.watch(STDIN_FILENO, [this] { keys(); });
        loop_.watch(winch_.get(), [this] {
            signalfd_siginfo si{};
            while (::read(winch_.get(), &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
            }
            resize();
        });
        loop_.every(plan_.interval, [this] {
            core_.refresh();
            resize();  // a size change another thread's SIGWINCH told nobody of
            if (core_.done()) {
                loop_.stop();
            }
        });
        const Curses& c = curses();  // before the terminal is taken: a failure is one line
        c.set_escdelay(kEscDelayMs);
        held_log_.emplace();
        screen_ = c.newterm(nullptr, stdout, stdin);
        if (screen_ == nullptr) {
            held_log_.reset();
            const char* term = std::getenv("TERM");
            throw Error("--top", fmt::format("cannot drive the terminal (TERM={})",
                                             term != nullptr ? term : "unset"),
                        kExitFailure, "set TERM, or use --top --batch");
        }
        c.cbreak();  // Ctrl-C stays a signal: the loop's stop
        c.noecho();
        c.keypad(*c.screen, TRUE);
        c.nodelay(*c.screen, TRUE);
        c.curs_set(0);
        draw();
    }

    ~ScreenTop() override { release(); }
    ScreenTop(const ScreenTop&) = delete;
    ScreenTop& operator=(const ScreenTop&) = delete;

    void release() override
    {
        if (screen_ == nullptr) {
            return;
        }
        curses().endwin();
        curses().delscreen(screen_);
        screen_ = nullptr;
        held_log_.reset();  // what was logged meanwhile, on the restored terminal
        const sigset_t set = winch_set();
        pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    }

private:
    void resize()
    {
        if (screen_ == nullptr) {
            return;
        }
        winsize ws{};
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
            (ws.ws_row != *curses().lines || ws.ws_col != *curses().cols)) {
            curses().resizeterm(ws.ws_row, ws.ws_col);
        }
        draw();
    }

    void keys()
    {
        if (screen_ == nullptr) {
            return;
        }
        // readable with nothing to read: the terminal hung up
        int pending = 0;
        if (ioctl(STDIN_FILENO, FIONREAD, &pending) != 0 || pending <= 0) {
            loop_.stop();
            return;
        }
        const Curses& c = curses();
        for (int ch = c.wgetch(*c.screen); ch != ERR; ch = c.wgetch(*c.screen)) {
            key(ch);
        }
        draw();
    }

    void key(int ch)
    {
        TopScreen& s = core_.screen_;
        if (s.prompt) {
            if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
                s.prompt = false;
            } else if (ch == 27) {  // Esc: no filter
                s.filter.clear();
                s.prompt = false;
            } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
                if (!s.filter.empty()) {
                    s.filter.pop_back();
                }
            } else if (ch >= 32 && ch < 127 && s.filter.size() < kMaxFilter) {
                s.filter += static_cast<char>(ch);
            }
            s.scroll = 0;
            return;
        }
        const std::size_t page = top_port_page(s);
        switch (ch) {
        case 'q': case 'Q': loop_.stop(); break;
        case 's': case 'S': case '>': case KEY_F(6):
            s.sort = next_top_sort(s.sort);
            core_.resort();
            break;
        case '<':
            s.sort = next_top_sort(s.sort, -1);
            core_.resort();
            break;
        case '/': s.prompt = true; break;
        case 27: s.filter.clear(); break;
        case KEY_UP: case 'k': s.scroll = s.scroll > 0 ? s.scroll - 1 : 0; break;
        case KEY_DOWN: case 'j': ++s.scroll; break;
        case KEY_PPAGE: s.scroll = s.scroll > page ? s.scroll - page : 0; break;
        case KEY_NPAGE: case ' ': s.scroll += page; break;
        case KEY_HOME: case 'g': s.scroll = 0; break;
        case KEY_END: case 'G': s.scroll = top_max_scroll(core_.report_, s); break;
        default: break;
        }
        s.scroll = std::min(s.scroll, top_max_scroll(core_.report_, s));
    }

    void draw()
    {
        if (screen_ == nullptr) {
            return;
        }
        TopScreen& s = core_.screen_;
        const Curses& c = curses();
        s.rows = *c.lines;
        s.cols = *c.cols;
        s.interactive = true;
        s.scroll = std::min(s.scroll, top_max_scroll(core_.report_, s));
        const std::vector<std::string> lines = render_top(core_.report_, s);
        c.werase(*c.screen);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            // the title, the two table heads and the key line stand out
            const bool head = i == 0 || i == 2 || i == 11;
            const bool keys = i + 1 == lines.size();
            const attr_t attr = keys ? A_REVERSE : head ? A_BOLD : A_NORMAL;
            c.wattr_on(*c.screen, attr, nullptr);
            if (c.wmove(*c.screen, static_cast<int>(i), 0) != ERR) {
                c.waddnstr(*c.screen, lines[i].c_str(), *c.cols);
            }
            c.wattr_off(*c.screen, attr, nullptr);
        }
        c.wrefresh(*c.screen);
    }

    TopPlan plan_;
    EventLoop& loop_;
    TopCore core_;
    Unique<FdTraits> winch_;
    std::optional<HeldLog> held_log_;
    SCREEN* screen_ = nullptr;
};

}  // namespace

TopPlan plan_top(const Options& opts, const std::string& scope)
{
    TopPlan plan;
    plan.interval = std::chrono::nanoseconds(static_cast<std::int64_t>(opts.interval * 1e9));
    plan.batch = opts.batch || opts.json;
    plan.json = opts.json;
    plan.netns_column = opts.all_netns;
    plan.reports = opts.count.value_or(0);
    plan.scope = scope;
    if (!plan.batch && (isatty(STDIN_FILENO) == 0 || isatty(STDOUT_FILENO) == 0)) {
        throw Error("--top", "the full-screen view needs a terminal on stdin and stdout",
                    kExitUsage, "--top --batch prints the same table as text, --json as JSON lines");
    }
    return plan;
}

std::unique_ptr<TopFrontEnd> start_top(const TopPlan& plan, EventLoop& loop,
                                       std::function<StatsSnapshot()> snapshot,
                                       std::int64_t realtime_offset_ns)
{
    if (plan.batch) {
        return std::make_unique<BatchTop>(plan, loop, std::move(snapshot), realtime_offset_ns);
    }
    return std::make_unique<ScreenTop>(plan, loop, std::move(snapshot), realtime_offset_ns);
}

}  // namespace sstrace
