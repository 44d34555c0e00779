// SPDX-License-Identifier: GPL-2.0-only
// Diagnostics on stderr through spdlog; stdout carries data only.
#pragma once

#include <optional>
#include <string>

namespace sstrace {

// verbosity: number of -v given. 0 = warnings, 1 = info, 2 = debug, 3+ = trace (libbpf debug
// messages too). `level` (SSTRACE_LOG_LEVEL: trace|debug|info|warn|error|off) overrides it.
void setup_logging(int verbosity, const std::optional<std::string>& level);

// Routes libbpf's messages into spdlog one level down (warn -> info, info -> debug,
// debug -> trace), so the verifier log of a failed load shows from -v on.
void bridge_libbpf_logging();

}  // namespace sstrace
