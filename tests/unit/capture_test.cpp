// SPDX-License-Identifier: GPL-2.0-only
// The capture format end to end without a kernel: events written by the capture sink (zstd
// frames, on its writer thread) to a file, read back by capture::Reader and decoded as the ring
// buffer's records are; every truncation and every flipped byte of that file ends the records
// at the damage, never before a record that is whole and never with a wrong record.
#include "sstrace/abi/events.h"
#include "sstrace/capture/format.hpp"
#include "sstrace/capture/reader.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/sinks/capture_writer.hpp"
#include "sstrace/sources/bpf_record.hpp"
#include "sstrace/sources/capture_source.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace sstrace;

namespace {

SocketEvent make_event(std::uint32_t i)
{
    SocketEvent ev;
    ev.kind = EventKind::StateEntry;
    ev.old_state = 2;  // SYN-SENT
    ev.new_state = 1;  // ESTABLISHED
    ev.mono_ns = 1000000000ull + i * 1000ull;
    ev.cpu = i % 2;
    ev.netns_ino = 4026531840u;
    ev.socket.family = AF_INET;
    ev.socket.protocol = IPPROTO_TCP;
    ev.socket.state = 1;
    ev.socket.cookie = 1000 + i;
    ev.socket.inet.local.port = static_cast<std::uint16_t>(40000 + i % 20000);
    ev.socket.inet.peer.port = 443;
    return ev;
}

struct Decoded {
    std::vector<std::uint64_t> cookies;
    std::optional<capture::Damage> damage;
    bool ended = false;
};

Decoded read_all(capture::Reader& r)
{
    Decoded d;
    capture::Record rec;
    SocketEvent ev;
    while (r.next(rec)) {
        if (rec.type == capture::RecordType::Event) {
            EXPECT_TRUE(decode_record(rec.payload, ev));
            d.cookies.push_back(ev.socket.cookie);
        }
    }
    d.damage = r.damage();
    d.ended = r.end().has_value();
    return d;
}

class CaptureFile : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/sstrace-capture-unit-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override
    {
        std::remove(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    // Writes `n` events in batches of `batch` through the capture sink and its writer thread.
    std::string write(std::uint32_t n, std::uint32_t batch)
    {
        path_ = dir_ + "/t.cap";
        CaptureSettings s;
        s.path = path_;
        capture::Header h;
        h.abi_version = SSTRACE_ABI_VERSION;
        h.byte_order = std::string(capture::host_byte_order());
        h.program = "unit";
        h.states = 0xffe;
        {
            CaptureOutput out(s, h, 0, std::size_t{64} << 20);
            for (std::uint32_t i = 0; i < n; ++i) {
                out.sink().event(make_event(i));
                if ((i + 1) % batch == 0) {
                    out.sink().push_held();  // one batch: one zstd block
                }
            }
            out.sink().push_held();
            EXPECT_EQ(out.writer().finish(5000), OutputWriter::State::Open);
        }
        std::ifstream f(path_, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(f), {});
    }

    static Decoded read_bytes(const std::string& bytes)
    {
        capture::Reader r(std::as_bytes(std::span(bytes.data(), bytes.size())), "mem");
        return read_all(r);
    }

    std::string dir_;
    std::string path_;
};

}  // namespace

TEST_F(CaptureFile, EventsReadBackInOrderWithTheEnd)
{
    const std::string bytes = write(1000, 37);
    capture::Reader r(path_);
    EXPECT_EQ(r.header().program, "unit");
    EXPECT_EQ(r.header().abi_version, std::uint32_t{SSTRACE_ABI_VERSION});
    const Decoded d = read_all(r);
    EXPECT_FALSE(d.damage) << d.damage->what;
    EXPECT_TRUE(d.ended);
    ASSERT_EQ(d.cookies.size(), 1000u);
    for (std::uint32_t i = 0; i < 1000; ++i) {
        EXPECT_EQ(d.cookies[i], 1000 + i);
    }
    // compressed: well below the records' size
    EXPECT_LT(bytes.size(), 1000 * capture::event_record_bytes() / 2);
}

TEST_F(CaptureFile, EveryTruncationKeepsTheWholeRecordsBeforeIt)
{
    const std::string bytes = write(300, 10);
    const Decoded full = read_bytes(bytes);
    ASSERT_EQ(full.cookies.size(), 300u);
    std::size_t previous = 0;
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        if (len < capture::kPreambleBytes + 16) {
            // no header: the reader refuses the file (exit status 6 for damage)
            try {
                read_bytes(bytes.substr(0, len));
                ADD_FAILURE() << "a file cut at " << len << " opened";
            } catch (const Error& e) {
                EXPECT_TRUE(e.exit_code() == kExitDamaged || e.exit_code() == kExitFailure) << len;
            }
            continue;
        }
        Decoded d;
        try {
            d = read_bytes(bytes.substr(0, len));
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), kExitDamaged) << len;  // cut inside the header
            continue;
        }
        ASSERT_TRUE(d.damage) << "a file cut at " << len << " of " << bytes.size() << " read clean";
        EXPECT_LE(d.damage->offset, len);
        ASSERT_LE(d.cookies.size(), full.cookies.size());
        EXPECT_TRUE(std::equal(d.cookies.begin(), d.cookies.end(), full.cookies.begin())) << len;
        // a longer file never reads fewer records
        EXPECT_GE(d.cookies.size(), previous) << len;
        previous = d.cookies.size();
    }
    // the flushed blocks of the last, unended frame are decoded: a cut just before the end
    // record loses no event
    EXPECT_EQ(previous, 300u);
}

