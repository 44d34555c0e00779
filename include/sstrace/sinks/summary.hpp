// SPDX-License-Identifier: GPL-2.0-only
// ss -s: the socket counters as ss prints them.
#pragma once

#include "sstrace/model/summary.hpp"

#include <cstdio>

namespace sstrace {

void print_summary(const SocketSummary& s, std::FILE* out);

}  // namespace sstrace
