// SPDX-License-Identifier: GPL-2.0-only
// iter/tcp records -> Socket (internal to src/sources).
#pragma once

#include "sstrace/abi/iter.h"
#include "sstrace/model/socket.hpp"

namespace sstrace::iter {

// Sets every field an iter/tcp record describes, as parse_inet() sets them from the sock_diag
// message of the same socket (without -i, -m, -o, --tos or --inet-sockopt, which the iterator
// does not serve). `out` may hold the previous row: nothing else of it is ever set on this path.
void socket_of(const sstrace_iter_tcp& r, Socket& out);

}  // namespace sstrace::iter
