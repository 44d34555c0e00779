// SPDX-License-Identifier: GPL-2.0-only
// Socket listings: `sstrace` without -E behaves as iproute2 6.1's `ss`.
#pragma once

#include "sstrace/app/options.hpp"
#include "sstrace/core/env.hpp"

namespace sstrace {

// Runs a listing and returns the exit code: ss's selection, its FILTER expression (compiled to
// INET_DIAG_REQ_BYTECODE where ss compiles it, and checked on every socket), -s, -D, -K.
// `env` says where /proc is and whether a table is read from /proc text or a TCPDIAG_FILE.
int run_listing(const Options& opts, const Environment& env);

}  // namespace sstrace
