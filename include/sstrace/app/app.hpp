// SPDX-License-Identifier: GPL-2.0-only
#pragma once

#include "sstrace/app/options.hpp"
#include "sstrace/core/env.hpp"

namespace sstrace {

// The whole program behind main(): parses, dispatches, maps errors to exit codes.
int run_main(int argc, const char* const* argv);

// `sstrace -E ...`: follows TCP state entries or destroys until stopped.
int run_event_stream(const Options& opts, const Environment& env);

// `sstrace --read FILE ...`: a capture's events through the same pipeline (app/replay.cpp).
int run_replay(const Options& opts, const Environment& env);

}  // namespace sstrace
