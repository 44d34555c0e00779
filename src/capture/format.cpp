// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/capture/format.hpp"

#include "sstrace/abi/events.h"
#include "sstrace/capture/libraries.hpp"
#include "sstrace/core/shared_library.hpp"

#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <isa-l/crc.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>

namespace sstrace::capture {

namespace {

using nlohmann::json;

template <typename T>
void put_le(std::string& out, T value)
{
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out.push_back(static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i) & 0xff));
    }
}

template <typename T>
T get_le(std::span<const std::byte> bytes, std::size_t at)
{
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        v |= std::uint64_t{std::to_integer<std::uint8_t>(bytes[at + i])} << (8 * i);
    }
    return static_cast<T>(v);
}

std::span<const std::byte> bytes_of(const std::string& s)
{
    return std::as_bytes(std::span(s.data(), s.size()));
}

struct FieldName {
    std::uint32_t bit;
    const char* name;
};
constexpr FieldName kFieldNames[] = {
    {SSTRACE_FIELD_INO, "inode"},          {SSTRACE_FIELD_CGROUP, "cgroup"},
    {SSTRACE_FIELD_MARK, "mark"},          {SSTRACE_FIELD_IFINDEX, "ifindex"},
    {SSTRACE_FIELD_USERLOCKS, "userlocks"}, {SSTRACE_FIELD_UID, "uid"},
};

constexpr FieldName kDestroyNames[] = {
    {SSTRACE_DESTROY_TCP, "tcp"}, {SSTRACE_DESTROY_UDP, "udp"}, {SSTRACE_DESTROY_RAW, "raw"}};

json names_of(std::uint32_t mask, std::span<const FieldName> names)
{
    json out = json::array();
    for (const FieldName& f : names) {
        if ((mask & f.bit) != 0) {
            out.push_back(f.name);
        }
    }
    return out;
}

json state_names(StateMask mask)
{
    json out = json::array();
    for (int s = 0; s < kStateCount; ++s) {
        if ((mask & state_bit(s)) != 0) {
            out.push_back(std::string(state_name(s)));
        }
    }
    return out;
}

// A value of the header: nullptr when absent or of another type.
const json* member(const json& obj, const char* key)
{
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

template <typename T>
bool read_unsigned(const json& obj, const char* key, T& out, std::string& error)
{
    const json* v = member(obj, key);
    if (v == nullptr || !v->is_number_unsigned() ||
        v->get<std::uint64_t>() > std::numeric_limits<T>::max()) {
        error = std::string("header: no unsigned number \"") + key + "\"";
        return false;
    }
    out = static_cast<T>(v->get<std::uint64_t>());
    return true;
}

bool read_signed(const json& obj, const char* key, std::int64_t& out, std::string& error)
{
    const json* v = member(obj, key);
    if (v == nullptr || !v->is_number_integer() ||
        (v->is_number_unsigned() &&
         v->get<std::uint64_t>() > std::uint64_t{std::numeric_limits<std::int64_t>::max()})) {
        error = std::string("header: no integer \"") + key + "\"";
        return false;
    }
    out = v->get<std::int64_t>();
    return true;
}

void read_string(const json& obj, const char* key, std::string& out)
{
    if (const json* v = member(obj, key); v != nullptr && v->is_string()) {
        out = v->get<std::string>();
    }
}

}  // namespace

std::string_view host_byte_order()
{
    return std::endian::native == std::endian::little ? "little" : "big";
}

namespace {

constexpr const char* kCaptureFiles = "capture files (--write, --read)";

decltype(&crc32_gzip_refl) isal_crc32()
{
    static const auto fn = [] {
        const SharedLibrary lib("libisal.so.2", kCaptureFiles, "libisal2");
        decltype(&crc32_gzip_refl) f = nullptr;
        lib.bind(f, "crc32_gzip_refl");
        return f;
    }();
    return fn;
}

}  // namespace

