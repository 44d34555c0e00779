// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/capture_source.hpp"

#include "sstrace/abi/events.h"
#include "sstrace/core/error.hpp"
#include "sstrace/sources/bpf_record.hpp"

#include <fmt/format.h>
#include <glob.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <cerrno>
#include <tuple>

namespace sstrace {

namespace {

std::vector<std::string> glob_files(const std::string& pattern)
{
    std::vector<std::string> out;
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) {
            out.emplace_back(g.gl_pathv[i]);
        }
    }
    ::globfree(&g);
    return out;
}

// A file, a glob pattern, or a rotated set's base name.
std::vector<std::string> expand(const std::string& spec)
{
    struct stat st {};
    if (spec == "-" || ::stat(spec.c_str(), &st) == 0) {
        return {spec};
    }
    if (spec.find_first_of("*?[") != std::string::npos) {
        if (auto files = glob_files(spec); !files.empty()) {
            return files;
        }
    }
    std::vector<std::string> set;
    for (std::string& f : glob_files(spec + ".[0-9]*")) {
        const std::string suffix = f.substr(spec.size() + 1);
        if (suffix.find_first_not_of("0123456789") == std::string::npos) {
            set.push_back(std::move(f));
        }
    }
    if (set.empty()) {
        throw Error::from_errno(fmt::format("--read {}", spec), ENOENT, kExitFailure,
                                "no such file, pattern match or rotated set FILE.0, FILE.1, ...");
    }
    return set;
}

}  // namespace

std::vector<std::unique_ptr<capture::Reader>> open_captures(const std::vector<std::string>& specs,
                                                            std::vector<std::string>* damaged)
{
    std::vector<std::unique_ptr<capture::Reader>> files;
    std::vector<std::string> seen;
    for (const std::string& spec : specs) {
        for (const std::string& path : expand(spec)) {
            if (std::find(seen.begin(), seen.end(), path) != seen.end()) {
                continue;
            }
            seen.push_back(path);
        }
    }
    for (const std::string& path : seen) {
        try {
            files.push_back(std::make_unique<capture::Reader>(path == "-" ? "/dev/stdin" : path));
        } catch (const Error& e) {
            // a damaged file among several: the others are still read (a crash leaves one cut
            // file in a set of days); not a capture at all, or one alone: the error
            if (e.exit_code() != kExitDamaged || seen.size() == 1 || damaged == nullptr) {
                throw;
            }
            damaged->push_back(e.what());
        }
    }
    if (files.empty() && damaged != nullptr && !damaged->empty()) {
        throw Error("--read", "every file is damaged", kExitDamaged, damaged->front());
    }
    // time order: when each file started, then its place in its run
    std::stable_sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
        const capture::Header& x = a->header();
        const capture::Header& y = b->header();
        return std::tie(x.clock.real_ns, x.file_index) < std::tie(y.clock.real_ns, y.file_index);
    });
    return files;
}

std::span<const std::byte> CaptureEventSource::grown(std::span<const std::byte> record)
{
    // The record layout grows at its end within one ABI version (abi/events.h): a capture
    // written before a field was appended holds shorter records, read with the new fields zero
    // (the header's `fields` says they were not recorded).
    sstrace_hdr hdr{};
    if (record.size() < sizeof(hdr) || record.size() >= sizeof(sstrace_event)) {
        return record;
    }
    std::memcpy(&hdr, record.data(), sizeof(hdr));
    if (hdr.size != record.size()) {
        return record;  // malformed: decode_record says so
    }
    grown_.fill(std::byte{0});
    std::memcpy(grown_.data(), record.data(), record.size());
    hdr.size = static_cast<decltype(hdr.size)>(sizeof(sstrace_event));
    std::memcpy(grown_.data(), &hdr, sizeof(hdr));
    return {grown_.data(), grown_.size()};
}

CaptureEventSource::CaptureEventSource(std::vector<std::unique_ptr<capture::Reader>> files,
                                       const CaptureSelection& selection)
    : files_(std::move(files)), sel_(selection)
{
    done_ = files_.empty();
}

