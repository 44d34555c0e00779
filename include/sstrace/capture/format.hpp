// SPDX-License-Identifier: GPL-2.0-only
// The capture file format (doc/capture.md): a preamble with the magic and the format version, a
// JSON header that describes the capture, then length-framed, checksummed records (events in the
// kernel record layout of include/sstrace/abi/events.h, clock pairs, losses, the end), compressed
// in independent zstd frames. The writer (sinks/capture_writer) and the reader
// (capture/reader.hpp, sources/capture) share these definitions and nothing else.
#pragma once

#include "sstrace/abi/events.h"
#include "sstrace/core/state.hpp"
#include "sstrace/model/event.hpp"
#include "sstrace/model/loss.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace::capture {

// "\x89sstrace\r\n\x1a\n": the high bit and the line ends catch a file mangled in transfer.
inline constexpr std::array<unsigned char, 12> kMagic = {0x89, 's', 's', 't', 'r', 'a',
                                                         'c', 'e', '\r', '\n', 0x1a, '\n'};
// Incompatible changes bump it; a reader refuses a newer one. Compatible additions (new record
// types, which readers skip, and new header keys, which they ignore) do not. Version 2 added
// zero-elided records (kRecordZeroElided); this reader reads versions 1 and 2.
inline constexpr std::uint16_t kFormatVersion = 2;
// Preamble: magic, u16 format version, u16 flags, u32 header length, u32 CRC-32 of the header.
inline constexpr std::size_t kPreambleBytes = kMagic.size() + 2 + 2 + 4 + 4;
inline constexpr std::uint16_t kFlagZstd = 0x1;  // the records are in zstd frames
// The longest header and the longest record a reader accepts.
inline constexpr std::size_t kMaxHeaderBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxRecordBytes = std::size_t{1} << 16;
// Record framing: u32 size (of the whole record), u32 CRC-32, u16 type, u16 flags (0). The CRC
// covers the record's position in the file's record stream (so that a damaged zstd frame that
// copies an earlier whole record into a later place does not pass), the size field, and
// everything after the CRC field.
inline constexpr std::size_t kRecordHeaderBytes = 12;
// Record flag (format version 2): the payload is stored zero-elided, as u16 n (the payload's
// length), ceil(n / 8) mask bytes (bit i % 8 of mask byte i / 8 set: payload byte i is not
// zero), then the payload's non-zero bytes in order. Event and Table records are written so:
// an event of an IPv4 connection is about half zeros, and zstd's time grows with its input.
inline constexpr std::uint16_t kRecordZeroElided = 0x1;

enum class RecordType : std::uint16_t {
    Event = 1,  // a struct sstrace_event of the header's ABI version
    Clock = 2,  // i64 CLOCK_MONOTONIC ns, i64 CLOCK_REALTIME ns, read together
    Loss = 3,   // u64 monotonic ns, then u64 ring_full, skipped, map_full, not_written
    End = 4,    // u64 monotonic ns, u64 event records in the file, u32 EndReason, u32 0
    // --watch: one socket of the live table when the file started (these come first, after
    // the header): u64 monotonic ns of the table, u64 monotonic ns the socket entered its
    // state (0: unknown), then a struct sstrace_event of the socket in that state
    Table = 5,
};

enum class EndReason : std::uint32_t {
    Stopped = 1,     // the stream stopped (signal, --duration, -c)
    Rotated = 2,     // the next file of the set follows
    WriteError = 3,  // writing failed (a full disk): the run stopped after this file
};

// A CLOCK_MONOTONIC and a CLOCK_REALTIME reading taken together: event times (monotonic) convert
// to wall-clock time with the latest pair before them.
struct ClockPair {
    std::int64_t mono_ns = 0;
    std::int64_t real_ns = 0;

    std::int64_t offset() const { return real_ns - mono_ns; }
};

struct EndRecord {
    std::uint64_t mono_ns = 0;
    std::uint64_t events = 0;
    EndReason reason = EndReason::Stopped;
};

