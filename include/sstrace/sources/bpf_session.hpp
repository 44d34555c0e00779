// SPDX-License-Identifier: GPL-2.0-only
// Owner of the BPF object: configuration, variant choice, load, attach, ring buffer, counters.
// No libbpf type appears here; src/bpf/bpf_session.cpp is the only file that sees the skeleton.
#pragma once

#include "sstrace/core/state.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
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
    StateMask leave_mask = 0;   // --transitions: also transitions out of these states
    // Follow timewait sockets to their end (SSTRACE_REC_TW_END records): tp_btf variant only,
    // on kernels whose BTF describes the timer bases (see BpfSession::tw_ends()).
    bool tw_end = false;
    std::uint8_t destroy = 0;   // SSTRACE_DESTROY_* bits: destroyed sockets to report
    std::uint32_t netns_ino = 0;  // 0 = every namespace
    std::uint16_t family = 0;     // 0 = AF_INET and AF_INET6
    std::uint32_t fields = 0;     // SSTRACE_FIELD_* bits: optional record fields to fill
    // the records' rings together: each CPU's ring is an even share, rounded down to a power
    // of two of records, and at least 4096 records (rings of writes interrupting a write: an
    // eighth, at least 512)
    std::size_t ring_bytes = 8u << 20;
    // 0 = every record wakes a sleeping reader; otherwise about this many bytes of records wait
    // before one does (each ring's writer wakes it at its share, counted in records)
    std::uint64_t wakeup_bytes = 0;
    // make socket cookies for the records (an output shows them or keys sockets by them)
    bool cookies = false;
    BpfVariant variant = BpfVariant::Auto;
    bool attach = true;  // false: open and load only (load tests)
    // inet_diag filter bytecode run on every event before it is queued (empty: none). At most
    // SSTRACE_FILTER_MAX bytes; the caller keeps longer programs in userspace.
    std::vector<std::uint8_t> filter;
    // Tests only: bpf_loop steps of extra work in every first-copy run, to make nesting common.
    std::uint32_t test_spin = 0;
    // Tests only: the BTF file the CO-RE relocations are computed against, instead of the
    // running kernel's (a kernel's layout that this machine does not have); empty in use.
    std::string btf_path;
    // -p, -T: records carry their socket's owner. Loads the owner programs (a cgroup
    // sock_create program on the cgroup2 root and the syscall exit tracepoint); tp_btf only.
    bool owners = false;
    // --bpf-stats: turn on the kernel's BPF run-time statistics while the session lives
    // (BPF_ENABLE_STATS: every BPF program on the host is timed, and a little slower)
    bool run_time_stats = false;
    // SSTRACE_DETAIL_* bits: the details tail of every record (-o -m -i on event rows); 0 for
    // the plain stream. LIFETIME also attaches the state hook, which stamps socket births.
    std::uint32_t details = 0;
    // --metrics, --top: the state hook counts every transition in the metric maps (by
    // namespace, state and service port; lifetimes), after the namespace, family and filter
    // checks. Attaches the state and timer hooks (TIME-WAIT entries are inferred).
    bool metrics = false;
};

// The metric maps (BpfConfig::metrics), summed over CPUs.
struct BpfNetnsMetrics {
    std::uint32_t netns_ino = 0;
    std::array<std::uint64_t, kStateCount> entries{};  // state entries (index: kernel state)
    // lifetimes per bucket, not cumulative: bucket i up to lifetime_bounds_ns()[i], the last
    // one beyond them (tp_btf variant only: the births live in socket storage)
    std::vector<std::uint64_t> lifetime;
    std::uint64_t lifetime_sum_ns = 0;
    std::uint64_t other_time_wait = 0;  // ports that found the port map full
    std::uint64_t other_resets = 0;
    std::uint64_t other_opens = 0;
    std::uint64_t ports_full = 0;  // updates that went to `other`
};

struct BpfPortMetrics {
    std::uint32_t netns_ino = 0;
    std::uint16_t port = 0;  // the service port
    std::uint64_t time_wait = 0;
    std::uint64_t resets = 0;
    std::uint64_t opens = 0;
};

struct BpfMetrics {
    std::vector<BpfNetnsMetrics> netns;
    std::vector<BpfPortMetrics> ports;
    std::uint64_t netns_full = 0;  // updates of a namespace that found the netns map full
};

// The upper bounds of the lifetime histogram's buckets, nanoseconds, ascending.
std::span<const std::uint64_t> lifetime_bounds_ns();

// A listening TCP port (the listeners map: the service-port rule of the metrics).
struct ListenerKey {
    std::uint32_t netns_ino = 0;
    std::uint16_t port = 0;
    auto operator<=>(const ListenerKey&) const = default;
};

// The hooks, each with its programs (tp_btf: a first and a second copy; classic: one).
enum class Hook {
    State,    // tp_btf / tracepoint inet_sock_set_state
    Destroy,  // tp_btf / tracepoint tcp_destroy_sock
    Timer,    // tp_btf / tracepoint timer_start
    TimerCancel,  // tp_btf timer_cancel: the end of a TIME-WAIT (or a re-arm)
    TimerExpire,  // tp_btf timer_expire_entry: a TIME-WAIT's timer runs
    Release,  // cgroup sock_release on the cgroup2 root (UDP and raw destroys)
    OwnerCreate,  // cgroup sock_create on the cgroup2 root (owners: the creating process)
    OwnerExit,    // tp_btf sys_exit (owners: the fd socket(), accept(), accept4() returned)
};
const char* hook_name(Hook h);

