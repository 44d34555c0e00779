// SPDX-License-Identifier: GPL-2.0-only
// One capture file, record by record: the preamble and header checked, the zstd frames
// decompressed as a stream, each record's length and checksum checked. Damage (a truncated or
// corrupt file) ends the records where it starts and is described with its file offset; every
// record before it has been returned.
#pragma once

#include "sstrace/capture/format.hpp"
#include "sstrace/core/unique.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sstrace::capture {

struct Record {
    RecordType type = RecordType::Event;
    std::span<const std::byte> payload;  // valid until the next call of next()
};

// Where and how a file is damaged.
struct Damage {
    std::uint64_t offset = 0;  // file offset of the damage (or of the zstd frame holding it)
    std::string what;
};

class Reader {
public:
    // Opens `path`. Throws Error: exit status 1 when it is not a capture file or of a newer
    // format version, kExitDamaged when its preamble or header is damaged.
    explicit Reader(const std::string& path);
    // The same over bytes in memory (tests and the fuzzer); `name` stands for the file in messages.
    Reader(std::span<const std::byte> bytes, std::string name);
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    const std::string& name() const { return name_; }
    const Header& header() const { return header_; }

    // The next record; false at the end of the file or at damage (then damage() says where).
    bool next(Record& out);

    const std::optional<Damage>& damage() const { return damage_; }
    // The end record, once read: the file was closed by its writer.
    const std::optional<EndRecord>& end() const { return end_; }

private:
    void open();
    // Reads more of the file into in_; false at its end.
    bool fill_input();
    // More record bytes into data_; false at the end (clean or damaged).
    bool more_data();
    bool fail(std::uint64_t offset, std::string what);

    std::string name_;
    UniqueFd fd_;
    std::span<const std::byte> memory_;  // when reading from memory
    std::vector<std::byte> in_;
    std::size_t in_pos_ = 0;
    std::size_t in_len_ = 0;
    std::uint64_t in_file_offset_ = 0;  // file offset of in_[0]
    bool eof_ = false;
    Header header_;
    std::uint16_t version_ = 0;  // the file's format version
    std::vector<std::byte> expanded_;  // the last zero-elided payload, expanded
    bool zstd_ = false;
    struct Dctx;
    std::unique_ptr<Dctx> dctx_;
    bool in_frame_ = false;             // a zstd frame is started and not ended
    std::uint64_t frame_offset_ = 0;    // file offset where the current (or last) frame began
    std::vector<std::byte> data_;       // decompressed bytes not yet returned
    std::size_t data_pos_ = 0;
    std::uint64_t data_offset_ = 0;     // offset of data_[0] in the current frame's contents
    std::optional<Damage> damage_;
    std::optional<EndRecord> end_;
    bool done_ = false;
};

}  // namespace sstrace::capture