TEST_F(CaptureFile, EveryFlippedByteIsDamageOrHarmless)
{
    const std::string bytes = write(200, 20);
    const Decoded full = read_bytes(bytes);
    for (std::size_t at = 0; at < bytes.size(); ++at) {
        std::string bad = bytes;
        bad[at] = static_cast<char>(bad[at] ^ 0x21);
        Decoded d;
        try {
            d = read_bytes(bad);
        } catch (const Error& e) {
            EXPECT_TRUE(e.exit_code() == kExitDamaged || e.exit_code() == kExitFailure) << at;
            continue;
        }
        ASSERT_LE(d.cookies.size(), full.cookies.size()) << at;
        EXPECT_TRUE(std::equal(d.cookies.begin(), d.cookies.end(), full.cookies.begin()))
            << at << " of " << bytes.size() << ": " << d.cookies.size() << " records, "
            << (d.damage ? d.damage->what : "no damage") << "; first "
            << (d.cookies.empty() ? 0 : d.cookies.front()) << " last "
            << (d.cookies.empty() ? 0 : d.cookies.back());
        if (!d.damage) {
            // only bytes no record depends on (zstd's optional checksum, a block's padding)
            EXPECT_EQ(d.cookies.size(), full.cookies.size()) << at;
        }
    }
}

// A capture written before fields were appended to the record (same ABI version, shorter
// records) reads back with those fields zero.
TEST(CaptureFormat, ShorterEventRecordsOfTheSameAbiReadWithTheNewFieldsZero)
{
    SocketEvent ev = make_event(7);
    ev.filter_facts.cgroup_id = 99;  // the last field of the layout: cut off below
    sstrace_event r = capture::encode_event(ev);
    const std::size_t cut = sizeof(std::uint64_t);
    r.hdr.size = static_cast<decltype(r.hdr.size)>(r.hdr.size - cut);  // the kernel record's size
    std::string rec;
    capture::append_elided_record(rec, capture::RecordType::Event,
                                  std::as_bytes(std::span(&r, 1)).first(sizeof(r) - cut));
    std::string records = rec;
    capture::append_end(records, {0, 1, capture::EndReason::Stopped});
    capture::seal_records(std::as_writable_bytes(std::span(records.data(), records.size())), 0);

    capture::Header h;
    h.abi_version = SSTRACE_ABI_VERSION;
    h.byte_order = std::string(capture::host_byte_order());
    h.states = 0xffe;
    h.fields = SSTRACE_FIELD_UID;
    const std::string file = capture::file_start(h, false) + records;
    std::vector<std::unique_ptr<capture::Reader>> files;
    files.push_back(std::make_unique<capture::Reader>(
        std::as_bytes(std::span(file.data(), file.size())), "old"));
    CaptureSelection sel;
    sel.states = 0xffe;
    CaptureEventSource source(std::move(files), sel);
    std::vector<SocketEvent> got;
    while (!source.done()) {
        source.drain([&](const SocketEvent& e) { got.push_back(e); });
    }
    EXPECT_TRUE(source.damaged_files().empty());
    EXPECT_EQ(source.malformed(), 0u);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].socket.cookie, ev.socket.cookie);
    EXPECT_EQ(got[0].socket.inet.local.port, ev.socket.inet.local.port);
    EXPECT_EQ(got[0].filter_facts.cgroup_id, 0u);
}