const Zstd& zstd()
{
    static const Zstd z = [] {
        const SharedLibrary lib("libzstd.so.1", kCaptureFiles, "libzstd1");
        Zstd f;
        lib.bind(f.createCCtx, "ZSTD_createCCtx");
        lib.bind(f.freeCCtx, "ZSTD_freeCCtx");
        lib.bind(f.CCtx_setParameter, "ZSTD_CCtx_setParameter");
        lib.bind(f.CCtx_reset, "ZSTD_CCtx_reset");
        lib.bind(f.CStreamOutSize, "ZSTD_CStreamOutSize");
        lib.bind(f.compressBound, "ZSTD_compressBound");
        lib.bind(f.compressStream2, "ZSTD_compressStream2");
        lib.bind(f.createDCtx, "ZSTD_createDCtx");
        lib.bind(f.freeDCtx, "ZSTD_freeDCtx");
        lib.bind(f.DCtx_setParameter, "ZSTD_DCtx_setParameter");
        lib.bind(f.DStreamOutSize, "ZSTD_DStreamOutSize");
        lib.bind(f.decompressStream, "ZSTD_decompressStream");
        lib.bind(f.isError, "ZSTD_isError");
        lib.bind(f.getErrorName, "ZSTD_getErrorName");
        return f;
    }();
    return z;
}

void open_capture_libraries(bool compressed)
{
    isal_crc32();
    if (compressed) {
        zstd();
    }
}

