// SPDX-License-Identifier: GPL-2.0-only
// sstrace -E: the event loop. One thread: epoll over the ring buffer, a signalfd and a timerfd.
#include "sstrace/app/app.hpp"
#include "sstrace/bpf_session.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/netns.hpp"
#include "sstrace/event_row.hpp"
#include "sstrace/event_view.hpp"
#include "sstrace/ss/selection.hpp"
#include "sstrace/ss/usage.hpp"
#include "sstrace/stream_accounting.hpp"
#include "sstrace/output_writer.hpp"
#include "sstrace/abi/events.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <bit>
#include <charconv>
#include <cstdlib>
#include <utility>

namespace sstrace {

namespace {

// RAII for a plain file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd()
    {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept
    {
        std::swap(fd_, o.fd_);
        return *this;
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// What -E follows, from ss's own selection model (tables, families; the state words are
// read separately: in a stream they select the states entered).
struct EventSelection {
    std::uint16_t family = 0;    // AF_INET, AF_INET6 or 0 for both
    int preferred_family = 0;    // ss's preferred family, for parsing the filter
    bool single_table = false;   // ss hides Netid when exactly one table is selected
    bool udp = false;            // UDP is in the selection (shown by no stream yet)
    bool udp_named = false;      // ... because an option names it (-u, -A with udp, inet, all)
    std::optional<int> exit_code;  // set: ss would stop here (its message already printed)
};

EventSelection select_tables(const Options& opts)
{
    EventSelection out;
    const SelectionResult res = build_selection(opts);
    if (res.exit_code) {
        if (!res.message.empty()) {
            std::fprintf(res.usage_to_stdout ? stdout : stderr, "%s\n", res.message.c_str());
        }
        if (res.with_usage) {
            std::fputs(ss_usage_text(), res.usage_to_stdout ? stdout : stderr);
        }
        out.exit_code = *res.exit_code;
        return out;
    }
    const Selection& sel = res.selection;
    if (!sel.has_table(kDbTcp)) {
        if (sel.has_table(kDbUdp)) {
            throw Error("-E", "UDP destroy events are not implemented yet; sstrace -E follows TCP",
                        kExitNotImplemented);
        }
        throw Error("-E", "no TCP table selected: there are destroy events only for TCP and UDP",
                    kExitUsage);
    }
    out.udp = sel.has_table(kDbUdp);
    for (const std::string& o : opts.selection) {
        out.udp_named = out.udp_named || o == "-u" ||
                        (o.rfind("-A", 0) == 0 && (o.find("udp") != std::string::npos ||
                                                   o.find("inet") != std::string::npos ||
                                                   o.find("all") != std::string::npos));
    }
    const bool v4 = sel.has_family(AF_INET);
    const bool v6 = sel.has_family(AF_INET6);
    if (!v4 && !v6) {
        throw Error("-E", "no IPv4 or IPv6 family selected: events exist for TCP only",
                    kExitUsage);
    }
    if (v4 != v6) {
        out.family = v4 ? AF_INET : AF_INET6;
    }
    out.preferred_family = sel.preferred_family;
    out.single_table = std::popcount(sel.tables) == 1;
    return out;
}

void reject_unimplemented(const Options& o)
{
    const struct {
        bool set;
        const char* name;
    } flags[] = {
        {o.timers && !o.extended && !o.bpf, "-o"},
        {o.memory, "-m"},        {o.processes, "-p"},
        {o.threads, "-T"},       {o.info, "-i"},
        {o.tipcinfo, "--tipcinfo"}, {o.summary, "-s"},
        {o.tos, "--tos"},        {o.cgroup, "--cgroup"},
        {o.bpf, "-b"},           {o.context, "-Z"},
        {o.contexts, "-z"},      {o.inet_sockopt, "--inet-sockopt"},
        {o.kill, "-K"},          {!o.diag_file.empty(), "-D"},
    };
    for (const auto& f : flags) {
        if (f.set) {
            throw Error("-E", fmt::format("{} is not implemented yet for event streams", f.name),
                        kExitNotImplemented);
        }
    }
}

std::int64_t clock_ns(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

Fd make_timer(std::int64_t first_ns, std::int64_t interval_ns)
{
    Fd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (fd.get() < 0) {
        throw Error::from_errno("timerfd_create", errno);
    }
    itimerspec its{};
    its.it_value.tv_sec = first_ns / 1000000000;
    its.it_value.tv_nsec = first_ns % 1000000000;
    its.it_interval.tv_sec = interval_ns / 1000000000;
    its.it_interval.tv_nsec = interval_ns % 1000000000;
    if (timerfd_settime(fd.get(), 0, &its, nullptr) != 0) {
        throw Error::from_errno("timerfd_settime", errno);
    }
    return fd;
}

void epoll_add(int ep, int fd)
{
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        throw Error::from_errno("epoll_ctl", errno);
    }
}

struct FilterSetup {
    filter::Filter filter;
    std::uint16_t family = 0;
    std::optional<int> exit_code;  // set: stop with it (the message is printed)
};

// Parses the FILTER expression as ss does at start-up: errors print ss's text (and its usage
// after a syntax error) and give ss's exit code.
FilterSetup compile_filter(const Options& opts, std::size_t consumed, const EventSelection& sel)
{
    FilterSetup out;
    out.family = sel.family;
    filter::ParseOptions po;
    po.preferred_family = sel.preferred_family;
    po.tcp = true;
    po.udp = !sel.single_table;  // ss looks service names up for every selected table
    std::optional<filter::FilterError> err;
    std::FILE* file = nullptr;
    if (!opts.filter_file.empty()) {
        file = filter::open_filter_file(opts.filter_file, err);
    }
    filter::ParseResult res;
    if (!err) {
        const std::span<const std::string> rest(opts.filter_words.data() + consumed,
                                                opts.filter_words.size() - consumed);
        res = filter::parse(rest, file, po);
        err = res.error;
    }
    if (file != nullptr && file != stdin) {
        std::fclose(file);
    }
    if (err) {
        std::fputs(err->message.c_str(), stderr);
        if (err->usage) {
            std::fputs(help_text().c_str(), stderr);
        }
        out.exit_code = err->exit_code;
        return out;
    }
    if (res.family_reset) {
        if (*res.family_reset != AF_INET && *res.family_reset != AF_INET6) {
            throw Error("-E", "the filter selects a non-inet family; events exist for TCP only",
                        kExitNotImplemented);
        }
        out.family = static_cast<std::uint16_t>(*res.family_reset);
    }
    spdlog::debug("filter: {}", res.filter.to_string());
    out.filter = std::move(res.filter);
    return out;
}

// The optional record fields this stream reads: -e prints uid and ino, and the filter may test
// the device, mark, cgroup or the port lock. Nothing else pays for them in the kernel.
std::uint32_t record_fields(const Options& opts, const filter::Filter& expr)
{
    std::uint32_t f = 0;
    if (opts.extended) {
        f |= SSTRACE_FIELD_UID | SSTRACE_FIELD_INO;
    }
    if (expr.contains(filter::NodeKind::Dev)) {
        f |= SSTRACE_FIELD_IFINDEX;
    }
    if (expr.contains(filter::NodeKind::Mark)) {
        f |= SSTRACE_FIELD_MARK;
    }
    if (expr.contains(filter::NodeKind::Cgroup)) {
        f |= SSTRACE_FIELD_CGROUP;
    }
    if (expr.contains(filter::NodeKind::Auto)) {
        f |= SSTRACE_FIELD_USERLOCKS;
    }
    return f;
}

// Tests only: SSTRACE_TEST_BPF_SPIN=N adds N bpf_loop steps to every first-copy program run, so
// that events nest into running programs often enough to test the second copies.
std::uint32_t test_spin_from_env()
{
    const char* v = std::getenv("SSTRACE_TEST_BPF_SPIN");
    std::uint32_t n = 0;
    if (v != nullptr) {
        std::from_chars(v, v + std::strlen(v), n);
    }
    return n;
}

// Bytes of rows waiting for a slow reader before rows are dropped (and counted).
constexpr std::size_t kMaxQueuedOutput = std::size_t{64} << 20;
// How long rows still queued at the end may take to be written.
constexpr int kFinalWriteMs = 1000;

}  // namespace

int run_event_stream(const Options& opts)
{
    reject_unimplemented(opts);
    const EventSelection sel = select_tables(opts);
    if (sel.exit_code) {
        return *sel.exit_code;
    }

    StateWords words;
    if (auto err = parse_state_words(opts.filter_words, words)) {
        std::fprintf(stderr, "%s\n", err->message.c_str());
        return err->exit_code;
    }
    // The expression (argv after the state words, then -F), checked per event in userspace.
    filter::Filter expr;
    std::uint16_t family = sel.family;
    if (words.consumed < opts.filter_words.size() || !opts.filter_file.empty()) {
        FilterSetup compiled = compile_filter(opts, words.consumed, sel);
        if (compiled.exit_code) {
            return *compiled.exit_code;
        }
        expr = std::move(compiled.filter);
        family = compiled.family;
    }

    BpfConfig cfg;
    const bool state_mode = words.mask.has_value();
    // The one rule for what a selection includes and no stream can show yet (UDP): it is named
    // once, when the selection asked for it: an option names UDP, or the destroy stream, which
    // ss -E shows UDP sockets in. A state stream follows TCP states and says nothing of UDP
    // unless UDP was named.
    if (sel.udp && (sel.udp_named || !state_mode)) {
        spdlog::warn("UDP sockets are not followed yet: {} shows TCP only",
                     state_mode ? "sstrace -E state" : "sstrace -E");
    }
    if (state_mode) {
        cfg.state_mask = *words.mask & ~state_bit(kStateUnknown);
        if (cfg.state_mask == 0) {
            std::fprintf(stderr, "ss: no socket states to show with such filter.\n");
            return kExitOk;
        }
    } else {
        cfg.destroy = true;
    }
    cfg.family = family;
    // The same bytecode a dump would send with INET_DIAG_REQ_BYTECODE runs in the BPF programs,
    // so events the expression rejects never cross the ring buffer. Rows are still checked in
    // userspace (as ss re-checks dump rows): the bytecode does not express everything.
    if (!expr.empty()) {
        if (auto bc = filter::compile_bytecode(expr); bc && bc->size() <= SSTRACE_FILTER_MAX) {
            cfg.filter = std::move(*bc);
            spdlog::info("filter runs in the kernel ({} bytes of bytecode)", cfg.filter.size());
        } else {
            spdlog::info("filter runs in userspace only (it cannot be compiled to bytecode)");
        }
    }
    cfg.fields = record_fields(opts, expr);
    cfg.test_spin = test_spin_from_env();
    cfg.netns_ino = opts.all_netns ? 0 : current_netns_inode();
    cfg.ring_bytes = std::size_t{opts.ring_mb} << 20;
    cfg.variant = opts.bpf_variant == "tp_btf"       ? BpfVariant::Btf
                  : opts.bpf_variant == "tracepoint" ? BpfVariant::Tracepoint
                                                     : BpfVariant::Auto;
    const bool tty = ::isatty(STDOUT_FILENO) != 0;
    // On a terminal every record wakes the reader (the kernel's adaptive policy). Otherwise
    // records are committed without wakeups until a quarter of the ring is used, and the loop
    // drains on its 100 ms timer: far fewer wakeups at high rates.
    cfg.wakeup_bytes = tty ? 0 : cfg.ring_bytes / 4;

    // Signals are handled through a signalfd: block them before anything else starts.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    Fd sigfd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (sigfd.get() < 0) {
        throw Error::from_errno("signalfd", errno);
    }

    BpfSession session(cfg);

    EventLayout layout;
    layout.timestamp = opts.timestamp;
    layout.netns = opts.all_netns;
    layout.netid = !sel.single_table;
    layout.transitions = opts.transitions;
    layout.state = opts.transitions || !state_mode || state_count(cfg.state_mask) > 1;
    layout.states = state_mode ? cfg.state_mask : state_bit(kStateClose);
    layout.ipv6 = family != AF_INET;
    layout.resolve = opts.resolve;
    layout.extended = opts.extended;
    ServiceNames services(opts.numeric);
    EventFormatter formatter(layout, services);
    formatter.set_clock_offset(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));

