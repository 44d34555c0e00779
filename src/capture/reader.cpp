// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/capture/reader.hpp"

#include "sstrace/abi/events.h"
#include "sstrace/capture/libraries.hpp"
#include "sstrace/core/error.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sstrace::capture {

namespace {

// Bytes read from the file at a time.
constexpr std::size_t kReadBytes = std::size_t{1} << 20;
// The largest zstd window the reader accepts (the writer's frames are far smaller): a damaged
// frame header cannot make it allocate more.
constexpr int kMaxWindowLog = 24;

std::uint32_t le32(const std::byte* p)
{
    return std::uint32_t{std::to_integer<std::uint8_t>(p[0])} |
           std::uint32_t{std::to_integer<std::uint8_t>(p[1])} << 8 |
           std::uint32_t{std::to_integer<std::uint8_t>(p[2])} << 16 |
           std::uint32_t{std::to_integer<std::uint8_t>(p[3])} << 24;
}

std::uint16_t le16(const std::byte* p)
{
    return static_cast<std::uint16_t>(std::to_integer<std::uint8_t>(p[0]) |
                                      std::to_integer<std::uint8_t>(p[1]) << 8);
}

}  // namespace

struct Reader::Dctx {
    ZSTD_DCtx* ctx = zstd().createDCtx();
    ~Dctx() { zstd().freeDCtx(ctx); }
};

Reader::Reader(const std::string& path) : name_(path)
{
    fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) {
        throw Error::from_errno(path, errno);
    }
    open();
}

Reader::Reader(std::span<const std::byte> bytes, std::string name)
    : name_(std::move(name)), memory_(bytes)
{
    open();
}

Reader::~Reader() = default;

bool Reader::fill_input()
{
    if (eof_) {
        return false;
    }
    // keep what is not consumed yet at the front
    if (in_pos_ != 0) {
        std::memmove(in_.data(), in_.data() + in_pos_, in_len_ - in_pos_);
        in_file_offset_ += in_pos_;
        in_len_ -= in_pos_;
        in_pos_ = 0;
    }
    // from memory (tests, the fuzzer): no more room than the bytes left
    const std::size_t want = fd_ ? kReadBytes : std::min(kReadBytes, memory_.size());
    if (in_.size() < in_len_ + want) {
        in_.resize(in_len_ + want);
    }
    std::size_t got = 0;
    if (fd_) {
        ssize_t n = 0;
        do {
            n = ::read(fd_.get(), in_.data() + in_len_, kReadBytes);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            throw Error::from_errno(fmt::format("{}: reading at byte {}", name_,
                                                in_file_offset_ + in_len_),
                                    errno);
        }
        got = static_cast<std::size_t>(n);
    } else {
        got = want;
        if (got != 0) {
            std::memcpy(in_.data() + in_len_, memory_.data(), got);
        }
        memory_ = memory_.subspan(got);
    }
    if (got == 0) {
        eof_ = true;
        return false;
    }
    in_len_ += got;
    return true;
}

bool Reader::fail(std::uint64_t offset, std::string what)
{
    if (!damage_) {
        damage_ = Damage{offset, std::move(what)};
    }
    done_ = true;
    return false;
}

void Reader::open()
{
    auto damaged = [this](std::uint64_t offset, const std::string& what) {
        return Error(name_, fmt::format("damaged at byte {}: {}", offset, what), kExitDamaged);
    };
    while (in_len_ < kPreambleBytes && fill_input()) {
    }
    const std::size_t magic_seen = std::min(in_len_, kMagic.size());
    if (in_len_ == 0 ||
        std::memcmp(in_.data(), kMagic.data(), magic_seen) != 0) {
        throw Error(name_, "not an sstrace capture file (no capture magic at its start)");
    }
    if (in_len_ < kPreambleBytes) {
        throw damaged(in_len_, "the file ends inside its preamble");
    }
    const std::byte* p = in_.data() + kMagic.size();
    const std::uint16_t version = le16(p);
    const std::uint16_t flags = le16(p + 2);
    const std::uint32_t header_len = le32(p + 4);
    const std::uint32_t header_crc = le32(p + 8);
    if (version > kFormatVersion) {
        throw Error(name_,
                    fmt::format("capture format version {} is newer than this sstrace reads ({})",
                                version, kFormatVersion),
                    kExitFailure, "read it with a newer sstrace");
    }
    if (version == 0) {
        throw damaged(kMagic.size(), "format version 0");
    }
    version_ = version;
    if ((flags & ~kFlagZstd) != 0) {
        throw damaged(kMagic.size() + 2, fmt::format("unknown flags {:#x}", flags));
    }
    if (header_len > kMaxHeaderBytes) {
        throw damaged(kMagic.size() + 4, fmt::format("header length {} out of range", header_len));
    }
    while (in_len_ < kPreambleBytes + header_len && fill_input()) {
    }
    if (in_len_ < kPreambleBytes + header_len) {
        throw damaged(in_len_, "the file ends inside its header");
    }
    const std::span<const std::byte> text(in_.data() + kPreambleBytes, header_len);
    if (crc32(text) != header_crc) {
        throw damaged(kPreambleBytes, "header checksum mismatch");
    }
    std::string error;
    auto header = header_from_json(
        std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), error);
    if (!header) {
        throw damaged(kPreambleBytes, error);
    }
    header_ = std::move(*header);
    if (header_.byte_order != host_byte_order()) {
        throw Error(name_, fmt::format("written on a {}-endian host; this one is {}-endian",
                                       header_.byte_order, host_byte_order()));
    }
    if (header_.abi_version != SSTRACE_ABI_VERSION) {
        throw Error(name_,
                    fmt::format("its events are in record layout version {}, this sstrace "
                                "reads version {}",
                                header_.abi_version, SSTRACE_ABI_VERSION),
                    kExitFailure, "read it with the sstrace that wrote it");
    }
    in_pos_ = kPreambleBytes + header_len;
    zstd_ = (flags & kFlagZstd) != 0;
    if (zstd_) {
        dctx_ = std::make_unique<Dctx>();
        if (dctx_->ctx == nullptr) {
            throw Error(name_, "zstd: cannot allocate a decompression context");
        }
        zstd().DCtx_setParameter(dctx_->ctx, ZSTD_d_windowLogMax, kMaxWindowLog);
    }
}