TEST(CaptureFormat, HeaderRoundTripsAndRejectsNonsense)
{
    capture::Header h;
    h.abi_version = SSTRACE_ABI_VERSION;
    h.byte_order = "little";
    h.host = "h";
    h.kernel = "k";
    h.clock = {5, 7};
    h.command_line = {"sstrace", "-E"};
    h.states = 0x40;
    h.family = AF_INET6;
    h.netns = 42;
    h.filter = "dport = :443";
    h.namespaces = {{42, "ns1"}};
    h.capture_id = "abc";
    h.file_index = 3;
    std::string error;
    const auto back = capture::header_from_json(capture::header_to_json(h), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->clock.real_ns, 7);
    EXPECT_EQ(back->command_line, h.command_line);
    EXPECT_EQ(back->states, h.states);
    EXPECT_EQ(back->family, h.family);
    EXPECT_EQ(back->namespaces, h.namespaces);
    EXPECT_EQ(back->filter, h.filter);
    EXPECT_EQ(back->file_index, 3u);
    EXPECT_FALSE(back->table);
    for (const char* bad : {"", "[]", "{", "{\"abi_version\": \"x\"}", "null"}) {
        EXPECT_FALSE(capture::header_from_json(bad, error)) << bad;
        EXPECT_FALSE(error.empty());
    }
    // a --watch capture's table: its states and the namespaces listed
    h.table = 0x42;
    h.table_netns = {42, 7};
    const auto watch = capture::header_from_json(capture::header_to_json(h), error);
    ASSERT_TRUE(watch) << error;
    EXPECT_EQ(watch->table, StateMask{0x42});
    EXPECT_EQ(watch->table_netns, (std::vector<std::uint32_t>{42, 7}));
}

TEST(CaptureFormat, Crc32IsZlibs)
{
    // the CRC-32 check value (zlib's crc32(0, "123456789", 9)), and continuing a CRC over a
    // second part gives the CRC of the whole, as zlib's does: files written with zlib read back
    const std::string text = "123456789";
    const auto all = std::as_bytes(std::span(text.data(), text.size()));
    EXPECT_EQ(capture::crc32(all), 0xCBF43926u);
    EXPECT_EQ(capture::crc32(all.subspan(4), capture::crc32(all.first(4))), 0xCBF43926u);
    EXPECT_EQ(capture::crc32({}), 0u);
}

TEST(CaptureFormat, TableRecordsCarryTheSocketAndItsTimes)
{
    SocketEvent ev = make_event(7);
    ev.new_state = 6;  // TIME-WAIT
    const sstrace_event row = capture::encode_event(ev);
    std::string out;
    capture::append_table(out, 123, 45, row);
    const auto bytes = std::as_bytes(std::span(out.data(), out.size()));
    EXPECT_EQ(std::to_integer<int>(bytes[8]), static_cast<int>(capture::RecordType::Table));
    EXPECT_EQ(std::to_integer<int>(bytes[10]), capture::kRecordZeroElided);
    std::vector<std::byte> payload;
    ASSERT_TRUE(capture::expand_elided(bytes.subspan(capture::kRecordHeaderBytes), payload));
    ASSERT_EQ(payload.size(), 16 + sizeof(sstrace_event));
    const auto t = capture::parse_table(payload);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->table_ns, 123u);
    EXPECT_EQ(t->since_ns, 45u);
    const auto back = decode_record(t->event);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->socket.cookie, ev.socket.cookie);
    EXPECT_EQ(back->socket.state, 6);
    EXPECT_EQ(back->socket.inet.local.port, ev.socket.inet.local.port);
    EXPECT_FALSE(capture::parse_table(std::span(payload).first(20)));
}