    std::string out;
    out.reserve(1 << 20);
    bool header_done = opts.no_header;
    std::uint64_t printed = 0;      // rows formatted (written, or counted as not written)
    std::uint64_t pending_rows = 0; // rows in `out`
    std::uint64_t pending_header = 0;  // header lines in `out`, before its rows
    std::uint64_t bad_records = 0;
    const std::uint64_t limit = opts.count.value_or(0);
    StreamScope scope;
    scope.states = state_mode ? cfg.state_mask : 0;
    scope.one_netns = !opts.all_netns;
    scope.both_families = family == 0;
    scope.filtered = !expr.empty();
    StreamAccounting accounting(session, scope);
    session.set_handler([&](const void* data, std::size_t size) {
        auto ev = decode_event(data, size);
        if (!ev) {
            ++bad_records;
            return;
        }
        accounting.on_record(*ev);
        if (limit != 0 && printed >= limit) {
            return;
        }
        if (!expr.empty() && !expr.matches(filter::make_event_view(*ev))) {
            return;
        }
        if (!header_done) {
            formatter.append_header(out);
            header_done = true;
            pending_header = 1;
        }
        formatter.append_row(*ev, out);
        ++printed;
        ++pending_rows;
    });
    // Rows are written by a thread of their own: a stalled reader never stops the draining of
    // the ring buffer. What does not fit its queue is counted as not written.
    OutputWriter writer(STDOUT_FILENO, kMaxQueuedOutput);
    auto flush = [&]() {
        writer.push(out, pending_rows, pending_header);
        pending_rows = 0;
        pending_header = 0;
    };
    // On a terminal, the header shows at once that the programs are attached (ss -E prints it
    // with the first row; a pipe or file still gets no header before the first row).
    if (tty && !header_done) {
        formatter.append_header(out);
        header_done = true;
        pending_header = 1;
        flush();
    }