std::uint32_t crc32(std::span<const std::byte> bytes, std::uint32_t crc)
{
    // ISA-L's reflected CRC-32 of gzip is zlib's crc32() (the same polynomial, initial value
    // and final inversion: the unit tests check known values), with PCLMULQDQ where the CPU
    // has it: the checksum was a quarter of a capture's CPU time with zlib's
    return isal_crc32()(crc, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string header_to_json(const Header& h)
{
    json j;
    j["format_version"] = kFormatVersion;
    j["abi_version"] = h.abi_version;
    j["byte_order"] = h.byte_order;
    j["program"] = h.program;
    j["host"] = h.host;
    j["kernel"] = h.kernel;
    j["clock"] = {{"monotonic_ns", h.clock.mono_ns}, {"realtime_ns", h.clock.real_ns}};
    j["command_line"] = h.command_line;
    j["fields"] = {{"mask", h.fields}, {"names", names_of(h.fields, kFieldNames)}};
    j["stream"] = {
        {"states", {{"mask", h.states}, {"names", state_names(h.states)}}},
        {"destroy", {{"mask", h.destroy}, {"names", names_of(h.destroy, kDestroyNames)}}},
        {"family", h.family == AF_INET ? "inet" : h.family == AF_INET6 ? "inet6" : "both"},
        {"netns", h.netns},
    };
    j["filter"] = h.filter;
    if (h.table) {
        j["table"] = {{"states", {{"mask", *h.table}, {"names", state_names(*h.table)}}},
                      {"netns", h.table_netns}};
    }
    json ns = json::object();
    for (const auto& [ino, name] : h.namespaces) {
        ns[std::to_string(ino)] = name;
    }
    j["namespaces"] = std::move(ns);
    j["capture_id"] = h.capture_id;
    j["file_index"] = h.file_index;
    // command-line words need not be UTF-8: such bytes become U+FFFD rather than an exception
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Header> header_from_json(std::string_view text, std::string& error)
{
    const json j = json::parse(text.begin(), text.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        error = "header: not a JSON object";
        return std::nullopt;
    }
    Header h;
    const json* clock = member(j, "clock");
    const json* fields = member(j, "fields");
    const json* stream = member(j, "stream");
    if (clock == nullptr || !clock->is_object() || fields == nullptr || !fields->is_object() ||
        stream == nullptr || !stream->is_object()) {
        error = "header: no \"clock\", \"fields\" or \"stream\" object";
        return std::nullopt;
    }
    const json* states = member(*stream, "states");
    const json* destroy = member(*stream, "destroy");
    if (states == nullptr || !states->is_object() || destroy == nullptr || !destroy->is_object()) {
        error = "header: no \"stream\" states or destroy object";
        return std::nullopt;
    }
    if (!read_unsigned(j, "abi_version", h.abi_version, error) ||
        !read_signed(*clock, "monotonic_ns", h.clock.mono_ns, error) ||
        !read_signed(*clock, "realtime_ns", h.clock.real_ns, error) ||
        !read_unsigned(*fields, "mask", h.fields, error) ||
        !read_unsigned(*states, "mask", h.states, error) ||
        !read_unsigned(*destroy, "mask", h.destroy, error) ||
        !read_unsigned(*stream, "netns", h.netns, error)) {
        return std::nullopt;
    }
    read_string(j, "byte_order", h.byte_order);
    if (h.byte_order != "little" && h.byte_order != "big") {
        error = "header: \"byte_order\" is neither little nor big";
        return std::nullopt;
    }
    std::string family;
    read_string(*stream, "family", family);
    h.family = family == "inet" ? AF_INET : family == "inet6" ? AF_INET6 : 0;
    read_string(j, "program", h.program);
    read_string(j, "host", h.host);
    read_string(j, "kernel", h.kernel);
    read_string(j, "filter", h.filter);
    read_string(j, "capture_id", h.capture_id);
    if (const json* idx = member(j, "file_index"); idx != nullptr && idx->is_number_unsigned() &&
                                                  idx->get<std::uint64_t>() <= UINT32_MAX) {
        h.file_index = idx->get<std::uint32_t>();
    }
    if (const json* cmd = member(j, "command_line"); cmd != nullptr && cmd->is_array()) {
        for (const json& w : *cmd) {
            if (w.is_string()) {
                h.command_line.push_back(w.get<std::string>());
            }
        }
    }
    if (const json* table = member(j, "table"); table != nullptr && table->is_object()) {
        StateMask mask = 0;
        if (const json* st = member(*table, "states");
            st == nullptr || !st->is_object() || !read_unsigned(*st, "mask", mask, error)) {
            error = "header: \"table\" has no states mask";
            return std::nullopt;
        }
        h.table = mask;
        if (const json* ns = member(*table, "netns"); ns != nullptr && ns->is_array()) {
            for (const json& ino : *ns) {
                if (ino.is_number_unsigned() && ino.get<std::uint64_t>() <= UINT32_MAX) {
                    h.table_netns.push_back(ino.get<std::uint32_t>());
                }
            }
        }
    }
    if (const json* ns = member(j, "namespaces"); ns != nullptr && ns->is_object()) {
        for (const auto& [key, name] : ns->items()) {
            std::uint32_t ino = 0;
            const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), ino);
            if (ec == std::errc() && ptr == key.data() + key.size() && name.is_string()) {
                h.namespaces[ino] = name.get<std::string>();
            }
        }
    }
    return h;
}

std::string file_start(const Header& h, bool zstd)
{
    const std::string header = header_to_json(h);
    std::string out(reinterpret_cast<const char*>(kMagic.data()), kMagic.size());
    put_le(out, kFormatVersion);
    put_le(out, std::uint16_t{zstd ? kFlagZstd : std::uint16_t{0}});
    put_le(out, static_cast<std::uint32_t>(header.size()));
    put_le(out, crc32(bytes_of(header)));
    out += header;
    return out;
}

void append_record(std::string& out, RecordType type, std::span<const std::byte> payload)
{
    const std::size_t start = out.size();
    put_le(out, static_cast<std::uint32_t>(kRecordHeaderBytes + payload.size()));
    put_le(out, std::uint32_t{0});  // the CRC, filled in below
    put_le(out, static_cast<std::uint16_t>(type));
    put_le(out, std::uint16_t{0});
    out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
    (void)start;
}

namespace {

// Bit j set: byte j of `w` (in memory order) is not zero. The high bit of each byte of `hi` says
// whether the byte is not zero (its low seven bits added to 0x7f carry into bit 7, or bit 7 was
// set; no carry crosses a byte); the multiplication gathers the eight bits into the top byte.
inline unsigned nonzero_bytes(std::uint64_t w)
{
    constexpr std::uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
    const std::uint64_t hi = (((w & low7) + low7) | w) & ~low7;
    return static_cast<unsigned>(((hi >> 7) * 0x0102040810204080ull) >> 56);
}

// Stores the payload's mask bytes and its non-zero bytes; returns the end of the bytes stored.
// The room at `o` must hold n + 8 bytes. Payload bytes are in memory order: the words below are
// read little-endian (bit j of a mask is byte j), so this is for little-endian hosts, which
// every event record of this build is.
unsigned char* elide_portable(const unsigned char* p, std::size_t n, unsigned char* mask,
                              unsigned char* o)
{
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p + i, std::min<std::size_t>(8, n - i));
        unsigned m = nonzero_bytes(w);
        mask[i / 8] = static_cast<unsigned char>(m);
        for (; m != 0; m &= m - 1) {
            *o++ = p[i + static_cast<std::size_t>(std::countr_zero(m))];
        }
    }
    return o;
}

