// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sinks/capture_writer.hpp"

#include "sstrace/capture/libraries.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/unique.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

extern char** environ;

namespace sstrace {

namespace {

// Space kept allocated past the end of a capture file, so that the trailer (a loss and an end
// record, ending the frame) can always be written, even on a full disk.
constexpr std::uint64_t kTrailerReserve = std::uint64_t{4} << 10;
// Record bytes compressed at once, at the most (a batch goes out in pieces of whole records).
constexpr std::uint64_t kPieceBytes = std::uint64_t{64} << 10;
// fallocate() in steps of at least this much.
constexpr std::uint64_t kReserveStep = std::uint64_t{1} << 20;

std::int64_t now_ns(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// The name of a file that starts at `when` (wall clock, ns): strftime conversions expanded when
// the files rotate by time.
std::string expand_name(const std::string& pattern, std::int64_t when)
{
    const std::time_t secs = static_cast<std::time_t>(when / 1000000000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    std::string out(pattern.size() + 256, '\0');
    for (;;) {
        // the user's pattern, as tcpdump -G takes it
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        const std::size_t n = std::strftime(out.data(), out.size(), pattern.c_str(), &tm);
#pragma GCC diagnostic pop
        if (n != 0 || pattern.empty()) {
            out.resize(n);
            return out;
        }
        if (out.size() > 65536) {
            return pattern;  // a pattern that expands to nothing (only %p in some locale...)
        }
        out.resize(out.size() * 2);
    }
}

std::string random_id()
{
    std::uint64_t v = 0;
    const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (::read(fd, &v, sizeof(v)) != static_cast<ssize_t>(sizeof(v))) {
            v = 0;
        }
        ::close(fd);
    }
    if (v == 0) {
        v = static_cast<std::uint64_t>(now_ns(CLOCK_REALTIME)) ^
            (static_cast<std::uint64_t>(::getpid()) << 32);
    }
    return fmt::format("{:016x}", v);
}

}  // namespace

capture::ClockPair read_clock_pair()
{
    const std::int64_t m0 = now_ns(CLOCK_MONOTONIC);
    const std::int64_t r = now_ns(CLOCK_REALTIME);
    const std::int64_t m1 = now_ns(CLOCK_MONOTONIC);
    return {m0 + (m1 - m0) / 2, r};
}

std::map<std::uint32_t, std::string> named_namespaces()
{
    std::map<std::uint32_t, std::string> out;
    for (const char* dir : {"/run/netns", "/var/run/netns"}) {
        UniqueDir d(::opendir(dir));
        if (!d) {
            continue;
        }
        while (const dirent* e = ::readdir(d.get())) {
            if (e->d_name[0] == '.') {
                continue;
            }
            struct stat st {};
            if (::stat(fmt::format("{}/{}", dir, e->d_name).c_str(), &st) == 0) {
                out.emplace(static_cast<std::uint32_t>(st.st_ino), e->d_name);
            }
        }
        if (!out.empty()) {
            break;  // /var/run is usually /run
        }
    }
    return out;
}

struct CaptureTarget::Cctx {
    ZSTD_CCtx* ctx = capture::zstd().createCCtx();
    ~Cctx() { capture::zstd().freeCCtx(ctx); }
};

CaptureTarget::CaptureTarget(const CaptureSettings& settings, const capture::Header& header,
                             std::shared_ptr<const std::atomic<std::int64_t>> clock_offset)
    : settings_(settings), header_(header), clock_offset_(std::move(clock_offset))
{
    capture::open_capture_libraries(settings_.compress);  // before the file is created
    if (header_.capture_id.empty()) {
        header_.capture_id = random_id();
    }
    if (settings_.compress) {
        cctx_ = std::make_unique<Cctx>();
        if (cctx_->ctx == nullptr) {
            throw Error("--write", "zstd: cannot allocate a compression context");
        }
        capture::zstd().CCtx_setParameter(cctx_->ctx, ZSTD_c_compressionLevel, settings_.level);
    }
    if (const int err = open_next(); err != 0) {
        throw Error::from_errno(fmt::format("--write: {}", name_), err);
    }
}

CaptureTarget::~CaptureTarget()
{
    if (owns_fd_ && fd_ >= 0) {
        ::close(fd_);
    }
}

CaptureStats CaptureTarget::stats() const
{
    return {events_.load(), record_bytes_.load(), file_bytes_.load(), files_.load()};
}

std::string CaptureTarget::current_name() const
{
    std::lock_guard lock(name_mu_);
    return name_;
}

int CaptureTarget::open_next()
{
    const capture::ClockPair now{now_ns(CLOCK_MONOTONIC), 0};
    const capture::ClockPair pair{now.mono_ns, now.mono_ns + clock_offset_->load()};
    std::string name;
    if (settings_.path == "-") {
        name = "-";
    } else {
        const std::string base = settings_.rotate_seconds != 0
                                     ? expand_name(settings_.path, pair.real_ns)
                                     : settings_.path;
        if (settings_.rotate_bytes != 0) {
            // FILE.0, FILE.1, ... (per name, when it also has a time in it)
            std::uint32_t k = 0;
            while (used_names_.count(fmt::format("{}.{}", base, k)) != 0) {
                ++k;
            }
            name = fmt::format("{}.{}", base, k);
        } else {
            // a time pattern that names two files alike: FILE, then FILE.1, ...
            name = base;
            for (std::uint32_t k = 1; used_names_.count(name) != 0; ++k) {
                name = fmt::format("{}.{}", base, k);
            }
        }
    }
    int fd = STDOUT_FILENO;
    if (name != "-") {
        fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            std::lock_guard lock(name_mu_);
            name_ = name;
            return errno;
        }
    }
    {
        std::lock_guard lock(name_mu_);
        name_ = name;
    }
    fd_ = fd;
    owns_fd_ = name != "-";
    used_names_.insert(name);
    if (owns_fd_) {
        kept_.push_back(name);
        // a ring of files: the oldest of this run goes
        while (settings_.rotate_count != 0 && kept_.size() > settings_.rotate_count) {
            if (::unlink(kept_.front().c_str()) != 0 && errno != ENOENT) {
                spdlog::warn("--rotate-count: cannot delete {}: {}", kept_.front(),
                             std::strerror(errno));
            }
            kept_.pop_front();
        }
    }
    file_size_ = 0;
    records_pos_ = 0;
    reserved_end_ = 0;
    can_reserve_ = owns_fd_;
    file_events_ = 0;
    file_started_ns_ = pair.mono_ns;
    frame_open_ = false;
    frame_records_ = 0;
    ++files_;