    Fd ep(epoll_create1(EPOLL_CLOEXEC));
    if (ep.get() < 0) {
        throw Error::from_errno("epoll_create1", errno);
    }
    constexpr std::int64_t kTickNs = 100'000'000;
    Fd tick = make_timer(kTickNs, kTickNs);
    Fd stop_timer;
    epoll_add(ep.get(), session.epoll_fd());
    epoll_add(ep.get(), sigfd.get());
    epoll_add(ep.get(), tick.get());
    bool running = true;
    bool reader_gone = false;
    // A pipe's write end reports EPOLLERR once the reader is gone: stop then, instead of at
    // the next row (which may never come). Files and terminals cannot be polled; skip them.
    epoll_event out_ev{};
    out_ev.events = 0;  // EPOLLERR and EPOLLHUP are always reported
    out_ev.data.fd = STDOUT_FILENO;
    const bool watch_stdout = epoll_ctl(ep.get(), EPOLL_CTL_ADD, STDOUT_FILENO, &out_ev) == 0;
    if (opts.duration) {
        stop_timer = make_timer(static_cast<std::int64_t>(*opts.duration * 1e9), 0);
        epoll_add(ep.get(), stop_timer.get());
    }
    spdlog::info("following {} with {} programs ({}); Ctrl-C to stop",
                 state_mode ? "TCP state entries" : "TCP socket destruction",
                 variant_name(session.variant()),
                 opts.all_netns ? "all network namespaces"
                                : fmt::format("netns inode {}", cfg.netns_ino));