bool Reader::more_data()
{
    if (in_pos_ == in_len_ && !fill_input()) {
        if (in_frame_) {
            return fail(in_file_offset_ + in_len_,
                        fmt::format("the file ends inside the zstd frame that starts at byte {}",
                                    frame_offset_));
        }
        return false;
    }
    // drop what was returned, then make room for more
    if (data_pos_ != 0) {
        data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(data_pos_));
        data_pos_ = 0;
    }
    const std::size_t kept = data_.size();
    if (!zstd_) {
        data_.insert(data_.end(), in_.begin() + static_cast<std::ptrdiff_t>(in_pos_),
                     in_.begin() + static_cast<std::ptrdiff_t>(in_len_));
        in_pos_ = in_len_;
        return true;
    }
    if (!in_frame_) {
        frame_offset_ = in_file_offset_ + in_pos_;
        in_frame_ = true;
    }
    data_.resize(kept + zstd().DStreamOutSize());
    ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
    ZSTD_outBuffer out{data_.data() + kept, data_.size() - kept, 0};
    const std::size_t r = zstd().decompressStream(dctx_->ctx, &out, &in);
    data_.resize(kept + out.pos);
    in_pos_ = in.pos;
    if (zstd().isError(r) != 0) {
        return fail(in_file_offset_ + in_pos_,
                    fmt::format("zstd: {} (in the frame that starts at byte {})",
                                zstd().getErrorName(r), frame_offset_));
    }
    if (r == 0) {
        in_frame_ = false;  // the frame is complete and flushed
    }
    return true;
}

bool Reader::next(Record& out)
{
    while (!done_) {
        const std::size_t avail = data_.size() - data_pos_;
        const std::byte* p = data_.data() + data_pos_;
        // where a damaged record is: the file offset itself without compression; else the
        // frame and the offset in the decompressed records
        auto where = [&]() -> std::pair<std::uint64_t, std::string> {
            if (!zstd_) {
                return {in_file_offset_ + in_pos_ - avail, "record"};
            }
            return {frame_offset_, fmt::format("record at byte {} of the records decompressed "
                                               "(zstd frame at byte {})",
                                               data_offset_, frame_offset_)};
        };
        if (end_ && avail != 0) {
            auto [off, rec] = where();
            return fail(off, rec + ": data after the end record");
        }
        if (avail >= kRecordHeaderBytes) {
            const std::uint32_t size = le32(p);
            if (size < kRecordHeaderBytes || size > kMaxRecordBytes) {
                auto [off, rec] = where();
                return fail(off, fmt::format("{}: length {} out of range", rec, size));
            }
            if (avail >= size) {
                const std::span<const std::byte> rec_bytes(p, size);
                if (record_crc(rec_bytes, data_offset_) != le32(p + 4)) {
                    auto [off, rec] = where();
                    return fail(off, rec + ": checksum mismatch");
                }
                out.type = static_cast<RecordType>(le16(p + 8));
                out.payload = rec_bytes.subspan(kRecordHeaderBytes);
                const std::uint16_t rflags = le16(p + 10);
                // version 1 wrote no record flags; version 2 knows one
                const std::uint16_t known = version_ >= 2 ? kRecordZeroElided : 0;
                if ((rflags & ~known) != 0) {
                    auto [off, rec] = where();
                    return fail(off, fmt::format("{}: unknown record flags {:#x}", rec, rflags));
                }
                if ((rflags & kRecordZeroElided) != 0) {
                    if (!expand_elided(out.payload, expanded_)) {
                        auto [off, rec] = where();
                        return fail(off, rec + ": malformed zero-elided payload");
                    }
                    out.payload = expanded_;
                }
                data_pos_ += size;
                data_offset_ += size;
                if (out.type == RecordType::End) {
                    end_ = parse_end(out.payload);
                    if (!end_) {
                        auto [off, rec] = where();
                        return fail(off, rec + ": end record too short");
                    }
                }
                return true;
            }
        }
        if (!more_data()) {
            if (damage_) {
                return false;
            }
            const std::uint64_t file_end = in_file_offset_ + in_len_;
            if (data_.size() != data_pos_) {
                return fail(file_end, "the file ends inside a record");
            }
            if (!end_) {
                return fail(file_end, "the file ends without its end record (its writer was "
                                      "killed or is still writing)");
            }
            done_ = true;
        }
    }
    return false;
}

}  // namespace sstrace::capture