    capture::Header h = header_;
    h.clock = pair;
    h.file_index = file_index_++;
    h.namespaces = named_namespaces();
    out_ = capture::file_start(h, settings_.compress);
    if (settings_.table) {
        // the sockets now, before any event: the file stands on its own (doc/capture.md)
        const std::string rows = settings_.table();
        if (!rows.empty()) {
            compress(rows, false);
            record_bytes_ += rows.size();
        }
    }
    if (const int err = reserve(out_.size()); err != 0) {
        return err;
    }
    return write_out();
}

void CaptureTarget::compress(std::string_view batch, bool end_frame)
{
    // each record's CRC covers its position in the file's records (doc/capture.md)
    scratch_.assign(batch);
    auto sealed = std::as_writable_bytes(std::span(scratch_.data(), scratch_.size()));
    if (capture::seal_records(sealed, records_pos_) != sealed.size()) {
        spdlog::error("capture: a batch of {} bytes does not end at a record's end", batch.size());
    }
    records_pos_ += scratch_.size();
    const std::string_view records = scratch_;
    if (!settings_.compress) {
        out_.append(records);
        return;
    }
    if (!frame_open_) {
        frame_open_ = true;
        frame_started_ns_ = now_ns(CLOCK_MONOTONIC);
        frame_records_ = 0;
    }
    frame_records_ += records.size();
    ZSTD_inBuffer in{records.data(), records.size(), 0};
    const ZSTD_EndDirective mode = end_frame ? ZSTD_e_end : ZSTD_e_flush;
    for (;;) {
        const std::size_t start = out_.size();
        out_.resize(start + capture::zstd().CStreamOutSize());
        ZSTD_outBuffer out{out_.data() + start, out_.size() - start, 0};
        const std::size_t left = capture::zstd().compressStream2(cctx_->ctx, &out, &in, mode);
        out_.resize(start + out.pos);
        if (capture::zstd().isError(left) != 0) {
            // only on a programming error (bad parameters); the frame is ended anew
            spdlog::error("zstd: {}", capture::zstd().getErrorName(left));
            capture::zstd().CCtx_reset(cctx_->ctx, ZSTD_reset_session_only);
            frame_open_ = false;
            return;
        }
        if (left == 0 && in.pos == in.size) {
            break;
        }
    }
    if (end_frame) {
        frame_open_ = false;
    }
}

int CaptureTarget::reserve(std::size_t bytes)
{
    if (!can_reserve_) {
        return 0;
    }
    const std::uint64_t need = file_size_ + bytes + kTrailerReserve;
    if (need <= reserved_end_) {
        return 0;
    }
    std::uint64_t len = std::max(need - file_size_, kReserveStep);
    int rc = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(file_size_),
                         static_cast<off_t>(len));
    if (rc != 0 && errno == ENOSPC && len > need - file_size_) {
        // a nearly full disk: no step ahead, but exactly what this write needs
        len = need - file_size_;
        rc = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(file_size_),
                         static_cast<off_t>(len));
    }
    if (rc != 0) {
        const int err = errno;
        if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
            return err;
        }
        can_reserve_ = false;  // not supported here: a full disk truncates instead
        return 0;
    }
    reserved_end_ = file_size_ + len;
    return 0;
}

