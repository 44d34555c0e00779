// SPDX-License-Identifier: GPL-2.0-only
// Owner of the BPF object: configuration, variant choice, load, attach, ring buffer, counters.
// No libbpf type appears here; src/bpf/bpf_session.cpp is the only file that sees the skeleton.
#pragma once

#include "sstrace/core/state.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sstrace {

enum class BpfVariant {
    Auto,        // tp_btf, falling back to classic tracepoints if it cannot load
    Btf,         // tp_btf programs only
    Tracepoint,  // classic tracepoints only (mounts tracefs if needed)
};

const char* variant_name(BpfVariant v);

struct BpfConfig {
    StateMask state_mask = 0;   // state entries to report (bit per state)
    bool destroy = false;       // report TCP socket destruction
    std::uint32_t netns_ino = 0;  // 0 = every namespace
    std::uint16_t family = 0;     // 0 = AF_INET and AF_INET6
    std::size_t ring_bytes = 8u << 20;
    std::uint64_t wakeup_bytes = 0;  // 0 = adaptive wakeups
    BpfVariant variant = BpfVariant::Auto;
    bool attach = true;  // false: open and load only (load tests)
    // inet_diag filter bytecode run on every event before it is queued (empty: none). At most
    // SSTRACE_FILTER_MAX bytes; the caller keeps longer programs in userspace.
    std::vector<std::uint8_t> filter;
};

struct BpfCounters {
    std::uint64_t emitted = 0;      // records committed by the kernel side
    std::uint64_t lost = 0;         // records dropped because the ring buffer was full
    std::uint64_t tw_overflow = 0;  // FIN-WAIT-2/CLOSING -> CLOSE without a timewait socket
    std::uint64_t filtered = 0;     // events the in-kernel filter rejected
};

struct BpfProgramInfo {
    std::string name;
    std::uint32_t verified_insns = 0;
    bool loaded = false;
};

// Addresses of kernel functions sstrace recognises timers by (0 when unknown).
struct KernelSymbols {
    std::uint64_t tw_timer_handler = 0;
    std::uint64_t tcp_write_timer = 0;
};
KernelSymbols read_kernel_symbols(const char* path = "/proc/kallsyms");

class BpfSession {
public:
    // Called for every ring-buffer record, with the raw bytes.
    using RecordHandler = std::function<void(const void* data, std::size_t size)>;

    // Opens, configures, loads and (unless cfg.attach is false) attaches. Throws sstrace::Error
    // with the exit code that fits (privileges, kernel support, verifier).
    explicit BpfSession(const BpfConfig& cfg);
    ~BpfSession();
    BpfSession(const BpfSession&) = delete;
    BpfSession& operator=(const BpfSession&) = delete;

    BpfVariant variant() const;
    std::vector<BpfProgramInfo> programs() const;

    // Starts ring-buffer consumption; the handler runs inside consume().
    void set_handler(RecordHandler handler);
    int epoll_fd() const;
    // Consumes everything available; returns the number of records, or -errno.
    int consume();

    BpfCounters counters() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sstrace