// Loss, by cause. Every count is an event sstrace may not have printed.
struct BpfLoss {
    std::uint64_t ring_full = 0;  // records that found the ring buffer full
    // Program runs the kernel skipped (the program was already running on that CPU) that no
    // second copy handled, and tracepoint hits the kernel gave to no program of the hook
    // without counting them as skipped (a perf counter of the tracepoint's hits shows them). The kernel does not say which event a skipped run was for, so one
    // that would not have matched counts too: an upper bound.
    std::uint64_t skipped = 0;
    std::uint64_t map_full = 0;  // TIME-WAIT lookups cut short (SSTRACE_CNT_TW_MAP_FULL)
    std::uint64_t total() const { return ring_full + skipped + map_full; }
};

struct BpfCounters {
    // events the programs matched: committed, or lost on the way (the summary's "seen")
    std::uint64_t seen() const { return emitted + loss.total(); }
    std::uint64_t emitted = 0;   // records committed by the kernel side
    std::uint64_t filtered = 0;  // events the in-kernel filter rejected
    std::uint64_t tw_fin_wait2 = 0;  // TIME-WAIT rows of orphans whose peer had not sent its FIN
    std::uint64_t syn_unsent = 0;    // SYN-SENT rows of connect()s that failed before the SYN
    // FIN-WAIT-2/CLOSING -> CLOSE without error whose connection had no timewait socket hashed
    std::uint64_t tw_no_timer = 0;
    BpfLoss loss;
};

struct BpfProgramInfo {
    std::string name;
    Hook hook = Hook::State;
    bool second_copy = false;  // takes the events the kernel skipped the first copy for
    bool loaded = false;
    std::uint32_t verified_insns = 0;
    std::uint64_t recursion_misses = 0;  // runs the kernel skipped (bpf_prog_info)
    std::uint64_t run_cnt = 0;           // runs and run time: counted only while the kernel's
    std::uint64_t run_time_ns = 0;       // BPF statistics are on (BpfConfig::run_time_stats)
    std::uint64_t nested_runs = 0;       // second copy: runs it took over from the first
    // first copy: hits of its tracepoint that ran neither copy and were not counted as skipped
    // (perf counts the hits); nullopt when they cannot be counted
    std::optional<std::uint64_t> hits_not_run;
};

// The records' rings (bpf/maps.bpf.h) and their merge (RingMerge).
struct RingStats {
    std::uint32_t cpus = 0;         // rings per level: one per CPU
    std::uint64_t slots = 0;        // of each level-0 ring
    std::uint64_t nested_slots = 0;  // of each level-1 ring (writes that interrupt a write)
    std::size_t slot_bytes = 0;
    std::uint64_t late = 0;  // records handed over after a younger one
};

// The holder of a socket that existed before the stream started (from /proc).
struct OwnerSeed {
    int pid = 0;
    int tid = 0;
    int fd = -1;
    std::string comm;   // the process's (its main thread's)
    std::string tcomm;  // the thread's
};

// Addresses of kernel functions sstrace recognises timers by (0 when unknown).
struct KernelSymbols {
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
    // Whether the programs follow timewait sockets to their end (cfg.tw_end, where it loads).
    bool tw_ends() const;
    // Every program of the object, loaded or not, with the kernel's counts for loaded ones.
    std::vector<BpfProgramInfo> programs() const;

    // Starts ring-buffer consumption; the handler runs inside consume() and consume_all(), on
    // the records of every CPU's ring in time order (RingMerge).
    void set_handler(RecordHandler handler);
    // Readable when a ring was woken, or when a record a ring keeps for the merge is due.
    int epoll_fd() const;
    // Hands over the records of every ring that no earlier record can still precede; returns
    // how many, or -errno.
    int consume();
    // Every record in the rings (the end of a stream).
    int consume_all();
    BpfCounters counters() const;
    RingStats ring_stats() const;
    // The kernel's BPF run-time statistics are on (BpfConfig::run_time_stats, and they could be).
    bool run_time_stats() const;

    // Owners: records `sockfd`'s owner in the socket's storage (a socket that existed before
    // the stream started, duplicated from its holder). Returns 0 or -errno.
    int seed_owner(int sockfd, std::uint64_t cookie, const OwnerSeed& owner);

    // The metric maps summed over CPUs (empty unless BpfConfig::metrics). Reads every entry:
    // call about once a second, from one thread at a time.
    BpfMetrics metrics() const;
    // Makes the listeners map hold exactly `ports` (sorted, unique): the rest are deleted.
    // Returns the number of ports that did not fit. No-op unless BpfConfig::metrics.
    std::size_t set_listeners(const std::vector<ListenerKey>& ports);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Owners of the sockets that exist now: every socket descriptor of every process in `proc_dir`
// (the threads' with `threads`), duplicated with pidfd_getfd() and recorded in the owner map
// when it is an inet socket. Call once the programs are attached (sockets created from then on
// are the programs'). A socket held by several processes gets the one ss -p lists first.
struct OwnerSeedStats {
    std::size_t seeded = 0;  // inet sockets whose owner was recorded
    std::size_t failed = 0;  // descriptors that could not be duplicated (gone, or not allowed)
};
OwnerSeedStats seed_owners_from_proc(BpfSession& session, const std::string& proc_dir,
                                     bool threads);

}  // namespace sstrace