int CaptureTarget::write_out()
{
    std::size_t off = 0;
    while (off < out_.size()) {
        const ssize_t n = ::write(fd_, out_.data() + off, out_.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int err = errno;
            // whatever part got out is cut off again, so that the file ends at a whole batch
            if (owns_fd_ && off != 0 &&
                ::ftruncate(fd_, static_cast<off_t>(file_size_)) != 0) {
                spdlog::debug("ftruncate {}: {}", name_, std::strerror(errno));
            }
            out_.clear();
            return err;
        }
        off += static_cast<std::size_t>(n);
    }
    file_size_ += out_.size();
    file_bytes_ += out_.size();
    out_.clear();
    return 0;
}

int CaptureTarget::sync()
{
    if (::fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
        return errno;
    }
    return 0;
}

OutputTarget::Result CaptureTarget::write(std::string_view bytes, std::uint64_t rows,
                                          std::uint64_t /*header_lines*/)
{
    // A batch (up to a drain of the ring) goes out in pieces of whole records: the space each
    // needs is reserved before it is compressed, so a nearly full disk still takes every piece
    // that fits; and a file rotated by size ends near its size however large the batches are.
    std::uint64_t piece_limit = kPieceBytes;
    if (settings_.rotate_bytes != 0) {
        piece_limit = std::min(piece_limit, std::max<std::uint64_t>(settings_.rotate_bytes / 4, 1024));
    }
    if (bytes.size() <= piece_limit) {
        return write_batch(bytes, rows);
    }
    std::uint64_t written = 0;
    std::size_t start = 0;
    while (start < bytes.size()) {
        std::size_t end = start;
        std::uint64_t events = 0;
        while (end < bytes.size() && end - start < piece_limit) {
            if (bytes.size() - end < capture::kRecordHeaderBytes) {
                end = bytes.size();  // not a record: never happens with the sink's batches
                break;
            }
            // the framing is little-endian (doc/capture.md)
            const auto byte = [&](std::size_t i) {
                return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[end + i]));
            };
            const std::uint32_t size = byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24;
            const std::uint32_t type = byte(8) | byte(9) << 8;
            if (size < capture::kRecordHeaderBytes || size > bytes.size() - end) {
                end = bytes.size();
                break;
            }
            events += type == static_cast<std::uint32_t>(capture::RecordType::Event) ? 1 : 0;
            end += size;
        }
        if (end == bytes.size()) {
            events = rows - written;  // the rest, whatever the count above says
        }
        const Result r = write_batch(bytes.substr(start, end - start), events);
        written += r.rows_written;
        if (r.error != 0) {
            return {r.error, written};
        }
        start = end;
    }
    return {0, written};
}