#if defined(__x86_64__)
// The same with BMI2's PEXT, which packs the non-zero bytes of a word in one instruction: the
// byte loop above was an eighth of a capture's CPU time under the benchmark's churn.
__attribute__((target("bmi2,popcnt"))) unsigned char* elide_bmi2(const unsigned char* p,
                                                                 std::size_t n,
                                                                 unsigned char* mask,
                                                                 unsigned char* o)
{
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t w = 0;
        if (i + 8 <= n) {
            std::memcpy(&w, p + i, 8);  // a whole word: one load
        } else {
            std::memcpy(&w, p + i, n - i);
        }
        const unsigned m = nonzero_bytes(w);
        mask[i / 8] = static_cast<unsigned char>(m);
        // each set mask bit widened to its byte: 0xff where the byte is kept
        const std::uint64_t keep = _pdep_u64(m, 0x0101010101010101ull) * 0xff;
        const std::uint64_t packed = _pext_u64(w, keep);
        std::memcpy(o, &packed, 8);
        o += std::popcount(m);
    }
    return o;
}

const bool kHaveBmi2 = __builtin_cpu_supports("bmi2");
#endif

}  // namespace

void append_elided_record(std::string& out, RecordType type, std::span<const std::byte> payload,
                          ElisionCode code)
{
    static_assert(std::endian::native == std::endian::little, "elision reads little-endian words");
    const std::size_t n = payload.size();
    const std::size_t mask_bytes = (n + 7) / 8;
    const std::size_t start = out.size();
    out.resize(start + kRecordHeaderBytes + 2 + mask_bytes + n + 8);
    auto* base = reinterpret_cast<unsigned char*>(out.data() + start);
    unsigned char* mask = base + kRecordHeaderBytes + 2;
    const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
#if defined(__x86_64__)
    unsigned char* o = kHaveBmi2 && code == ElisionCode::Fastest
                           ? elide_bmi2(p, n, mask, mask + mask_bytes)
                           : elide_portable(p, n, mask, mask + mask_bytes);
#else
    (void)code;
    unsigned char* o = elide_portable(p, n, mask, mask + mask_bytes);
#endif
    const auto size = static_cast<std::uint32_t>(o - base);
    const auto put = [](unsigned char* at, std::uint64_t v, std::size_t bytes) {
        for (std::size_t i = 0; i < bytes; ++i) {
            at[i] = static_cast<unsigned char>(v >> (8 * i) & 0xff);
        }
    };
    put(base, size, 4);
    put(base + 4, 0, 4);  // the CRC: seal_records fills it in
    put(base + 8, static_cast<std::uint16_t>(type), 2);
    put(base + 10, kRecordZeroElided, 2);
    put(base + kRecordHeaderBytes, n, 2);
    out.resize(start + size);
}

bool expand_elided(std::span<const std::byte> stored, std::vector<std::byte>& out)
{
    if (stored.size() < 2) {
        return false;
    }
    const std::size_t n = std::to_integer<std::size_t>(stored[0]) |
                          std::to_integer<std::size_t>(stored[1]) << 8;
    const std::size_t mask_bytes = (n + 7) / 8;
    if (stored.size() < 2 + mask_bytes) {
        return false;
    }
    out.assign(n, std::byte{0});
    std::size_t at = 2 + mask_bytes;
    for (std::size_t i = 0; i < mask_bytes; ++i) {
        const auto m = std::to_integer<unsigned>(stored[2 + i]);
        for (std::size_t j = 0; j < 8; ++j) {
            if ((m >> j & 1u) == 0) {
                continue;
            }
            if (i * 8 + j >= n || at >= stored.size()) {
                return false;
            }
            out[i * 8 + j] = stored[at++];
        }
    }
    return at == stored.size();
}

