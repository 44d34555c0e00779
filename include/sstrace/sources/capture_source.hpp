// SPDX-License-Identifier: GPL-2.0-only
// A capture read back as an event source: the files in time order, their event records decoded
// as the live stream decodes the ring buffer's, and the kernel's part of the selection (states
// entered, tables destroyed, family, namespace) applied as the BPF programs apply it. Clock
// pairs and loss records are handed over where they stand among the events.
#pragma once

#include "sstrace/abi/events.h"
#include "sstrace/capture/reader.hpp"
#include "sstrace/core/state.hpp"
#include "sstrace/sources/event_source.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sstrace {

// What the kernel would have let through: the capture's records outside it are skipped.
struct CaptureSelection {
    StateMask states = 0;       // state entries into these (0: no state entries)
    StateMask leave = 0;        // and transitions out of these (--transitions)
    bool tw_end = false;        // the ends of TIME-WAIT (--transitions with time-wait)
    std::uint8_t destroy = 0;   // destroys of these tables (SSTRACE_DESTROY_* bits)
    std::uint16_t family = 0;   // AF_INET, AF_INET6, or 0 for both
    std::optional<std::uint32_t> netns;  // one namespace (its inode)
    std::optional<std::int64_t> since_ns;  // wall clock, ns since the epoch
    std::optional<std::int64_t> until_ns;
};

// The capture files named on the command line, opened and put in time order (by the clock
// pair their headers start with). `spec`: a file; else a glob pattern; else the base name of a
// rotated set (FILE.0, FILE.1, ...). Throws Error when nothing matches or a file cannot be read.
// Of several files, one whose preamble or header is damaged is left out and described in
// `damaged` (the others are read); alone, it throws.
std::vector<std::unique_ptr<capture::Reader>> open_captures(const std::vector<std::string>& specs,
                                                            std::vector<std::string>* damaged = nullptr);

class CaptureEventSource : public EventSource {
public:
    // At most this many records are handed over per drain().
    static constexpr std::size_t kBatch = 4096;

    CaptureEventSource(std::vector<std::unique_ptr<capture::Reader>> files,
                       const CaptureSelection& selection);

    int fd() const override { return -1; }
    std::size_t drain(const Deliver& deliver) override;

    // Every file read to its end (or to its damage).
    bool done() const { return done_; }
    // The files whose damage ended their reading (the next file was read after each).
    const std::vector<const capture::Reader*>& damaged_files() const { return damaged_; }

    // Called where a file starts (before its first event), where a clock pair changes the
    // realtime - monotonic offset, and for every loss record in the time window.
    std::function<void(const capture::Reader&)> on_file;
    std::function<void(std::int64_t offset)> on_clock;
    std::function<void(const EventLoss&)> on_loss;

    std::uint64_t events_read() const { return events_read_; }
    std::uint64_t malformed() const { return malformed_; }
    // The losses the capture recorded in the time window, added up.
    const EventLoss& lost() const { return lost_; }

private:
    bool selected(const SocketEvent& ev) const;
    // An event record of an earlier, shorter layout of the same ABI version, zero-extended.
    std::span<const std::byte> grown(std::span<const std::byte> record);

    std::vector<std::unique_ptr<capture::Reader>> files_;
    std::size_t current_ = 0;
    bool started_ = false;
    CaptureSelection sel_;
    std::int64_t offset_ = 0;
    SocketEvent event_;
    bool done_ = false;
    std::vector<const capture::Reader*> damaged_;
    std::uint64_t events_read_ = 0;
    std::uint64_t malformed_ = 0;
    EventLoss lost_;
    std::array<std::byte, sizeof(sstrace_event)> grown_{};
};

}  // namespace sstrace
