// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/app/stream_outputs.hpp"

#include "sstrace/abi/events.h"
#include "sstrace/app/output_plan.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/program.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>

#ifndef SSTRACE_VERSION
#define SSTRACE_VERSION "0.0.0"
#endif

namespace sstrace {

namespace {

// Bytes of rows (or records) waiting for a slow reader or disk before they are dropped (and
// counted); reading a capture back waits instead.
constexpr std::size_t kMaxQueuedOutput = std::size_t{64} << 20;

}  // namespace

OutputPlan plan_outputs(const Options& opts)
{
    OutputPlan out;
    out.json = opts.json;
    out.command_line = opts.argv;
    if (!opts.write_file.empty()) {
        CaptureSettings c;
        c.path = opts.write_file;
        c.rotate_bytes = opts.rotate_size.value_or(0);
        c.rotate_seconds = opts.rotate_seconds.value_or(0);
        c.rotate_count = opts.rotate_count.value_or(0);
        c.post_rotate = opts.post_rotate;
        out.capture = std::move(c);
        out.print = opts.print;
    }
    return out;
}

capture::Header capture_header(const StreamPlan& plan)
{
    capture::Header h;
    h.abi_version = SSTRACE_ABI_VERSION;
    h.byte_order = std::string(capture::host_byte_order());
    h.program = std::string("sstrace ") + SSTRACE_VERSION;
    utsname u{};
    if (::uname(&u) == 0) {
        h.host = u.nodename;
        h.kernel = u.release;
    }
    h.command_line = plan.output.command_line;
    h.fields = plan.bpf.fields;
    // a watch's programs follow every state for its table; the capture holds what it shows
    const bool watch = plan.watch && plan.watch->list;
    h.states = !watch ? plan.bpf.state_mask : plan.state_mode ? plan.watch->shown : 0;
    h.destroy = plan.bpf.destroy;
    h.family = plan.bpf.family;
    h.netns = plan.bpf.netns_ino;
    h.filter = plan.expr.empty() ? std::string() : plan.expr.to_string();
    return h;
}

StreamOutputs::StreamOutputs(const StreamPlan& plan, std::int64_t clock_offset,
                             OutputWriter::WhenFull when_full, CaptureTableSource table)
{
    if (plan.output.capture) {
        CaptureSettings settings = *plan.output.capture;
        capture::Header header = capture_header(plan);
        if (table.records && plan.watch) {
            header.table = plan.watch->members;
            header.table_netns = std::move(table.netns);
            settings.table = std::move(table.records);
        }
        capture_.emplace(settings, header, clock_offset, kMaxQueuedOutput);
    }
    if (!plan.output.print) {
        return;
    }
    stdout_.emplace(STDOUT_FILENO, kMaxQueuedOutput, when_full);
    if (plan.output.json) {
        JsonOptions o;
        o.extended = plan.row.extended;
        o.namespaces = named_namespaces();
        json_.emplace(o, &*stdout_);
    } else {
        rows_.emplace(plan.layout, SsColumns(plan.row, ServiceNames(plan.numeric), plan.proc_dir),
                      &*stdout_, plan.tty);
    }
    set_clock_offset(clock_offset);
}

void StreamOutputs::attach(StreamPipeline& pipeline)
{
    if (rows_) {
        pipeline.add_sink(*rows_);
    }
    if (json_) {
        pipeline.add_sink(*json_);
    }
    if (capture_) {
        pipeline.add_sink(capture_->sink());
    }
}

void StreamOutputs::set_clock_offset(std::int64_t offset)
{
    if (rows_) {
        rows_->set_clock_offset(offset);
    }
    if (json_) {
        json_->set_clock_offset(offset);
    }
}

void StreamOutputs::set_namespaces(const std::map<std::uint32_t, std::string>& names)
{
    if (json_) {
        json_->set_namespaces(names);
    }
    if (rows_) {
        rows_->set_namespaces(names);
    }
}

bool StreamOutputs::writing() const
{
    return (!stdout_ || stdout_->state() == OutputWriter::State::Open) &&
           (!capture_ || capture_->writer().state() == OutputWriter::State::Open);
}

bool StreamOutputs::reader_gone() const
{
    // with --write -, stdout is the capture's
    const OutputWriter* out = stdout_ ? &*stdout_
                              : capture_ && capture_->settings().path == "-" ? &capture_->writer()
                                                                              : nullptr;
    return out != nullptr && out->state() == OutputWriter::State::ReaderGone;
}

void StreamOutputs::warn_unwritten()
{
    if (stdout_) {
        if (const std::uint64_t n = stdout_->take_new_unwritten(); n != 0) {
            spdlog::warn("{} rows not written ({}); {} so far", n,
                         stdout_->state() == OutputWriter::State::Failed
                             ? fmt::format("writing to stdout failed: {}",
                                           std::strerror(stdout_->error()))
                             : std::string("the reader of stdout is too slow"),
                         stdout_->unwritten());
        }
    }
    if (capture_) {
        OutputWriter& w = capture_->writer();
        if (const std::uint64_t n = w.take_new_unwritten(); n != 0) {
            spdlog::warn("{} events not written to {} ({}); {} so far", n,
                         capture_->current_name(),
                         w.state() == OutputWriter::State::Failed
                             ? fmt::format("writing failed: {}", std::strerror(w.error()))
                             : std::string("the disk is too slow"),
                         w.unwritten());
        }
    }
}

void StreamOutputs::finish(int timeout_ms)
{
    if (stdout_) {
        stdout_->finish(timeout_ms);
    }
    if (capture_) {
        capture_->sink().push_held();  // the last records, however few
        capture_->writer().finish(timeout_ms);
        capture_->wait_post_rotate();
    }
}

std::uint64_t StreamOutputs::delivered() const
{
    if (rows_) {
        return rows_->rows() - stdout_->unwritten();
    }
    if (json_) {
        return json_->rows() - stdout_->unwritten();
    }
    return capture_ ? capture_->stats().events : 0;
}

const char* StreamOutputs::delivered_as() const
{
    // --metrics alone delivers no row anywhere: the rows are "printed" (none)
    return stdout_ || !capture_ ? "printed" : "written";
}

void StreamOutputs::report(bool verbose) const
{
    if (stdout_ && stdout_->unwritten() != 0) {
        fmt::print(stderr, "{}: {} rows not written\n", program_name(), stdout_->unwritten());
    }
    if (!capture_) {
        return;
    }
    const std::uint64_t lost = capture_->writer().unwritten();
    if (lost != 0) {
        fmt::print(stderr, "{}: {} events not written to {}\n", program_name(), lost,
                   capture_->current_name());
    }
    if (verbose || !stdout_) {
        const CaptureStats s = capture_->stats();
        const double per = s.events != 0 ? static_cast<double>(s.events) : 1.0;
        fmt::print(stderr,
                   "{}: capture: {} events in {} file{} (last {}), {} bytes written, {} bytes of "
                   "records before compression ({:.1f} and {:.1f} bytes per event)\n",
                   program_name(), s.events, s.files, s.files == 1 ? "" : "s",
                   capture_->current_name(), s.file_bytes, s.record_bytes,
                   static_cast<double>(s.file_bytes) / per,
                   static_cast<double>(s.record_bytes) / per);
    }
}

void StreamOutputs::throw_if_failed() const
{
    if (stdout_ && stdout_->state() == OutputWriter::State::Failed) {
        throw Error::from_errno("writing to stdout", stdout_->error(), kExitFailure,
                                "the run stopped; rows before the error were written");
    }
    if (capture_ && capture_->writer().state() == OutputWriter::State::Failed) {
        throw Error::from_errno(fmt::format("writing to {}", capture_->current_name()),
                                capture_->writer().error(), kExitFailure,
                                "the run stopped; the file holds every event before the error "
                                "and says how many were lost");
    }
}

}  // namespace sstrace
