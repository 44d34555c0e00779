// SPDX-License-Identifier: GPL-2.0-only
// Socket listings: `sstrace` without -E behaves as iproute2 6.1's `ss`.
#pragma once

#include "sstrace/app/options.hpp"
#include "sstrace/core/env.hpp"

#include <functional>

namespace sstrace {

struct Socket;
struct Selection;
class ListingConsumer;

// Sees a listing as it runs (a watch seeds its live table from it).
class ListingObserver {
public:
    virtual ~ListingObserver() = default;
    // Every socket the listing prints, before its row.
    virtual void listed(const Socket& s) = 0;
    // Now and then while the dump runs (every few hundred sockets): time to drain a ring buffer.
    virtual void tick() = 0;
};

// Sockets listed from elsewhere than the kernel (the table a --watch capture holds): handed to
// the consumer, table by table, as far as the selection takes them.
using ListingFeed = std::function<void(const Selection&, ListingConsumer&)>;

// Runs a listing and returns the exit code: ss's selection, its FILTER expression (compiled to
// INET_DIAG_REQ_BYTECODE where ss compiles it, and checked on every socket), -s, -D, -K.
// `env` says where /proc is and whether a table is read from /proc text or a TCPDIAG_FILE.
// With `feed`, the sockets come from it instead (no dump, no owners: -p has none to show).
int run_listing(const Options& opts, const Environment& env,
                ListingObserver* observer = nullptr, const ListingFeed* feed = nullptr);

}  // namespace sstrace
