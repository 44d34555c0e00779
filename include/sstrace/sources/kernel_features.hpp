// SPDX-License-Identifier: GPL-2.0-only
// What the running kernel offers sstrace, feature by feature, each with the first Linux release
// that has it and what needs it. Probed once at start from the kernel's BTF (a tracepoint's
// btf_trace_* type, an enum value, a struct member, a function), which every kernel sstrace can
// run on exposes: one rule for every feature, and no program load to find out. A feature that a
// run needs and the kernel lacks is one error line naming it (exit status 4, before anything is
// loaded); `sstrace --check-kernel` prints the whole table.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace sstrace {

enum class KernelFeature {
    Btf,              // /sys/kernel/btf/vmlinux: CO-RE relocations (every stream)
    RingBuffer,       // BPF_MAP_TYPE_RINGBUF (every stream)
    StateTracepoint,  // sock:inet_sock_set_state (-E state ...)
    DestroyTracepoint,// tcp:tcp_destroy_sock (-E, TCP)
    TimerTracepoints, // timer:timer_start (SYN-SENT entries)
    TimewaitLookup,   // net->ipv4.tcp_death_row.hashinfo (TIME-WAIT and CLOSE entries)
    TimewaitTimer,    // tw_timer_handler in BTF (the end of TIME-WAIT, tp_btf variant)
    SynTimer,         // tcp_write_timer in BTF (SYN-SENT rows' local port, tp_btf variant)
    TracingPrograms,  // BPF_PROG_TYPE_TRACING raw tracepoints (the tp_btf variant)
    TimerEndTracepoints, // timer:timer_cancel, timer:timer_expire_entry (TIME-WAIT ends)
    SocketStorage,    // socket storage from tracing programs (-p -T --cgroup, -i lifetime)
    CgroupRelease,    // cgroup inet sock_release hook (UDP and raw destroys)
    RunCounters,      // bpf_prog_info.recursion_misses (runs the kernel skipped, counted)
    IterTcp,          // iter/tcp (iterator listings; sock_diag otherwise)
    IterTaskFile,     // iter/task_file (iterator owners; /proc otherwise)
};

enum class KernelNeed {
    Every,     // every stream
    Options,   // the streams of some options (named in needed_by)
    Fallback,  // sstrace works without it: a fallback, or a count not kept
};

struct KernelFeatureInfo {
    KernelFeature id;
    const char* name;       // what a user calls it
    const char* since;      // first Linux release with it
    const char* needed_by;  // what sstrace needs it for
    KernelNeed need;
};

class KernelFeatures {
public:
    // Reads the running kernel's BTF once (libbpf's search: /sys/kernel/btf/vmlinux first).
    static KernelFeatures probe();

    static const std::vector<KernelFeatureInfo>& table();
    static const KernelFeatureInfo& info(KernelFeature f);

    bool has(KernelFeature f) const;
    // Throws Error (exit status 4) naming the feature, its first release and this kernel's.
    void require(KernelFeature f) const;

    // The table for --check-kernel; returns 0 when every feature that every stream needs is
    // present, 4 (kExitNoKernelSupport) when one is missing.
    int print(std::FILE* out) const;

private:
    std::vector<bool> present_;
    std::string release_;  // uname -r
};

}  // namespace sstrace