std::uint32_t record_crc(std::span<const std::byte> record, std::uint64_t position)
{
    // the position, the size, then everything after the CRC field: in one piece, since the
    // vectorised CRC of a short piece costs about as much as that of the whole record (12 and
    // 124 bytes: 55 ns in two calls, 14 ns in one, and the copy is cheaper than the difference)
    std::array<std::byte, 512> buf;
    const std::size_t rest = record.size() - 8;
    for (std::size_t i = 0; i < 8; ++i) {
        buf[i] = static_cast<std::byte>(position >> (8 * i) & 0xff);
    }
    std::copy_n(record.begin(), 4, buf.begin() + 8);
    if (12 + rest > buf.size()) {
        return crc32(record.subspan(8), crc32(std::span(buf).first(12)));
    }
    std::copy_n(record.begin() + 8, rest, buf.begin() + 12);
    return crc32(std::span(buf).first(12 + rest));
}

std::size_t seal_records(std::span<std::byte> records, std::uint64_t position)
{
    std::size_t at = 0;
    while (records.size() - at >= kRecordHeaderBytes) {
        const auto b = [&](std::size_t i) { return std::to_integer<std::uint32_t>(records[at + i]); };
        const std::uint32_t size = b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24;
        if (size < kRecordHeaderBytes || size > records.size() - at) {
            break;
        }
        const std::uint32_t crc = record_crc(records.subspan(at, size), position + at);
        for (std::size_t i = 0; i < 4; ++i) {
            records[at + 4 + i] = static_cast<std::byte>(crc >> (8 * i) & 0xff);
        }
        at += size;
    }
    return at;
}

namespace {

std::uint8_t reason_code(CloseReason r)
{
    switch (r) {
    case CloseReason::Reset: return SSTRACE_REASON_RESET;
    case CloseReason::Refused: return SSTRACE_REASON_REFUSED;
    case CloseReason::Timeout: return SSTRACE_REASON_TIMEOUT;
    case CloseReason::Other: return SSTRACE_REASON_OTHER;
    case CloseReason::None: break;
    }
    return SSTRACE_REASON_NONE;
}

// `v` at `at`, little-endian.
void put_u64_at(std::span<std::byte> out, std::size_t at, std::uint64_t v)
{
    for (std::size_t i = 0; i < 8; ++i) {
        out[at + i] = static_cast<std::byte>(v >> (8 * i) & 0xff);
    }
}

}  // namespace

// The inverse of decode_record in sources/bpf/bpf_record.cpp.
sstrace_event encode_event(const SocketEvent& ev)
{
    const Socket& s = ev.socket;
    sstrace_event r{};
    r.hdr.type = ev.kind == EventKind::Destroy       ? SSTRACE_REC_DESTROY
                 : ev.kind == EventKind::TimeWaitEnd ? SSTRACE_REC_TW_END
                                                     : SSTRACE_REC_STATE;
    r.hdr.size = sizeof(r);
    r.hdr.cpu = ev.cpu;
    r.hdr.ts_ns = ev.mono_ns;
    r.cookie = s.cookie;
    std::memcpy(r.saddr, s.inet.local.addr.bytes, sizeof(r.saddr));
    std::memcpy(r.daddr, s.inet.peer.addr.bytes, sizeof(r.daddr));
    r.sport = s.inet.local.port;
    r.dport = s.inet.peer.port;
    r.family = static_cast<__u16>(s.family);
    r.protocol = static_cast<__u8>(s.protocol);
    r.flags = static_cast<__u8>((s.inet.v6only.value_or(false) ? SSTRACE_EVF_V6ONLY : 0) |
                                (ev.tw_orphan ? SSTRACE_EVF_TW_FIN_WAIT2 : 0) |
                                (ev.syn_unsent ? SSTRACE_EVF_SYN_UNSENT : 0));
    r.oldstate = static_cast<__u8>(ev.old_state);
    r.newstate = static_cast<__u8>(ev.new_state);
    r.reason = reason_code(ev.close_reason);
    if (ev.kind == EventKind::TimeWaitEnd) {
        // what the BPF source delivers: an expiry, a re-arm, or a cancel it resolved as an end
        r.reason = ev.tw_end == TwEnd::Expired   ? SSTRACE_TWEND_EXPIRED
                   : ev.tw_end == TwEnd::Rearmed ? SSTRACE_TWEND_REARMED
                                                 : SSTRACE_TWEND_CANCELLED;
    }
    r.userlocks = ev.filter_facts.port_locked ? 8 : 0;  // SOCK_BINDPORT_LOCK
    r.netns_ino = ev.netns_ino;
    r.rqueue = s.rqueue;
    r.wqueue = s.wqueue;
    r.uid = s.uid;
    r.ifindex = s.ifindex;
    r.mark = ev.filter_facts.mark;
    r.ino = s.inode;
    r.cgroup_id = ev.filter_facts.cgroup_id;
    return r;
}