// Zero elision (format version 2) gives back every payload byte for byte, stores exactly the
// non-zero bytes after the length and the mask, and refuses stored forms that do not add up.
TEST(CaptureFormat, ZeroElidedPayloadsRoundTrip)
{
    std::uint32_t seed = 12345;
    const auto rnd = [&] { return seed = seed * 1103515245u + 12345u, seed >> 16; };
    for (std::size_t n = 0; n <= 300; ++n) {
        for (int fill = 0; fill < 4; ++fill) {
            // all zero, all non-zero, then about half and about a tenth zero
            std::vector<std::byte> in(n);
            std::size_t nonzero = 0;
            for (auto& b : in) {
                const unsigned v = rnd();
                const bool zero = fill == 0 || (fill == 2 && v % 2 == 0) || (fill == 3 && v % 10 == 0);
                b = zero ? std::byte{0} : static_cast<std::byte>(1 + (v >> 4) % 255);
                nonzero += zero ? 0 : 1;
            }
            std::string rec = "prefix";
            capture::append_elided_record(rec, capture::RecordType::Event, in);
            const auto bytes = std::as_bytes(std::span(rec.data(), rec.size())).subspan(6);
            ASSERT_EQ(bytes.size(), capture::kRecordHeaderBytes + 2 + (n + 7) / 8 + nonzero) << n;
            const std::uint32_t size = std::to_integer<std::uint32_t>(bytes[0]) |
                                       std::to_integer<std::uint32_t>(bytes[1]) << 8;
            EXPECT_EQ(size, bytes.size());
            std::vector<std::byte> out;
            const auto stored = bytes.subspan(capture::kRecordHeaderBytes);
            ASSERT_TRUE(capture::expand_elided(stored, out)) << n << " " << fill;
            EXPECT_EQ(out, in) << n << " " << fill;
            // the portable loop stores the same bytes as the fastest code this CPU runs
            std::string portable = "prefix";
            capture::append_elided_record(portable, capture::RecordType::Event, in,
                                          capture::ElisionCode::Portable);
            EXPECT_EQ(portable, rec) << n << " " << fill;
            if (nonzero > 0) {
                // one byte less or one more: the lengths no longer add up
                EXPECT_FALSE(capture::expand_elided(stored.first(stored.size() - 1), out)) << n;
                std::vector<std::byte> longer(stored.begin(), stored.end());
                longer.push_back(std::byte{7});
                EXPECT_FALSE(capture::expand_elided(longer, out)) << n;
            }
        }
    }
    // a mask bit past the payload's length
    const std::vector<std::byte> past = {std::byte{3}, std::byte{0}, std::byte{0x08}, std::byte{1}};
    std::vector<std::byte> out;
    EXPECT_FALSE(capture::expand_elided(past, out));
    EXPECT_FALSE(capture::expand_elided(std::span(past).first(1), out));
    EXPECT_FALSE(capture::expand_elided(std::span(past).first(2).subspan(0, 0), out));
}

// A file of format version 1 (records stored whole, no record flags) still reads; a record
// flag in such a file is damage, not a guess.
TEST(CaptureFormat, FormatVersionOneFilesStillRead)
{
    capture::Header h;
    h.abi_version = SSTRACE_ABI_VERSION;
    h.byte_order = std::string(capture::host_byte_order());
    h.states = 0xffe;
    std::string start = capture::file_start(h, false);
    start[capture::kMagic.size()] = 1;  // u16 format version 1, little-endian
    start[capture::kMagic.size() + 1] = 0;
    const auto read = [&](bool elided) {
        std::string records;
        for (std::uint32_t i = 0; i < 3; ++i) {
            const sstrace_event r = capture::encode_event(make_event(i));
            const auto payload = std::as_bytes(std::span(&r, 1));
            if (elided && i == 1) {
                capture::append_elided_record(records, capture::RecordType::Event, payload);
            } else {
                capture::append_record(records, capture::RecordType::Event, payload);
            }
        }
        capture::append_end(records, {0, 3, capture::EndReason::Stopped});
        capture::seal_records(std::as_writable_bytes(std::span(records.data(), records.size())), 0);
        const std::string file = start + records;
        capture::Reader r(std::as_bytes(std::span(file.data(), file.size())), "v1");
        return read_all(r);
    };
    const Decoded plain = read(false);
    EXPECT_FALSE(plain.damage);
    EXPECT_TRUE(plain.ended);
    EXPECT_EQ(plain.cookies, (std::vector<std::uint64_t>{1000, 1001, 1002}));
    const Decoded flagged = read(true);
    ASSERT_TRUE(flagged.damage);
    EXPECT_NE(flagged.damage->what.find("unknown record flags"), std::string::npos)
        << flagged.damage->what;
    EXPECT_EQ(flagged.cookies, (std::vector<std::uint64_t>{1000}));
}