    accounting.start();
    unsigned ticks = 0;
    auto report_loss = [&]() {
        if (auto line = accounting.loss_since_last_poll()) {
            spdlog::warn("{}", *line);
        }
        if (const std::uint64_t n = writer.take_new_unwritten(); n != 0) {
            spdlog::warn("{} rows not written ({}); {} so far", n,
                         writer.state() == OutputWriter::State::Failed
                             ? fmt::format("writing to stdout failed: {}",
                                           std::strerror(writer.error()))
                             : std::string("the reader of stdout is too slow"),
                         writer.unwritten());
        }
    };
    while (running) {
        epoll_event evs[4];
        const int n = epoll_wait(ep.get(), evs, 4, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error::from_errno("epoll_wait", errno);
        }
        for (int i = 0; i < n; ++i) {
            const int fd = evs[i].data.fd;
            if (watch_stdout && fd == STDOUT_FILENO) {
                reader_gone = true;
                running = false;
            } else if (fd == sigfd.get()) {
                signalfd_siginfo si{};
                if (::read(sigfd.get(), &si, sizeof(si)) > 0) {
                    spdlog::info("signal {}: stopping", si.ssi_signo);
                }
                // a second signal kills at once
                ::signal(SIGINT, SIG_DFL);
                ::signal(SIGTERM, SIG_DFL);
                ::signal(SIGHUP, SIG_DFL);
                pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
                running = false;
            } else if (fd == tick.get() || fd == stop_timer.get()) {
                std::uint64_t expirations = 0;
                if (::read(fd, &expirations, sizeof(expirations)) < 0) {
                    expirations = 0;
                }
                if (fd == stop_timer.get()) {
                    running = false;
                } else if (++ticks % 10 == 0) {
                    report_loss();
                    if (const std::size_t swept = session.sweep_stale_handovers(); swept != 0) {
                        spdlog::debug("{} stale TIME-WAIT hand-overs deleted", swept);
                    }
                }
            }
        }
        // Drain on every wake-up: ring data, timer ticks (records committed without a
        // wakeup) and the final pass after a stop request.
        const int got = session.consume();
        if (got < 0 && got != -EINTR) {
            throw Error::from_errno("consuming the ring buffer", got);
        }
        flush();
        if (writer.state() != OutputWriter::State::Open) {
            running = false;
        }
        if (limit != 0 && printed >= limit) {
            running = false;
        }
    }
    accounting.stop();
    session.consume();
    flush();
    // Every received row gets up to a second to be written; a second signal ends it at once.
    const OutputWriter::State end = writer.finish(kFinalWriteMs);
    if (end == OutputWriter::State::ReaderGone || reader_gone) {
        return kExitOk;  // the reader went away: exit quietly, as a filter in a pipe does
    }
    const BpfCounters c = session.counters();
    report_loss();
    if (!cfg.filter.empty()) {
        spdlog::info("{} events rejected by the filter in the kernel", c.filtered);
    }
    if (bad_records != 0) {
        spdlog::warn("{} malformed ring-buffer records ignored", bad_records);
    }
    if (writer.unwritten() != 0) {
        std::fprintf(stderr, "sstrace: %llu rows not written\n",
                     static_cast<unsigned long long>(writer.unwritten()));
    }
    accounting.finish(printed - writer.unwritten(), opts.verbosity >= 1, stderr);
    if (end == OutputWriter::State::Failed) {
        // the policy for a full disk (or any write error): stop, keep what was written, say
        // what was not, exit 1
        throw Error::from_errno("writing to stdout", writer.error(), kExitFailure,
                                "the run stopped; rows before the error were written");
    }
    return kExitOk;
}

}  // namespace sstrace
