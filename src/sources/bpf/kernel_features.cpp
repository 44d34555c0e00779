// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/kernel_features.hpp"

#include "sstrace/core/error.hpp"

#include <bpf/btf.h>
#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace sstrace {

namespace {

const std::vector<KernelFeatureInfo> kTable = {
    {KernelFeature::Btf, "kernel BTF (/sys/kernel/btf/vmlinux)", "5.4",
     "every stream (CO-RE: a kernel built with CONFIG_DEBUG_INFO_BTF)", KernelNeed::Every},
    {KernelFeature::RingBuffer, "BPF ring buffer", "5.8",
     "every stream", KernelNeed::Every},
    {KernelFeature::StateTracepoint, "tracepoint sock:inet_sock_set_state", "4.16",
     "-E state ...", KernelNeed::Options},
    {KernelFeature::DestroyTracepoint, "tracepoint tcp:tcp_destroy_sock", "4.15",
     "-E (TCP destroys)", KernelNeed::Options},
    {KernelFeature::TimerTracepoints, "tracepoint timer:timer_start", "2.6.30",
     "SYN-SENT entries", KernelNeed::Options},
    {KernelFeature::TimewaitLookup, "established hash from tcp_death_row.hashinfo",
     "5.4", "TIME-WAIT and CLOSE entries", KernelNeed::Options},
    {KernelFeature::TimewaitTimer, "tw_timer_handler in BTF", "5.4",
     "the end of TIME-WAIT (--transitions, --watch)", KernelNeed::Fallback},
    {KernelFeature::SynTimer, "tcp_write_timer in BTF", "5.4",
     "SYN-SENT rows' local port (tp_btf variant)", KernelNeed::Fallback},
    {KernelFeature::TracingPrograms, "BTF-typed tracepoints (tp_btf)", "5.5",
     "the tp_btf variant (classic tracepoints otherwise)", KernelNeed::Fallback},
    {KernelFeature::TimerEndTracepoints, "tracepoints timer:timer_cancel, timer_expire_entry", "2.6.30",
     "the end of TIME-WAIT (--transitions, --watch)", KernelNeed::Fallback},
    {KernelFeature::SocketStorage, "socket storage in tracing programs", "5.11",
     "-p -T --cgroup and -i's lifetime on event rows", KernelNeed::Options},
    {KernelFeature::CgroupRelease, "cgroup inet sock_release hook", "5.9",
     "UDP and raw destroys (-E -u, -E -w)", KernelNeed::Options},
    {KernelFeature::RunCounters, "skipped-run counter (recursion_misses)", "5.12",
     "counting the runs the kernel skipped as lost", KernelNeed::Fallback},
    {KernelFeature::IterTcp, "BPF iterator iter/tcp", "5.9",
     "iterator listings (sock_diag otherwise)", KernelNeed::Fallback},
    {KernelFeature::IterTaskFile, "BPF iterator iter/task_file", "5.8",
     "iterator owners for -p (/proc otherwise)", KernelNeed::Fallback},
};

bool has_type(const btf* b, const char* name, __u32 kind)
{
    return btf__find_by_name_kind(b, name, kind) > 0;
}

// An enumerator of a kernel enum (BPF_MAP_TYPE_RINGBUF of enum bpf_map_type, ...).
bool has_enum_value(const btf* b, const char* enum_name, std::string_view value)
{
    const int id = btf__find_by_name_kind(b, enum_name, BTF_KIND_ENUM);
    if (id <= 0) {
        return false;
    }
    const btf_type* t = btf__type_by_id(b, static_cast<unsigned>(id));
    const struct btf_enum* e = btf_enum(t);
    for (unsigned short i = 0; i < btf_vlen(t); ++i) {
        if (value == btf__name_by_offset(b, e[i].name_off)) {
            return true;
        }
    }
    return false;
}

bool has_member(const btf* b, const char* struct_name, std::string_view member)
{
    const int id = btf__find_by_name_kind(b, struct_name, BTF_KIND_STRUCT);
    if (id <= 0) {
        return false;
    }
    const btf_type* t = btf__type_by_id(b, static_cast<unsigned>(id));
    const btf_member* m = btf_members(t);
    for (unsigned short i = 0; i < btf_vlen(t); ++i) {
        if (member == btf__name_by_offset(b, m[i].name_off)) {
            return true;
        }
    }
    return false;
}

bool tracepoint(const btf* b, const char* name)
{
    return has_type(b, fmt::format("btf_trace_{}", name).c_str(), BTF_KIND_TYPEDEF);
}

bool probe_one(const btf* b, KernelFeature f)
{
    switch (f) {
    case KernelFeature::Btf:
        return true;
    case KernelFeature::RingBuffer:
        return has_enum_value(b, "bpf_map_type", "BPF_MAP_TYPE_RINGBUF");
    case KernelFeature::StateTracepoint:
        return tracepoint(b, "inet_sock_set_state");
    case KernelFeature::DestroyTracepoint:
        return tracepoint(b, "tcp_destroy_sock");
    case KernelFeature::TimerTracepoints:
        return tracepoint(b, "timer_start");
    case KernelFeature::TimewaitLookup:
        // the path state.bpf.c reads to the namespace's table (the death row embedded, or, in
        // some kernels around 6.0, through a pointer: both layouts are read)
        return has_member(b, "netns_ipv4", "tcp_death_row") &&
               has_member(b, "inet_timewait_death_row", "hashinfo");
    case KernelFeature::TimewaitTimer:
        return has_type(b, "tw_timer_handler", BTF_KIND_FUNC);
    case KernelFeature::SynTimer:
        return has_type(b, "tcp_write_timer", BTF_KIND_FUNC);
    case KernelFeature::TracingPrograms:
        return has_enum_value(b, "bpf_prog_type", "BPF_PROG_TYPE_TRACING") &&
               has_enum_value(b, "bpf_attach_type", "BPF_TRACE_RAW_TP");
    case KernelFeature::TimerEndTracepoints:
        return tracepoint(b, "timer_cancel") && tracepoint(b, "timer_expire_entry");
    case KernelFeature::SocketStorage:
        // the verifier's gate for bpf_sk_storage_get() in tracing programs (5.11)
        return has_type(b, "bpf_sk_storage_tracing_allowed", BTF_KIND_FUNC);
    case KernelFeature::CgroupRelease:
        return has_enum_value(b, "bpf_attach_type", "BPF_CGROUP_INET_SOCK_RELEASE");
    case KernelFeature::RunCounters:
        return has_member(b, "bpf_prog_info", "recursion_misses");
    case KernelFeature::IterTcp:
        return has_type(b, "bpf_iter__tcp", BTF_KIND_STRUCT);
    case KernelFeature::IterTaskFile:
        return has_type(b, "bpf_iter__task_file", BTF_KIND_STRUCT);
    }
    return false;
}

}  // namespace

