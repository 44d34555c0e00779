// SPDX-License-Identifier: GPL-2.0-only
// Where a stream's events go, from the options: rows or JSON lines on stdout, a capture file.
#pragma once

#include "sstrace/app/options.hpp"
#include "sstrace/sinks/capture_writer.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sstrace {

struct OutputPlan {
    bool print = true;  // rows (or JSON lines) on stdout
    bool json = false;  // JSON lines instead of rows
    std::optional<CaptureSettings> capture;  // --write
    std::vector<std::string> command_line;   // for the capture's header
};

OutputPlan plan_outputs(const Options& opts);

}  // namespace sstrace