void append_event(std::string& out, const SocketEvent& ev)
{
    const sstrace_event r = encode_event(ev);
    if (ev.in_state_ns == 0) {
        append_elided_record(out, RecordType::Event, std::as_bytes(std::span(&r, 1)));
        return;
    }
    // what the stream added to the kernel's record: how long the socket was in the state it
    // left (a u64 after the record, which hdr.size does not count)
    std::array<std::byte, sizeof(r) + 8> payload{};
    std::memcpy(payload.data(), &r, sizeof(r));
    put_u64_at(payload, sizeof(r), ev.in_state_ns);
    append_elided_record(out, RecordType::Event, payload);
}

void append_table(std::string& out, std::uint64_t table_ns, std::uint64_t since_ns,
                  const sstrace_event& r)
{
    std::array<std::byte, 16 + sizeof(r)> payload{};
    put_u64_at(payload, 0, table_ns);
    put_u64_at(payload, 8, since_ns);
    std::memcpy(payload.data() + 16, &r, sizeof(r));
    append_elided_record(out, RecordType::Table, payload);
}

void append_clock(std::string& out, const ClockPair& pair)
{
    std::string p;
    put_le(p, pair.mono_ns);
    put_le(p, pair.real_ns);
    append_record(out, RecordType::Clock, bytes_of(p));
}

void append_loss(std::string& out, const EventLoss& loss)
{
    std::string p;
    for (const std::uint64_t v :
         {loss.mono_ns, loss.ring_full, loss.skipped, loss.map_full, loss.not_written}) {
        put_le(p, v);
    }
    append_record(out, RecordType::Loss, bytes_of(p));
}

void append_end(std::string& out, const EndRecord& end)
{
    std::string p;
    put_le(p, end.mono_ns);
    put_le(p, end.events);
    put_le(p, static_cast<std::uint32_t>(end.reason));
    put_le(p, std::uint32_t{0});
    append_record(out, RecordType::End, bytes_of(p));
}

std::optional<ClockPair> parse_clock(std::span<const std::byte> payload)
{
    if (payload.size() < 16) {
        return std::nullopt;
    }
    return ClockPair{get_le<std::int64_t>(payload, 0), get_le<std::int64_t>(payload, 8)};
}

std::optional<EventLoss> parse_loss(std::span<const std::byte> payload)
{
    if (payload.size() < 40) {
        return std::nullopt;
    }
    EventLoss l;
    l.mono_ns = get_le<std::uint64_t>(payload, 0);
    l.ring_full = get_le<std::uint64_t>(payload, 8);
    l.skipped = get_le<std::uint64_t>(payload, 16);
    l.map_full = get_le<std::uint64_t>(payload, 24);
    l.not_written = get_le<std::uint64_t>(payload, 32);
    return l;
}

std::optional<EndRecord> parse_end(std::span<const std::byte> payload)
{
    if (payload.size() < 24) {
        return std::nullopt;
    }
    EndRecord e;
    e.mono_ns = get_le<std::uint64_t>(payload, 0);
    e.events = get_le<std::uint64_t>(payload, 8);
    e.reason = static_cast<EndReason>(get_le<std::uint32_t>(payload, 16));
    return e;
}

std::optional<TableRecord> parse_table(std::span<const std::byte> payload)
{
    if (payload.size() < 16 + sizeof(sstrace_hdr)) {
        return std::nullopt;
    }
    TableRecord t;
    t.table_ns = get_le<std::uint64_t>(payload, 0);
    t.since_ns = get_le<std::uint64_t>(payload, 8);
    t.event = payload.subspan(16);
    return t;
}

std::size_t event_record_bytes() { return kRecordHeaderBytes + sizeof(sstrace_event); }

}  // namespace sstrace::capture