OutputTarget::Result CaptureTarget::write_batch(std::string_view bytes, std::uint64_t rows)
{
    const std::int64_t now = now_ns(CLOCK_MONOTONIC);
    if (settings_.rotate_seconds != 0 &&
        now - file_started_ns_ >= static_cast<std::int64_t>(settings_.rotate_seconds) * 1000000000) {
        if (const int err = rotate(); err != 0) {
            return {err, 0};
        }
    }
    const bool end_frame =
        !settings_.compress || frame_records_ + bytes.size() >= settings_.frame_bytes ||
        (frame_open_ && now - frame_started_ns_ >=
                            std::chrono::nanoseconds(settings_.frame_age).count());
    // Room for the batch first: on a full disk it is not compressed at all, and the frame is
    // ended by the trailer alone, in the space kept for it.
    const std::size_t bound = settings_.compress ? capture::zstd().compressBound(bytes.size()) + 64
                                                 : bytes.size();
    if (const int err = reserve(bound); err != 0) {
        out_.clear();
        std::string trailer;
        EventLoss lost;
        lost.mono_ns = static_cast<std::uint64_t>(now);
        lost.not_written = rows;
        capture::append_loss(trailer, lost);
        capture::append_end(trailer, {static_cast<std::uint64_t>(now), file_events_,
                                      capture::EndReason::WriteError});
        compress(trailer, true);
        if (write_out() == 0) {
            sync();
        }
        return {err, 0};
    }
    compress(bytes, end_frame);
    if (const int err = write_out(); err != 0) {
        return {err, 0};
    }
    events_ += rows;
    file_events_ += rows;
    record_bytes_ += bytes.size();
    if (end_frame) {
        if (const int err = sync(); err != 0) {
            return {err, rows};
        }
    }
    if (settings_.rotate_bytes != 0 && file_size_ >= settings_.rotate_bytes) {
        if (const int err = rotate(); err != 0) {
            return {err, rows};
        }
    }
    return {0, rows};
}

int CaptureTarget::end_file(capture::EndReason reason)
{
    std::string trailer;
    capture::append_end(trailer, {static_cast<std::uint64_t>(now_ns(CLOCK_MONOTONIC)),
                                  file_events_, reason});
    if (const int err = reserve(trailer.size() + 64); err != 0) {
        return err;
    }
    compress(trailer, true);
    if (const int err = write_out(); err != 0) {
        return err;
    }
    if (const int err = sync(); err != 0) {
        return err;
    }
    if (owns_fd_) {
        // give back the space kept past the end (ext4 ignores a hole punched past the end of
        // a file; a truncation to its size frees the blocks there)
        if (reserved_end_ > file_size_ && ::ftruncate(fd_, static_cast<off_t>(file_size_)) != 0) {
            spdlog::debug("ftruncate {}: {}", name_, std::strerror(errno));
        }
        if (::close(fd_) != 0 && errno != EINTR) {
            fd_ = -1;
            return errno;
        }
        fd_ = -1;
        if (!settings_.post_rotate.empty()) {
            reap(false);
            const std::string file = current_name();
            posix_spawnattr_t attr;
            posix_spawnattr_init(&attr);
            sigset_t none;
            sigemptyset(&none);
            sigset_t defaults;
            sigemptyset(&defaults);
            for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
                sigaddset(&defaults, s);
            }
            posix_spawnattr_setsigmask(&attr, &none);
            posix_spawnattr_setsigdefault(&attr, &defaults);
            // its own process group: a Ctrl-C meant for sstrace does not cut it short
            posix_spawnattr_setpgroup(&attr, 0);
            posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETPGROUP);
            std::string prog = settings_.post_rotate;
            std::string arg = file;
            char* argv[] = {prog.data(), arg.data(), nullptr};
            pid_t pid = 0;
            const int rc = posix_spawnp(&pid, prog.c_str(), nullptr, &attr, argv, environ);
            posix_spawnattr_destroy(&attr);
            if (rc != 0) {
                spdlog::warn("--post-rotate: cannot run {}: {}", prog, std::strerror(rc));
            } else {
                children_.push_back(pid);
            }
        }
    }
    return 0;
}