// What the header says about a capture. Every file of a rotated set has its own.
struct Header {
    std::uint32_t abi_version = 0;  // SSTRACE_ABI_VERSION of the writer: the event layout
    std::string byte_order;         // "little" or "big": the event records' integers
    std::string program;            // "sstrace 0.1.0"
    std::string host;               // uname nodename
    std::string kernel;             // uname release
    ClockPair clock;                // at the file's start
    std::vector<std::string> command_line;
    // The optional fields the events carry (SSTRACE_FIELD_* bits): decided by the options of
    // the capture (-e: uid and inode; the filter: device, mark, cgroup, port lock).
    std::uint32_t fields = 0;
    // What the stream followed: state entries into `states`, or destroys of the `destroy`
    // tables (SSTRACE_DESTROY_* bits); one family (AF_INET, AF_INET6) or both (0); one
    // namespace (its inode) or all (0).
    StateMask states = 0;
    std::uint8_t destroy = 0;
    std::uint16_t family = 0;
    std::uint32_t netns = 0;
    std::string filter;  // the expression in force, as parsed ("" for none)
    // The namespaces `ip netns` named when the file was started: inode -> name.
    std::map<std::uint32_t, std::string> namespaces;
    // --watch: the file starts with the live table (Table records) of the sockets in these
    // states; nullopt for a capture without a table
    std::optional<StateMask> table;
    std::vector<std::uint32_t> table_netns;  // the namespaces listed, in order (--all-netns)
    std::string capture_id;        // the same in every file of one run
    std::uint32_t file_index = 0;  // 0 for a run's first file
};

// The byte order of this build, as the header names it.
std::string_view host_byte_order();

// CRC-32 (zlib's polynomial) of `bytes`, continuing from `crc` (0 to start).
std::uint32_t crc32(std::span<const std::byte> bytes, std::uint32_t crc = 0);

// The header as the file carries it (a JSON object), and back. nullopt with `error` set when the
// text is not such an object or a required key is missing or mistyped.
std::string header_to_json(const Header& h);
std::optional<Header> header_from_json(std::string_view text, std::string& error);

// The preamble and the header: what every file starts with.
std::string file_start(const Header& h, bool zstd);

// Appends one framed record, its CRC left 0: the writer seals it (seal_records) where its
// position in the file is known.
void append_record(std::string& out, RecordType type, std::span<const std::byte> payload);
// The same, the payload stored zero-elided (kRecordZeroElided). The elision runs with BMI2's
// PEXT where the CPU has it, else with a portable loop; the bytes stored are the same (`code`
// chooses the portable loop for the tests that compare the two).
enum class ElisionCode : std::uint8_t { Fastest, Portable };
void append_elided_record(std::string& out, RecordType type, std::span<const std::byte> payload,
                          ElisionCode code = ElisionCode::Fastest);
// An elided payload back into `out`; false when it is malformed (lengths that do not add up, a
// mask bit past the payload's length).
bool expand_elided(std::span<const std::byte> stored, std::vector<std::byte>& out);
// The CRC of one whole record that starts `position` bytes into the file's records.
std::uint32_t record_crc(std::span<const std::byte> record, std::uint64_t position);
// Sets the CRC of each whole record in `records`, the first one at `position`. Returns the
// bytes of whole records sealed (records.size() unless the last one is cut).
std::size_t seal_records(std::span<std::byte> records, std::uint64_t position);
// Appends an Event record: the event in the kernel's record layout (the inverse of
// decode_record in sources/bpf/bpf_record.cpp, which reads it back).
void append_event(std::string& out, const SocketEvent& ev);
void append_clock(std::string& out, const ClockPair& pair);
void append_loss(std::string& out, const EventLoss& loss);
void append_end(std::string& out, const EndRecord& end);
// The event in the kernel's record layout (what an Event record holds).
sstrace_event encode_event(const SocketEvent& ev);
// A Table record: a socket (`row`, as encode_event makes it of its latest state entry) as the
// table held it at `table_ns`; `since_ns`: when it entered that state (0: unknown).
void append_table(std::string& out, std::uint64_t table_ns, std::uint64_t since_ns,
                  const sstrace_event& row);

// A Table record's payload.
struct TableRecord {
    std::uint64_t table_ns = 0;
    std::uint64_t since_ns = 0;
    std::span<const std::byte> event;  // a struct sstrace_event (hdr.size bytes)
};

// The payloads back; nullopt when too short.
std::optional<ClockPair> parse_clock(std::span<const std::byte> payload);
std::optional<EventLoss> parse_loss(std::span<const std::byte> payload);
std::optional<EndRecord> parse_end(std::span<const std::byte> payload);
std::optional<TableRecord> parse_table(std::span<const std::byte> payload);

// Bytes of one Event record stored whole (framing included, no zero elision): what the records
// of a capture would take uncompressed and unelided, for size estimates.
std::size_t event_record_bytes();

}  // namespace sstrace::capture