const std::vector<KernelFeatureInfo>& KernelFeatures::table() { return kTable; }

const KernelFeatureInfo& KernelFeatures::info(KernelFeature f)
{
    const auto it = std::find_if(kTable.begin(), kTable.end(),
                                 [f](const KernelFeatureInfo& i) { return i.id == f; });
    return *it;  // every feature has its row
}

KernelFeatures KernelFeatures::probe()
{
    KernelFeatures k;
    utsname u{};
    if (::uname(&u) == 0) {
        k.release_ = u.release;
    }
    k.present_.assign(kTable.size(), false);
    btf* vmlinux = btf__load_vmlinux_btf();
    if (vmlinux == nullptr) {
        return k;  // without BTF nothing can be told (and no stream can run)
    }
    for (const KernelFeatureInfo& f : kTable) {
        k.present_[static_cast<std::size_t>(f.id)] = probe_one(vmlinux, f.id);
    }
    btf__free(vmlinux);
    return k;
}

bool KernelFeatures::has(KernelFeature f) const { return present_.at(static_cast<std::size_t>(f)); }

void KernelFeatures::require(KernelFeature f) const
{
    if (has(f)) {
        return;
    }
    const KernelFeatureInfo& i = info(f);
    if (f != KernelFeature::Btf && !has(KernelFeature::Btf)) {
        require(KernelFeature::Btf);  // the first thing missing
    }
    throw Error("kernel " + release_, fmt::format("{} is missing", i.name), kExitNoKernelSupport,
                fmt::format("Linux {} or later has it; sstrace needs it for {}", i.since,
                            i.needed_by));
}

int KernelFeatures::print(std::FILE* out) const
{
    fmt::print(out, "kernel {}\n", release_);
    std::size_t width = 0;
    for (const KernelFeatureInfo& f : kTable) {
        width = std::max(width, std::strlen(f.name));
    }
    const bool btf = has(KernelFeature::Btf);
    int rc = 0;
    for (const KernelFeatureInfo& f : kTable) {
        const bool unknown = !btf && f.id != KernelFeature::Btf;
        const char* state = has(f.id) ? "yes" : (unknown ? "unknown" : "no");
        if (!has(f.id) && f.need == KernelNeed::Every) {
            rc = kExitNoKernelSupport;
        }
        fmt::print(out, "{:<{}}  {:<7}  since {:<6}  {}{}\n", f.name, width, state, f.since,
                   f.needed_by, f.need == KernelNeed::Fallback ? " (optional)" : "");
    }
    return rc;
}

}  // namespace sstrace