int CaptureTarget::rotate()
{
    if (const int err = end_file(capture::EndReason::Rotated); err != 0) {
        return err;
    }
    return open_next();
}

int CaptureTarget::close()
{
    if (fd_ < 0) {
        return 0;
    }
    return end_file(capture::EndReason::Stopped);
}

void CaptureTarget::reap(bool wait)
{
    for (auto it = children_.begin(); it != children_.end();) {
        int status = 0;
        const pid_t got = ::waitpid(*it, &status, wait ? 0 : WNOHANG);
        if (got == 0) {
            ++it;
            continue;
        }
        if (got > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            spdlog::warn("--post-rotate {}: exited with status {}", settings_.post_rotate,
                         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        it = children_.erase(it);
    }
}

void CaptureTarget::wait_post_rotate() { reap(true); }

CaptureSink::CaptureSink(OutputWriter& writer,
                         std::shared_ptr<std::atomic<std::int64_t>> clock_offset)
    : writer_(writer), clock_offset_(std::move(clock_offset))
{
    last_clock_check_ns_ = now_ns(CLOCK_MONOTONIC);
}

void CaptureSink::set_clock_offset(std::int64_t offset) { clock_offset_->store(offset); }

void CaptureSink::event(const SocketEvent& ev)
{
    if (buf_.empty()) {
        held_since_ns_ = now_ns(CLOCK_MONOTONIC);
    }
    capture::append_event(buf_, ev);
    ++buf_events_;
    ++events_;
}

void CaptureSink::loss(const EventLoss& lost)
{
    const std::uint64_t when = pending_loss_.mono_ns;
    pending_loss_ += lost;
    pending_loss_.mono_ns = std::max(when, lost.mono_ns);
}

void CaptureSink::flush()
{
    const std::int64_t now = now_ns(CLOCK_MONOTONIC);
    if (now - last_clock_check_ns_ >= 1000000000) {
        last_clock_check_ns_ = now;
        // a new pair once the clocks moved apart by a microsecond (NTP slewing, a step, a
        // suspend): event times convert with the latest pair before them
        const capture::ClockPair pair = read_clock_pair();
        const std::int64_t drift = pair.offset() - clock_offset_->load();
        if (drift >= 1000 || drift <= -1000) {
            clock_offset_->store(pair.offset());
            if (buf_.empty()) {
                held_since_ns_ = now;
            }
            capture::append_clock(buf_, pair);
        }
        // events the queue could not take: said in the file as soon as it takes a batch again
        const std::uint64_t unwritten = writer_.unwritten();
        if (unwritten > unwritten_seen_) {
            pending_loss_.not_written += unwritten - unwritten_seen_;
            pending_loss_.mono_ns = static_cast<std::uint64_t>(now);
            unwritten_seen_ = unwritten;
        }
    }
    // a loss goes out at once; records wait for a batch's worth or its age
    if (pending_loss_.total() == 0 && buf_.size() < kBatchBytes &&
        now - held_since_ns_ < kBatchAgeNs) {
        return;
    }
    push_held();
}

void CaptureSink::push_held()
{
    if (pending_loss_.total() != 0) {
        capture::append_loss(buf_, pending_loss_);
    }
    if (buf_.empty()) {
        return;
    }
    const std::uint64_t events = buf_events_;
    buf_events_ = 0;
    if (writer_.push(buf_, events)) {
        pending_loss_ = EventLoss{};  // the batch, and its loss record, were taken
    } else {
        unwritten_seen_ += events;  // counted below as not written, not twice
        pending_loss_.not_written += events;
    }
}

CaptureOutput::CaptureOutput(const CaptureSettings& settings, const capture::Header& header,
                             std::int64_t clock_offset, std::size_t max_queued)
    : settings_(settings),
      clock_offset_(std::make_shared<std::atomic<std::int64_t>>(clock_offset)),
      target_(nullptr),
      writer_(
          [&] {
              auto t = std::make_unique<CaptureTarget>(settings, header, clock_offset_);
              target_ = t.get();
              return t;
          }(),
          max_queued),
      sink_(writer_, clock_offset_)
{
}

}  // namespace sstrace
