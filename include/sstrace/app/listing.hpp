// SPDX-License-Identifier: GPL-2.0-only
// Socket listings: `sstrace` without -E behaves as iproute2 6.1's `ss`.
#pragma once

#include "sstrace/app/options.hpp"
#include "sstrace/core/env.hpp"

namespace sstrace {

struct Socket;

// Sees a listing as it runs (a watch seeds its live table from it).
class ListingObserver {
public:
    virtual ~ListingObserver() = default;
    // Every socket the listing prints, before its row.
    virtual void listed(const Socket& s) = 0;
    // Now and then while the dump runs (every few hundred sockets): time to drain a ring buffer.
    virtual void tick() = 0;
};

// Runs a listing and returns the exit code: ss's selection, its FILTER expression (compiled to
// INET_DIAG_REQ_BYTECODE where ss compiles it, and checked on every socket), -s, -D, -K.
// `env` says where /proc is and whether a table is read from /proc text or a TCPDIAG_FILE.
int run_listing(const Options& opts, const Environment& env,
                ListingObserver* observer = nullptr);

}  // namespace sstrace
