// SPDX-License-Identifier: GPL-2.0-only
// The listing's BPF iterator programs (bpf/iter_tcp.bpf.c, bpf/iter_files.bpf.c), loaded once
// per run; every walk is a fresh iterator, created in the network namespace the process is in at
// that moment. Internal to src/sources.
#pragma once

#include "sstrace/abi/iter.h"
#include "sstrace/core/state.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace sstrace {

struct IterConfig {
    bool tcp = false;    // load iter/tcp
    bool files = false;  // load iter/task_file (owners)
    StateMask states = 0;
    std::uint32_t fields = 0;  // SSTRACE_ITER_F_*: what to read besides every row's columns
    // inet_diag bytecode run on every socket (empty: none); at most SSTRACE_FILTER_MAX bytes.
    // Its necessary condition on the ports (filter::port_prefilter()) is checked first.
    std::vector<std::uint8_t> filter;
};

// What the program counted during one walk (for -vv).
struct IterWalkCounts {
    std::uint64_t rows = 0;      // records read
    std::uint64_t skipped = 0;   // sockets of families not reported, passed over
    std::uint64_t rejected = 0;  // sockets the filter program rejected in the kernel
    std::uint64_t prefiltered = 0;  // sockets the port prefilter rejected before the program
};

class IterSession {
public:
    // Loads and attaches what `cfg` asks for. Throws Error when the kernel or the privileges do
    // not allow it (the caller falls back to sock_diag and /proc).
    explicit IterSession(const IterConfig& cfg);
    ~IterSession();
    IterSession(const IterSession&) = delete;
    IterSession& operator=(const IterSession&) = delete;

    // A walk of the TCP hash tables, in the iterator's order, handing every reported socket to
    // `on_row`. It reports the families of `families` (SSTRACE_ITER_WALK_* bits); `on_row`
    // returns the bits to go on reporting (a subset: sockets of a family it drops are counted
    // from then on), or a negative value to end the walk.
    IterWalkCounts walk_tcp(std::uint32_t families,
                            const std::function<int(const sstrace_iter_tcp&)>& on_row);

    // One walk of every process's file table: the socket files of thread-group leaders.
    void walk_files(const std::function<void(const sstrace_iter_file&)>& on_file);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sstrace
