// SPDX-License-Identifier: GPL-2.0-only
// Socket listings: `sstrace` without -E behaves as iproute2 6.1's `ss`.
#pragma once

#include "sstrace/core/env.hpp"
#include "sstrace/inet_format.hpp"
#include "sstrace/options.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sstrace {

// What a filter expression can look at, for every row before it is printed.
struct SockRow {
    int family = 0;          // AF_INET, AF_INET6, AF_UNIX, AF_PACKET, AF_NETLINK
    int protocol = 0;        // IPPROTO_* for inet, socket type for unix/packet, nl protocol
    int state = 0;
    InetAddr local;          // inet only
    InetAddr peer;           // inet only
    unsigned local_port = 0; // inet port; packet: ifindex; netlink: portid
    unsigned peer_port = 0;
    unsigned ifindex = 0;
    std::uint32_t mark = 0;
    std::uint64_t cgroup_id = 0;
    std::uint64_t inode = 0;
    std::string_view unix_path;  // unix: name as printed (`@` for abstract), empty if unbound
};

// A per-row predicate (the filter expression); rows for which it returns false are skipped.
using RowPredicate = std::function<bool(const SockRow&)>;

// What a filter expression turns into.
struct DumpFilter {
    RowPredicate row;                         // checked for every row of every table
    std::vector<std::uint8_t> inet_bytecode;  // INET_DIAG_REQ_BYTECODE for inet dumps, or empty
};

// Runs a listing; returns the exit code. The FILTER expression (and -F) is ss's filter language:
// compiled to INET_DIAG_REQ_BYTECODE for inet dumps where ss compiles it, and checked on every row.
// `env` says where /proc is and whether a table is read from /proc text or a TCPDIAG_FILE.
int run_dump(const Options& opts, const Environment& env);

}  // namespace sstrace