bool CaptureEventSource::selected(const SocketEvent& ev) const
{
    if (ev.kind == EventKind::StateEntry) {
        // entries into the selected states; with --transitions, leaving them too
        if ((sel_.states & state_bit(ev.new_state)) == 0 &&
            (ev.old_state < 0 || (sel_.leave & state_bit(ev.old_state)) == 0)) {
            return false;
        }
    } else if (ev.kind == EventKind::TimeWaitEnd) {
        if (!sel_.tw_end || ev.tw_end == TwEnd::Rearmed) {
            return false;
        }
    } else {
        const int p = ev.socket.protocol;
        const std::uint8_t table = p == IPPROTO_TCP   ? SSTRACE_DESTROY_TCP
                                   : p == IPPROTO_UDP ? SSTRACE_DESTROY_UDP
                                                      : SSTRACE_DESTROY_RAW;
        if ((sel_.destroy & table) == 0) {
            return false;
        }
    }
    if (sel_.family != 0 && ev.socket.family != sel_.family) {
        return false;
    }
    return !sel_.netns || ev.netns_ino == *sel_.netns;
}

std::size_t CaptureEventSource::drain(const Deliver& deliver)
{
    std::size_t delivered = 0;
    std::size_t records = 0;
    capture::Record rec;
    while (!done_ && records < kBatch) {
        capture::Reader& file = *files_[current_];
        if (!started_) {
            started_ = true;
            offset_ = file.header().clock.offset();
            if (on_file) {
                on_file(file);
            }
            if (on_clock) {
                on_clock(offset_);
            }
        }
        if (!file.next(rec)) {
            if (file.damage()) {
                damaged_.push_back(&file);  // every record before it was delivered
            }
            started_ = false;
            if (++current_ == files_.size()) {
                done_ = true;
            }
            continue;
        }
        ++records;
        switch (rec.type) {
        case capture::RecordType::Event: {
            // the kernel's record (hdr.size bytes), then what the stream added to it
            std::span<const std::byte> kernel = rec.payload;
            std::uint64_t in_state_ns = 0;
            if (sstrace_hdr hdr{}; kernel.size() >= sizeof(hdr)) {
                std::memcpy(&hdr, kernel.data(), sizeof(hdr));
                if (hdr.size >= sizeof(hdr) && hdr.size + 8u <= kernel.size()) {
                    for (std::size_t i = 0; i < 8; ++i) {
                        in_state_ns |= std::to_integer<std::uint64_t>(kernel[hdr.size + i]) << (8 * i);
                    }
                    kernel = kernel.first(hdr.size);
                }
            }
            if (!decode_record(grown(kernel), event_)) {
                ++malformed_;
                break;
            }
            event_.in_state_ns = in_state_ns;
            if (event_.kind == EventKind::TimeWaitEnd && event_.tw_end == TwEnd::Cancelled) {
                event_.tw_end = TwEnd::Killed;  // the writer recorded resolved cancels only
            }
            ++events_read_;
            const std::int64_t wall = static_cast<std::int64_t>(event_.mono_ns) + offset_;
            // (records of different CPUs are only nearly in time order: every one is tested)
            if ((sel_.until_ns && wall >= *sel_.until_ns) ||
                (sel_.since_ns && wall < *sel_.since_ns) || !selected(event_)) {
                break;
            }
            ++delivered;
            deliver(event_);
            break;
        }
        case capture::RecordType::Clock:
            if (const auto pair = capture::parse_clock(rec.payload)) {
                offset_ = pair->offset();
                if (on_clock) {
                    on_clock(offset_);
                }
            }
            break;
        case capture::RecordType::Loss:
            if (const auto loss = capture::parse_loss(rec.payload)) {
                const std::int64_t wall = static_cast<std::int64_t>(loss->mono_ns) + offset_;
                if ((sel_.since_ns && wall < *sel_.since_ns) ||
                    (sel_.until_ns && wall >= *sel_.until_ns)) {
                    break;
                }
                lost_ += *loss;
                if (on_loss) {
                    on_loss(*loss);
                }
            }
            break;
        default:
            break;  // the end record, and types a newer writer added
        }
    }
    return delivered;
}

}  // namespace sstrace
