// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/sources/bpf_session.hpp"

#include "sstrace/core/clock.hpp"
#include "sstrace/core/error.hpp"
#include "sstrace/core/unique.hpp"
#include "sstrace/sources/kernel_features.hpp"
#include "sstrace/sources/ring_merge.hpp"
#include "sstrace/sources/slot_ring.hpp"
#include "tracepoint_hits.hpp"
#include "sstrace/abi/events.h"
#include "sstrace/sstrace_bpf.skel.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <algorithm>
#include <array>
#include <optional>
#include <ctime>
#include <iterator>

namespace sstrace {

const char* variant_name(BpfVariant v)
{
    switch (v) {
    case BpfVariant::Auto:
        return "auto";
    case BpfVariant::Btf:
        return "tp_btf";
    case BpfVariant::Tracepoint:
        return "tracepoint";
    }
    return "?";
}

const char* hook_name(Hook h)
{
    switch (h) {
    case Hook::State:
        return "inet_sock_set_state";
    case Hook::Destroy:
        return "tcp_destroy_sock";
    case Hook::Timer:
        return "timer_start";
    case Hook::TimerCancel:
        return "timer_cancel";
    case Hook::TimerExpire:
        return "timer_expire_entry";
    case Hook::Release:
        return "cgroup sock_release";
    case Hook::OwnerCreate:
        return "cgroup sock_create";
    case Hook::OwnerExit:
        return "sys_exit";
    }
    return "?";
}

KernelSymbols read_kernel_symbols(const char* path)
{
    KernelSymbols syms;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        // "ffffffff82003430 t tcp_write_timer" (module symbols carry a [mod] suffix)
        const auto sp1 = line.find(' ');
        if (sp1 == std::string::npos || sp1 + 3 > line.size()) {
            continue;
        }
        const std::string_view name = std::string_view(line).substr(sp1 + 3);
        if (name == "tcp_write_timer") {
            syms.tcp_write_timer = std::stoull(line.substr(0, sp1), nullptr, 16);
            break;
        }
    }
    return syms;
}

namespace {

struct SkelDeleter {
    void operator()(sstrace_bpf* s) const { sstrace_bpf::destroy(s); }
};
using SkelPtr = std::unique_ptr<sstrace_bpf, SkelDeleter>;

struct LinkDeleter {
    void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
using LinkPtr = std::unique_ptr<bpf_link, LinkDeleter>;

// The classic tracepoints need tracefs for their ids. Mount it only when neither the tracefs
// nor the debugfs path exists, and unmount it again once attached (the perf events keep the
// tracepoints alive), so the system is left as it was found.
bool has_capability(int cap)
{
    __user_cap_header_struct hdr{};
    __user_cap_data_struct data[2]{};
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    if (syscall(SYS_capget, &hdr, data) != 0) {
        return false;
    }
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

// Whether TIME-WAIT and CLOSE entries must be told apart (the established-hash lookup).
bool needs_tw_split(const BpfConfig& cfg)
{
    return (cfg.state_mask & (state_bit(kStateTimeWait) | state_bit(kStateClose))) != 0 ||
           cfg.metrics;
}

bool needs_syn_timer(const BpfConfig& cfg)
{
    return (cfg.state_mask & state_bit(kStateSynSent)) != 0;
}

// The features a configuration cannot run without; the rest have fallbacks (the classic
// variant, sock_diag, /proc) or only lose a count.
void require_features(const BpfConfig& cfg, const KernelFeatures& kf)
{
    kf.require(KernelFeature::Btf);
    kf.require(KernelFeature::RingBuffer);
    if (cfg.state_mask != 0 || cfg.leave_mask != 0 ||
        (cfg.details & SSTRACE_DETAIL_LIFETIME) != 0) {
        kf.require(KernelFeature::StateTracepoint);
    }
    if (needs_syn_timer(cfg)) {
        kf.require(KernelFeature::TimerTracepoints);
    }
    if (needs_tw_split(cfg)) {
        kf.require(KernelFeature::TimewaitLookup);
    }
    if ((cfg.destroy & SSTRACE_DESTROY_TCP) != 0) {
        kf.require(KernelFeature::DestroyTracepoint);
    }
    if ((cfg.destroy & (SSTRACE_DESTROY_UDP | SSTRACE_DESTROY_RAW)) != 0) {
        kf.require(KernelFeature::CgroupRelease);
    }
    if (cfg.owners) {
        kf.require(KernelFeature::TracingPrograms);
        kf.require(KernelFeature::SocketStorage);
    }
    if (!kf.has(KernelFeature::RunCounters)) {
        spdlog::warn("this kernel does not count the BPF program runs it skips (Linux 5.12+ "
                     "does): such a loss would go unreported");
    }
}

// The classic variant's timer callback, from /proc/kallsyms: visible only with CAP_SYSLOG (and
// kernel.kptr_restrict below 2). Without it, SYN-SENT rows are emitted at the state change.
KernelSymbols classic_symbols(const BpfConfig& cfg)
{
    KernelSymbols syms;
    if (!needs_syn_timer(cfg)) {
        return syms;
    }
    syms = read_kernel_symbols();
    if (syms.tcp_write_timer == 0) {
        spdlog::warn("tcp_write_timer is not in /proc/kallsyms: SYN-SENT rows of sockets "
                     "without a bound port will show local port *");
    }
    return syms;
}

// Every program of the object: its hook, variant (Auto: loaded with either), and whether it is
// a hook's second copy (attached to the same tracepoint, it takes the events the kernel skipped
// the first for).
struct ProgramSlot {
    bpf_program* prog;
    Hook hook;
    BpfVariant variant;
    bool second_copy;
};

std::array<ProgramSlot, 13> program_slots(const sstrace_bpf& s)
{
    const auto btf = BpfVariant::Btf;
    const auto tp = BpfVariant::Tracepoint;
    return {{
        {s.progs.sst_release, Hook::Release, BpfVariant::Auto, false},
        {s.progs.sst_state, Hook::State, btf, false},
        {s.progs.sst_state_2nd, Hook::State, btf, true},
        {s.progs.sst_state_tp, Hook::State, tp, false},
        {s.progs.sst_destroy, Hook::Destroy, btf, false},
        {s.progs.sst_destroy_2nd, Hook::Destroy, btf, true},
        {s.progs.sst_destroy_tp, Hook::Destroy, tp, false},
        {s.progs.sst_timer, Hook::Timer, btf, false},
        {s.progs.sst_timer_tp, Hook::Timer, tp, false},
        {s.progs.sst_owner_create, Hook::OwnerCreate, btf, false},
        {s.progs.sst_owner_exit, Hook::OwnerExit, btf, false},
        {s.progs.sst_tw_cancel, Hook::TimerCancel, btf, false},
        {s.progs.sst_tw_expire, Hook::TimerExpire, btf, false},
    }};
}

// The counter of a hook's second copy (hooks without one have no takeovers).
std::optional<std::uint32_t> nested_counter(Hook h)
{
    switch (h) {
    case Hook::State:
        return SSTRACE_CNT_NESTED_STATE;
    case Hook::Destroy:
        return SSTRACE_CNT_NESTED_DESTROY;
    case Hook::Timer:
    case Hook::TimerCancel:
    case Hook::TimerExpire:
    case Hook::Release:
    case Hook::OwnerCreate:
    case Hook::OwnerExit:
        return std::nullopt;
    }
    return std::nullopt;
}

// The records' rings (bpf/maps.bpf.h): for each CPU online at the start, a ring per nesting level
// of its writes, in slots of the stream's largest record. Level 0 rings share cfg.ring_bytes,
// each rounded down to a power of two of slots and at least kMinSlots, so that a burst on one CPU
// still has room on many-CPU hosts; level 1 (writes that interrupt a write) rings an eighth of
// that, at least kMinNestedSlots.
constexpr unsigned kMinSlotsShift = 12;
constexpr unsigned kMinNestedSlotsShift = 9;

struct RingLayout {
    std::uint32_t cpus = 1;  // rings per level
    std::array<unsigned, SSTRACE_RING_LEVELS> shift{kMinSlotsShift, kMinNestedSlotsShift};
    std::array<std::uint64_t, SSTRACE_RING_LEVELS> wake{1, 1};  // cfg_ring_wake
    std::size_t slot_bytes = sizeof(sstrace_event);

    std::uint64_t slots(unsigned level) const { return std::uint64_t{cpus} << shift[level]; }
    std::uint32_t rings() const { return cpus * SSTRACE_RING_LEVELS; }
};

// One past the highest CPU number online now, or the count of configured CPUs when the list
// cannot be read.
std::uint32_t online_cpu_span()
{
    const std::vector<int> cpus = online_cpus();
    if (!cpus.empty()) {
        return static_cast<std::uint32_t>(*std::max_element(cpus.begin(), cpus.end())) + 1;
    }
    const long conf = sysconf(_SC_NPROCESSORS_CONF);
    return conf > 0 ? static_cast<std::uint32_t>(conf) : 1;
}

RingLayout ring_layout(const BpfConfig& cfg)
{
    RingLayout r;
    r.cpus = online_cpu_span();
    r.slot_bytes = sizeof(sstrace_event) + (cfg.owners ? sizeof(sstrace_owner) : 0) +
                   (cfg.details != 0 ? sizeof(sstrace_details) : 0);
    const std::uint64_t share = cfg.ring_bytes / r.cpus / r.slot_bytes;
    unsigned shift = kMinSlotsShift;
    while ((std::uint64_t{2} << shift) <= share) {
        ++shift;
    }
    r.shift = {shift, std::max(shift - 3, kMinNestedSlotsShift)};
    // batched wakeups: cfg.wakeup_bytes waiting over all CPUs, at most half a ring
    const std::uint64_t share_wake = cfg.wakeup_bytes / r.cpus / r.slot_bytes;
    for (unsigned level = 0; level < SSTRACE_RING_LEVELS; ++level) {
        const std::uint64_t half = std::uint64_t{1} << (r.shift[level] - 1);
        r.wake[level] = cfg.wakeup_bytes == 0 ? 1 : std::clamp<std::uint64_t>(share_wake, 1, half);
    }
    return r;
}

// The doorbell's size: room for one wakeup from every ring, twice over. A writer rings only when
// it finds its ring's request set, and clears it, so one sleep of the reader takes at most one
// 16-byte record (8 of header) per ring: 4 KiB is 256 rings, 128 CPUs. A power of two of pages.
std::uint32_t doorbell_bytes(std::size_t rings)
{
    std::uint32_t bytes = 4096;
    while (bytes < rings * 16 * 2) {
        bytes *= 2;
    }
    return bytes;
}

// Opens, configures and loads one variant, its rings made for `rings`. Returns the libbpf error
// (negative errno) on failure.
int load_variant(const BpfConfig& cfg, const KernelFeatures& kf, BpfVariant variant,
                 const RingLayout& rings, SkelPtr& out)
{
    bpf_object_open_opts opts{};
    opts.sz = sizeof(opts);
    opts.btf_custom_path = cfg.btf_path.empty() ? nullptr : cfg.btf_path.c_str();
    SkelPtr skel(sstrace_bpf::open(&opts));
    if (!skel) {
        return -errno;
    }
    auto* ro = skel->rodata;
    ro->cfg_state_mask = cfg.state_mask;
    ro->cfg_leave_mask = cfg.leave_mask;
    ro->cfg_destroy = cfg.destroy;
    ro->cfg_netns_ino = cfg.netns_ino;
    ro->cfg_family = cfg.family;
    ro->cfg_fields = cfg.fields;
    ro->cfg_cookies = cfg.cookies ? 1 : 0;
    ro->cfg_test_spin = cfg.test_spin;
    if (cfg.owners && variant == BpfVariant::Btf) {
        ro->cfg_owners = 1;
        ro->cfg_nr_socket = SYS_socket;
        ro->cfg_nr_accept = SYS_accept;
        ro->cfg_nr_accept4 = SYS_accept4;
    }
    ro->cfg_details = cfg.details;
    ro->cfg_metrics = cfg.metrics ? 1 : 0;
    ro->cfg_tw_split = needs_tw_split(cfg) ? 1 : 0;
    if (variant == BpfVariant::Btf) {
        ro->cfg_syn_timer = needs_syn_timer(cfg) && kf.has(KernelFeature::SynTimer) ? 1 : 0;
        ro->cfg_tw_end = cfg.tw_end && kf.has(KernelFeature::TimewaitTimer) ? 1 : 0;
    } else {
        const KernelSymbols syms = classic_symbols(cfg);
        ro->cfg_syn_timer = needs_syn_timer(cfg) && syms.tcp_write_timer != 0 ? 1 : 0;
        ro->cfg_write_timer_fn = syms.tcp_write_timer;
    }

    if (cfg.filter.size() > sizeof(ro->cfg_filter) || cfg.filter.size() % 4 != 0) {
        return -E2BIG;
    }
    std::memcpy(ro->cfg_filter, cfg.filter.data(), cfg.filter.size());
    ro->cfg_filter_len = static_cast<__u32>(cfg.filter.size());

    ro->cfg_ring_cpus = rings.cpus;
    for (unsigned level = 0; level < SSTRACE_RING_LEVELS; ++level) {
        ro->cfg_ring_shift[level] = rings.shift[level];
        ro->cfg_ring_wake[level] = rings.wake[level];
    }
    // after every ring's slots, a scratch slot per CPU and level (bpf/maps.bpf.h)
    ro->cfg_ring_scratch = static_cast<__u32>(rings.slots(0) + rings.slots(1));
    ro->cfg_ring_slot_bytes = static_cast<__u32>(rings.slot_bytes);
    int err = bpf_map__set_max_entries(skel->maps.ring_ctl, rings.rings());
    if (err == 0) {
        err = bpf_map__set_max_entries(skel->maps.ring_slots,
                                       ro->cfg_ring_scratch + rings.rings());
    }
    if (err == 0) {
        err = bpf_map__set_value_size(skel->maps.ring_slots,
                                      static_cast<__u32>(rings.slot_bytes));
    }
    if (err == 0) {
        err = bpf_map__set_max_entries(skel->maps.doorbell, doorbell_bytes(rings.rings()));
    }
    if (err != 0) {
        return err;
    }

    // TIME-WAIT entries need no timer: the timer_start hook (every kernel timer passes it) is
    // attached only for SYN-SENT rows and TIME-WAIT ends
    const bool want_timer = ro->cfg_syn_timer != 0 || ro->cfg_tw_end != 0;
    for (const ProgramSlot& p : program_slots(*skel)) {
        bool hook_on = false;
        switch (p.hook) {
        case Hook::State:
            hook_on = cfg.state_mask != 0 || cfg.leave_mask != 0 || cfg.metrics ||
                      ((cfg.details & SSTRACE_DETAIL_LIFETIME) != 0 && variant == BpfVariant::Btf);
            break;
        case Hook::Destroy:
            hook_on = (cfg.destroy & SSTRACE_DESTROY_TCP) != 0;
            break;
        case Hook::Timer:
            hook_on = want_timer;
            break;
        case Hook::TimerCancel:
        case Hook::TimerExpire:
            hook_on = ro->cfg_tw_end != 0;
            break;
        case Hook::Release:
            hook_on = (cfg.destroy & (SSTRACE_DESTROY_UDP | SSTRACE_DESTROY_RAW)) != 0;
            break;
        case Hook::OwnerCreate:
        case Hook::OwnerExit:
            hook_on = ro->cfg_owners != 0;
            break;
        }
        bpf_program__set_autoload(
            p.prog, hook_on && (p.variant == variant || p.variant == BpfVariant::Auto));
    }
    err = sstrace_bpf::load(skel.get());
    if (err != 0) {
        return err;
    }
    out = std::move(skel);
    return 0;
}

// Where the cgroup v2 hierarchy's root is mounted in the mount table `mountinfo`, or "".
std::string cgroup2_mountpoint(const char* mountinfo)
{
    std::ifstream in(mountinfo);
    std::string line;
    while (std::getline(in, line)) {
        // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS"
        const auto dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) {
            continue;
        }
        std::istringstream fields(line.substr(0, dash));
        std::string id, parent, dev, root, mountpoint;
        fields >> id >> parent >> dev >> root >> mountpoint;
        if (root == "/") {
            return mountpoint;  // not a bind mount of a subtree
        }
    }
    return {};
}

// The cgroup v2 hierarchy mounted for a moment on a private directory: the descriptor stays
// valid once the mount is detached. For a process that sees no cgroup2 mount (`ip netns exec`
// mounts a fresh /sys). Needs CAP_SYS_ADMIN.
Unique<FdTraits> mount_cgroup2_root()
{
    char dir[] = "/tmp/sstrace-cgroup2-XXXXXX";
    if (::mkdtemp(dir) == nullptr) {
        throw Error::from_errno("creating a directory for the cgroup2 root", errno);
    }
    Unique<FdTraits> fd;
    int err = 0;
    if (::mount("none", dir, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
        fd.reset(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        err = errno;
        ::umount2(dir, MNT_DETACH);
    } else {
        err = errno;
    }
    ::rmdir(dir);
    if (!fd) {
        throw Error::from_errno("mounting the cgroup2 hierarchy (none is visible here)", err,
                                err == EPERM ? kExitNoPrivilege : kExitNoKernelSupport,
                                "UDP and raw destroys need the cgroup2 root: mount cgroup2, or "
                                "run with CAP_SYS_ADMIN");
    }
    return fd;
}

// The root of the cgroup v2 hierarchy, where a program sees every socket of the machine (inside
// a container: of the container).
Unique<FdTraits> open_cgroup2_root()
{
    const std::string path = cgroup2_mountpoint("/proc/self/mountinfo");
    if (path.empty()) {
        return mount_cgroup2_root();
    }
    Unique<FdTraits> fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
        throw Error::from_errno("opening the cgroup2 root " + path, errno,
                                errno == EACCES || errno == EPERM ? kExitNoPrivilege
                                                                  : kExitFailure);
    }
    return fd;
}

// `cgroup_programs`: the configuration loads cgroup programs (UDP and raw destroys, owners),
// which the kernel loads only with CAP_NET_ADMIN.
[[noreturn]] void throw_load_error(int err, bool cgroup_programs)
{
    const int e = err < 0 ? -err : err;
    if (e == EPERM || e == EACCES) {
        std::string missing;
        for (const auto& [cap, name] : {std::pair{CAP_BPF, "CAP_BPF"}, {CAP_PERFMON, "CAP_PERFMON"},
                                        {CAP_NET_ADMIN, "CAP_NET_ADMIN"}}) {
            if (cap == CAP_NET_ADMIN && !cgroup_programs) {
                continue;
            }
            if (!has_capability(cap)) {
                missing += missing.empty() ? name : std::string(" and ") + name;
            }
        }
        throw Error::from_errno("loading BPF programs", e, kExitNoPrivilege,
                                missing.empty() ? std::string("run as root")
                                                : "missing " + missing +
                                                      ": run as root, or grant them");
    }
    throw Error::from_errno("loading BPF programs", e, kExitBpfLoad,
                            "run with -v to see the verifier's reason");
}

}  // namespace

// How long after its timestamp a record may still be committed to its ring (RingMerge): a
// program runs for microseconds; one interrupted for longer is handed over late.
constexpr std::uint64_t kMergeSlackNs = 1'000'000;
// A drain hands over at most this many records, then lets the loop flush the rows and come back.
constexpr std::size_t kDrainRecords = 65536;

// A BPF array made with BPF_F_MMAPABLE, mapped whole.
class MappedArray {
public:
    MappedArray(int fd, std::size_t bytes, int prot)
    {
        const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        len_ = (bytes + page - 1) / page * page;
        void* p = mmap(nullptr, len_, prot, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            throw Error::from_errno("mapping the record rings", errno);
        }
        data_ = static_cast<std::byte*>(p);
    }
    ~MappedArray() { munmap(data_, len_); }
    MappedArray(const MappedArray&) = delete;
    MappedArray& operator=(const MappedArray&) = delete;
    std::byte* data() const { return data_; }

private:
    std::byte* data_ = nullptr;
    std::size_t len_ = 0;
};

struct RingBufferFree {
    void operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
};

struct BpfSession::Impl {
    std::uint64_t sum_counter(std::uint32_t idx) const;
    // Every entry of a per-CPU hash map: the key and the per-CPU values, summed field by field
    // (each value is an array of `fields` u64).
    template <typename Key>
    void sum_percpu_hash(const bpf_map* map, std::size_t fields,
                         const std::function<void(const Key&, const std::vector<std::uint64_t>&)>&
                             each) const;

    // A hooked tracepoint's hits (perf) against its programs' invocations: the runs of its first
    // (or only) program and the runs the kernel skipped. From the moment the counter started.
    struct HookHits {
        Hook hook;
        const bpf_program* first;
        std::uint32_t runs_counter;
        TracepointHits hits;
        std::uint64_t invocations0 = 0;
    };
    // `misses`: the first program's recursion_misses, read by the caller (one bpf_prog_info
    // read per program and call); `hit`: h.hits.read(), read by the caller before `misses`.
    std::uint64_t invocations(const HookHits& h, std::uint64_t misses) const;
    // The hits of the hook whose first program `prog` is; null for any other program.
    const HookHits* hook_hits_of(const bpf_program* prog) const
    {
        for (const HookHits& h : hook_hits) {
            if (h.first == prog) {
                return &h;
            }
        }
        return nullptr;
    }
    std::uint64_t not_run(const HookHits& h, std::uint64_t hit, std::uint64_t misses) const;
    // The runs a hook's tp_btf first copy counted in its nesting slots (every CPU and level).
    std::uint64_t nest_runs(Hook hook) const;
    void count_hits();
    std::vector<HookHits> hook_hits;

    SkelPtr skel;
    BpfVariant variant = BpfVariant::Auto;
    Unique<FdTraits> cgroup_root;  // before the links: closed after them
    std::vector<LinkPtr> links;
    Unique<FdTraits> stats_fd;  // BPF_ENABLE_STATS: the statistics are on while it is open
    // The rings (bpf/maps.bpf.h), read in place and merged in time order (RingMerge). `wake` is
    // the descriptor the event loop watches: the doorbell's (edge-triggered), and `due`, a timer
    // for when the oldest record the rings keep for the merge is, or at once when a drain was
    // cut short or records came in that no doorbell may announce.
    void map_rings();
    RingLayout layout;
    int drain(std::uint64_t drained_at_ns, std::size_t max);
    std::unique_ptr<MappedArray> ring_ctl;
    std::unique_ptr<MappedArray> ring_slots;
    std::vector<std::unique_ptr<SlotRing>> slot_rings;  // [level * cpus + cpu]
    std::vector<RingCursor*> cursors;
    std::unique_ptr<ring_buffer, RingBufferFree> doorbell;
    RingMerge merge{kMergeSlackNs};
    UniqueFd wake;
    UniqueFd due;
    bool due_timer = false;    // cfg.wakeup_bytes == 0
    std::uint64_t due_at = 0;  // when `due` fires (CLOCK_MONOTONIC), 0: disarmed
    RecordHandler handler;
    int ncpus = 1;
    bool metrics = false;
    std::vector<ListenerKey> listeners;  // what the listeners map holds
};

BpfSession::BpfSession(const BpfConfig& cfg) : impl_(std::make_unique<Impl>())
{
    // Each feature this configuration needs, named with its first release if it is missing.
    const KernelFeatures kf = KernelFeatures::probe();
    require_features(cfg, kf);
    const bool btf_usable = kf.has(KernelFeature::TracingPrograms);
    if (needs_syn_timer(cfg) && !kf.has(KernelFeature::SynTimer) && cfg.variant == BpfVariant::Btf) {
        spdlog::warn("the kernel's BTF has no tcp_write_timer: SYN-SENT rows of sockets without "
                     "a bound port will show local port *");
    }

    // Owners live in socket storage, which only tp_btf (and cgroup) programs may read.
    if (cfg.owners && (cfg.variant == BpfVariant::Tracepoint || !btf_usable)) {
        throw Error("loading BPF programs", "socket owners (-p, -T) need the tp_btf programs",
                    kExitNoKernelSupport,
                    cfg.variant == BpfVariant::Tracepoint
                        ? "the classic tracepoint variant cannot read socket storage"
                        : "the kernel's BTF lacks what they need");
    }
    std::unique_ptr<TracefsMount> tracefs;
    impl_->layout = ring_layout(cfg);
    int err = -EINVAL;
    if ((cfg.variant == BpfVariant::Auto && btf_usable) || cfg.variant == BpfVariant::Btf) {
        err = load_variant(cfg, kf, BpfVariant::Btf, impl_->layout, impl_->skel);
        if (err != 0 && err != -EPERM && err != -E2BIG && cfg.tw_end) {
            // the ends of TIME-WAIT are an addition: without them, the rest still runs
            spdlog::info("the TIME-WAIT end programs did not load ({}); trying without them",
                         std::strerror(-err));
            BpfConfig without = cfg;
            without.tw_end = false;
            err = load_variant(without, kf, BpfVariant::Btf, impl_->layout, impl_->skel);
        }
        if (err == 0) {
            impl_->variant = BpfVariant::Btf;
        } else if (cfg.variant == BpfVariant::Auto && err != -EPERM && !cfg.owners) {
            spdlog::info("tp_btf programs did not load ({}); trying classic tracepoints",
                         std::strerror(-err));
        }
    }
    if (!impl_->skel && cfg.variant != BpfVariant::Btf && err != -EPERM && !cfg.owners) {
        tracefs = std::make_unique<TracefsMount>();
        err = load_variant(cfg, kf, BpfVariant::Tracepoint, impl_->layout, impl_->skel);
        if (err == 0) {
            impl_->variant = BpfVariant::Tracepoint;
        }
    }
    if (!impl_->skel) {
        throw_load_error(err, cfg.owners ||
                                  (cfg.destroy & (SSTRACE_DESTROY_UDP | SSTRACE_DESTROY_RAW)) != 0);
    }
    spdlog::info("BPF programs loaded ({} variant)", variant_name(impl_->variant));
    // Timers and tcp_info count in jiffies: without the tick rate they cannot be converted.
    if ((cfg.details & (SSTRACE_DETAIL_TIMER | SSTRACE_DETAIL_TCPINFO)) != 0 &&
        (impl_->skel->kconfig == nullptr || impl_->skel->kconfig->CONFIG_HZ == 0)) {
        throw Error("loading BPF programs", "the kernel's CONFIG_HZ is unknown",
                    kExitNoKernelSupport,
                    "-o, -e and -i on event rows need /proc/config.gz or /boot/config-$(uname -r)");
    }
    if (cfg.tw_end && impl_->skel->rodata->cfg_tw_end == 0) {
        spdlog::info("the ends of TIME-WAIT are not followed ({}): a timewait socket is "
                     "forgotten when its timer is due", impl_->variant == BpfVariant::Btf
                                                            ? "they did not load"
                                                            : "classic tracepoint variant");
    }

    impl_->map_rings();
    impl_->due_timer = cfg.wakeup_bytes == 0;
    impl_->metrics = cfg.metrics;
    impl_->ncpus = libbpf_num_possible_cpus();
    if (impl_->ncpus <= 0) {
        impl_->ncpus = 1;
    }
    if (!cfg.attach) {
        return;
    }
    for (const ProgramSlot& p : program_slots(*impl_->skel)) {
        if (!bpf_program__autoload(p.prog)) {
            continue;
        }
        bpf_link* link = nullptr;
        if (p.hook == Hook::Release || p.hook == Hook::OwnerCreate) {
            // a link on the cgroup2 root: several programs may share the hook (as
            // BPF_F_ALLOW_MULTI), and it goes when sstrace exits
            if (!impl_->cgroup_root) {
                impl_->cgroup_root = open_cgroup2_root();
            }
            link = bpf_program__attach_cgroup(p.prog, impl_->cgroup_root.get());
        } else {
            link = bpf_program__attach(p.prog);
        }
        if (link == nullptr) {
            const int e = errno;
            const bool denied = e == EPERM || e == EACCES;
            // a classic tracepoint is attached by its id, read from tracefs: root's only
            std::string hint;
            bool privilege = denied;
            if (denied && p.variant == BpfVariant::Tracepoint &&
                !has_capability(CAP_DAC_READ_SEARCH)) {
                hint = "missing CAP_DAC_READ_SEARCH: the classic tracepoints' ids are read from "
                       "tracefs, which only root may read";
            } else if (e == ENOENT && p.variant == BpfVariant::Tracepoint && !tracefs_mounted()) {
                // sstrace mounts it when it may (TracefsMount)
                privilege = !has_capability(CAP_SYS_ADMIN);
                hint = privilege ? "missing CAP_SYS_ADMIN: tracefs, where the classic "
                                   "tracepoints' ids are read, is not mounted, and mounting it "
                                   "needs CAP_SYS_ADMIN"
                                 : "tracefs, where the classic tracepoints' ids are read, is not "
                                   "mounted and could not be mounted";
            }
            throw Error::from_errno(std::string("attaching ") + bpf_program__name(p.prog), e,
                                    privilege ? kExitNoPrivilege : kExitNoKernelSupport, hint);
        }
        impl_->links.emplace_back(link);
    }
    impl_->count_hits();
    if (cfg.run_time_stats) {
        const int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
        if (fd < 0) {
            spdlog::warn("cannot turn on the kernel's BPF run-time statistics: {}",
                         std::strerror(-fd));
        } else {
            impl_->stats_fd.reset(fd);
            spdlog::info("the kernel's BPF run-time statistics are on (every BPF program on the "
                         "host is timed) until sstrace exits");
        }
    }
}

bool BpfSession::run_time_stats() const { return static_cast<bool>(impl_->stats_fd); }

namespace {

std::uint64_t recursion_misses(const bpf_program* prog)
{
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    const int fd = bpf_program__fd(prog);
    if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
        return 0;
    }
    return info.recursion_misses;
}

}  // namespace

// The classic program counts its runs in the counters map, the tp_btf first copy in its nesting
// slots; only one of them is loaded.
std::uint64_t BpfSession::Impl::invocations(const HookHits& h, std::uint64_t misses) const
{
    return sum_counter(h.runs_counter) + nest_runs(h.hook) + misses;
}

std::uint64_t BpfSession::Impl::nest_runs(Hook hook) const
{
    if (hook != Hook::State && hook != Hook::Destroy) {
        return 0;
    }
    const auto base = static_cast<std::size_t>(
        (hook == Hook::State ? SSTRACE_HOOK_STATE : SSTRACE_HOOK_DESTROY) * SSTRACE_NEST_LEVELS);
    constexpr std::size_t kSlots = SSTRACE_HOOK_MAX * SSTRACE_NEST_LEVELS;
    // a per-CPU value: one whole nest_state (all slots) per CPU
    std::vector<sstrace_nest_slot> vals(static_cast<std::size_t>(ncpus) * kSlots);
    const std::uint32_t zero = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.nest), &zero, vals.data()) != 0) {
        return 0;
    }
    std::uint64_t s = 0;
    for (std::size_t cpu = 0; cpu < static_cast<std::size_t>(ncpus); ++cpu) {
        for (std::size_t level = 0; level < SSTRACE_NEST_LEVELS; ++level) {
            s += vals[cpu * kSlots + base + level].runs;
        }
    }
    return s;
}

std::uint64_t BpfSession::Impl::not_run(const HookHits& h, std::uint64_t hit,
                                        std::uint64_t misses) const
{
    // The hits are read first, before the misses and the runs. A tracepoint calls its probes
    // in the order they were registered, and perf's probe is registered when the first perf event on the tracepoint
    // is enabled, here after the programs were attached (a classic program runs inside perf's
    // probe, before its perf events): so a counted hit's run is normally counted already when
    // the runs are read after. Read the other way round, a hit of any socket on the host
    // between the two reads looked like one no program ran (false loss on a busy host). Where
    // another perf user enabled the tracepoint first, a hit counted but not yet run (a window
    // of about a microsecond) can still look unrun. Had the misses been read before the hits,
    // a skipped run between the two reads would look like a hit no program ran, and two
    // readings (the summary's and -v's) could then disagree by one. A run whose hit is not
    // counted yet only makes `ran` larger.
    const std::uint64_t ran = invocations(h, misses) - h.invocations0;
    return hit > ran ? hit - ran : 0;
}

// The kernel may give a tracepoint's hit to none of the programs attached to it without
// counting a skipped run (this VM's kernel does, when one of PID 1's threads is the current
// task: under RPS load about 2 hits in 1000, each a row lost without a trace; doc/events.md
// section 5). A perf counter of the tracepoint's hits is the kernel's own count: the
// difference from the programs' invocations is that loss. Started after the programs are
// attached; the invocations before that are the base.
void BpfSession::Impl::count_hits()
{
    struct Target {
        Hook hook;
        const char* system;
        const char* event;
        std::uint32_t runs;
    };
    static constexpr Target kTargets[] = {
        {Hook::State, "sock", "inet_sock_set_state", SSTRACE_CNT_RUNS_STATE},
        {Hook::Destroy, "tcp", "tcp_destroy_sock", SSTRACE_CNT_RUNS_DESTROY},
    };
    std::optional<TracefsMount> tracefs;
    for (const Target& t : kTargets) {
        const bpf_program* first = nullptr;
        for (const ProgramSlot& p : program_slots(*skel)) {
            if (p.hook == t.hook && !p.second_copy && bpf_program__autoload(p.prog) &&
                bpf_program__fd(p.prog) >= 0) {
                first = p.prog;
            }
        }
        if (first == nullptr) {
            continue;
        }
        if (!tracefs) {
            tracefs.emplace();  // for the tracepoints' ids only: unmounted again at return
        }
        auto hits = TracepointHits::open(t.system, t.event);
        if (!hits) {
            return;  // said once: the other tracepoint would fail alike
        }
        HookHits h{t.hook, first, t.runs, std::move(*hits)};
        h.invocations0 = invocations(h, recursion_misses(first));
        h.hits.enable();
        hook_hits.push_back(std::move(h));
    }
}

BpfSession::~BpfSession() = default;

BpfVariant BpfSession::variant() const { return impl_->variant; }

bool BpfSession::tw_ends() const { return impl_->skel->rodata->cfg_tw_end != 0; }

std::vector<BpfProgramInfo> BpfSession::programs() const
{
    std::vector<BpfProgramInfo> out;
    for (const ProgramSlot& p : program_slots(*impl_->skel)) {
        BpfProgramInfo pi;
        pi.name = bpf_program__name(p.prog);
        pi.hook = p.hook;
        pi.second_copy = p.second_copy;
        const int fd = bpf_program__fd(p.prog);
        // the hits before the misses (see not_run)
        const Impl::HookHits* hh = impl_->hook_hits_of(p.prog);
        const std::uint64_t hit = hh != nullptr ? hh->hits.read() : 0;
        if (fd >= 0) {
            bpf_prog_info info{};
            __u32 len = sizeof(info);
            if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
                pi.loaded = true;
                pi.verified_insns = info.verified_insns;
                pi.recursion_misses = info.recursion_misses;
                pi.run_cnt = info.run_cnt;
                pi.run_time_ns = info.run_time_ns;
            }
        }
        if (const auto idx = nested_counter(p.hook); pi.loaded && p.second_copy && idx) {
            pi.nested_runs = impl_->sum_counter(*idx);
        }
        if (hh != nullptr && pi.loaded) {
            pi.hits_not_run = impl_->not_run(*hh, hit, pi.recursion_misses);
        }
        out.push_back(std::move(pi));
    }
    return out;
}

// The rings' positions and slots, mapped; one cursor per ring.
void BpfSession::Impl::map_rings()
{
    const std::uint32_t n = layout.rings();
    ring_ctl = std::make_unique<MappedArray>(bpf_map__fd(skel->maps.ring_ctl),
                                             std::size_t{n} * sizeof(sstrace_ring_ctl),
                                             PROT_READ | PROT_WRITE);
    ring_slots = std::make_unique<MappedArray>(
        bpf_map__fd(skel->maps.ring_slots), (layout.slots(0) + layout.slots(1)) * layout.slot_bytes,
        PROT_READ);
    auto* ctl = reinterpret_cast<sstrace_ring_ctl*>(ring_ctl->data());
    std::uint64_t first = 0;  // the ring's first slot
    for (unsigned level = 0; level < SSTRACE_RING_LEVELS; ++level) {
        for (std::uint32_t cpu = 0; cpu < layout.cpus; ++cpu) {
            slot_rings.push_back(std::make_unique<SlotRing>(
                &ctl[level * layout.cpus + cpu], ring_slots->data() + first * layout.slot_bytes,
                layout.slot_bytes, layout.shift[level], layout.wake[level]));
            cursors.push_back(slot_rings.back().get());
            first += std::uint64_t{1} << layout.shift[level];
        }
    }
    spdlog::debug("{} rings of {} and {} of {} slots of {} bytes", layout.cpus,
                  std::uint64_t{1} << layout.shift[0], layout.cpus,
                  std::uint64_t{1} << layout.shift[1], layout.slot_bytes);
}

void BpfSession::set_handler(RecordHandler handler)
{
    impl_->handler = std::move(handler);
    impl_->due.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    impl_->wake.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!impl_->due || !impl_->wake) {
        throw Error::from_errno("creating the ring consumer", errno);
    }
    const int bell = bpf_map__fd(impl_->skel->maps.doorbell);
    // the doorbell's records say only "look": dropped unread
    impl_->doorbell.reset(ring_buffer__new(
        bell, [](void*, void*, std::size_t) { return 0; }, nullptr, nullptr));
    if (!impl_->doorbell) {
        throw Error::from_errno("creating the ring consumer", errno);
    }
    auto watch = [this](int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        if (epoll_ctl(impl_->wake.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
            throw Error::from_errno("creating the ring consumer", errno);
        }
    };
    watch(bell, EPOLLIN | EPOLLET);
    watch(impl_->due.get(), EPOLLIN);
}

RingStats BpfSession::ring_stats() const
{
    const RingLayout& l = impl_->layout;
    return RingStats{l.cpus, std::uint64_t{1} << l.shift[0], std::uint64_t{1} << l.shift[1],
                     l.slot_bytes, impl_->merge.late()};
}

int BpfSession::epoll_fd() const { return impl_->wake.get(); }

int BpfSession::consume()
{
    // the rings' edges first: a wakeup from now on makes the loop come back
    std::array<epoll_event, 8> evs{};
    while (epoll_wait(impl_->wake.get(), evs.data(), static_cast<int>(evs.size()), 0) ==
           static_cast<int>(evs.size())) {
    }
    // the doorbell emptied, and no ring asks for it while the reader is awake
    ring_buffer__consume(impl_->doorbell.get());
    for (const auto& r : impl_->slot_rings) {
        r->awake();
    }
    const std::uint64_t drained_at = monotonic_ns();
    if (impl_->due_at != 0 && drained_at >= impl_->due_at) {
        std::uint64_t expirations = 0;  // clears the descriptor's readiness
        if (::read(impl_->due.get(), &expirations, sizeof(expirations)) < 0) {
            expirations = 0;  // EAGAIN: the timer's clock read was a hair behind ours
        }
        impl_->due_at = 0;  // expired: disarmed
    }
    return impl_->drain(drained_at, kDrainRecords);
}

int BpfSession::consume_all() { return impl_->drain(~std::uint64_t{0}, SIZE_MAX); }

// Hands over what is due, gives the slots back, asks every ring for the doorbell, and arms `due`
// for what the rings keep: at once when the drain was cut short, or when a ring received records
// before it could ask (its writer did not ring); for the oldest record left where every record
// wakes the reader (rows to a terminal). With batched wakeups, the next one or the loop's tick
// comes soon enough; a wakeup a millisecond after every drain would undo the batching.
int BpfSession::Impl::drain(std::uint64_t drained_at_ns, std::size_t max)
{
    const auto hand = [this](std::span<const std::byte> r) { handler(r.data(), r.size()); };
    const std::size_t n = merge.drain(cursors, drained_at_ns, max, hand);
    std::uint64_t at = 0;
    const auto next = merge.next_due();
    if (next && (*next == 0 || due_timer)) {
        at = std::max<std::uint64_t>(*next, 1);
    }
    bool unannounced = false;
    for (const auto& r : slot_rings) {
        r->release();
        // a drain cut short comes back at once: no doorbell needed
        if (!next || *next != 0) {
            unannounced = r->sleep() || unannounced;
        }
    }
    if (unannounced) {
        at = 1;
    }
    if (at != due_at) {
        itimerspec its{};  // 0: disarmed
        its.it_value.tv_sec = static_cast<time_t>(at / 1'000'000'000);
        its.it_value.tv_nsec = static_cast<long>(at % 1'000'000'000);
        timerfd_settime(due.get(), TFD_TIMER_ABSTIME, &its, nullptr);
        due_at = at;
    }
    return n > INT_MAX ? INT_MAX : static_cast<int>(n);
}

std::uint64_t BpfSession::Impl::sum_counter(std::uint32_t idx) const
{
    const int fd = bpf_map__fd(skel->maps.counters);
    std::vector<__u64> vals(static_cast<std::size_t>(ncpus));
    if (bpf_map_lookup_elem(fd, &idx, vals.data()) != 0) {
        return 0;
    }
    std::uint64_t s = 0;
    for (auto v : vals) {
        s += v;
    }
    return s;
}

BpfCounters BpfSession::counters() const
{
    BpfCounters c;
    for (const auto& r : impl_->slot_rings) {
        c.emitted += r->written();
    }
    c.filtered = impl_->sum_counter(SSTRACE_CNT_FILTERED);
    c.tw_fin_wait2 = impl_->sum_counter(SSTRACE_CNT_TW_FIN_WAIT2);
    c.syn_unsent = impl_->sum_counter(SSTRACE_CNT_SYN_UNSENT);
    c.tw_no_timer = impl_->sum_counter(SSTRACE_CNT_TW_NO_TIMER);
    c.loss.ring_full = impl_->sum_counter(SSTRACE_CNT_LOST);
    c.loss.map_full = impl_->sum_counter(SSTRACE_CNT_TW_MAP_FULL);
    // What the kernel skipped: every skipped run of a hook's first (or only) program, less the
    // ones its second copy took over.
    for (const ProgramSlot& p : program_slots(*impl_->skel)) {
        const int fd = bpf_program__fd(p.prog);
        if (p.second_copy || fd < 0) {
            continue;
        }
        // the hits before the misses (see not_run)
        const Impl::HookHits* hh = impl_->hook_hits_of(p.prog);
        const std::uint64_t hit = hh != nullptr ? hh->hits.read() : 0;
        bpf_prog_info info{};
        __u32 len = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
            continue;
        }
        std::uint64_t taken = 0;
        if (const auto idx = nested_counter(p.hook); p.variant == BpfVariant::Btf && idx) {
            taken = impl_->sum_counter(*idx);
        }
        c.loss.skipped += info.recursion_misses > taken ? info.recursion_misses - taken : 0;
        // the same reading of recursion_misses for the hits no program ran
        if (hh != nullptr) {
            c.loss.skipped += impl_->not_run(*hh, hit, info.recursion_misses);
        }
    }
    return c;
}

int BpfSession::seed_owner(int sockfd, std::uint64_t cookie, const OwnerSeed& owner)
{
    sstrace_sk_owner v{};
    v.cookie = cookie;
    v.owner.pid = static_cast<__u32>(owner.pid);
    v.owner.tid = static_cast<__u32>(owner.tid);
    v.owner.fd = owner.fd;
    v.owner.flags = SSTRACE_OWNER_KNOWN | SSTRACE_OWNER_SEEDED | (owner.fd >= 0 ? SSTRACE_OWNER_FD : 0);
    std::memcpy(v.owner.comm, owner.comm.data(), std::min(owner.comm.size(), sizeof(v.owner.comm) - 1));
    std::memcpy(v.owner.tcomm, owner.tcomm.data(),
                std::min(owner.tcomm.size(), sizeof(v.owner.tcomm) - 1));
    if (bpf_map_update_elem(bpf_map__fd(impl_->skel->maps.owners), &sockfd, &v, BPF_ANY) != 0) {
        return -errno;
    }
    return 0;
}

std::span<const std::uint64_t> lifetime_bounds_ns()
{
    static constexpr std::uint64_t kBounds[SSTRACE_LIFETIME_BOUNDS] = SSTRACE_LIFETIME_BOUNDS_NS;
    return kBounds;
}

template <typename Key>
void BpfSession::Impl::sum_percpu_hash(
    const bpf_map* map, std::size_t fields,
    const std::function<void(const Key&, const std::vector<std::uint64_t>&)>& each) const
{
    const int fd = bpf_map__fd(map);
    if (bpf_map__key_size(map) != sizeof(Key) ||
        bpf_map__value_size(map) != fields * sizeof(std::uint64_t)) {
        return;
    }
    std::vector<std::uint64_t> percpu(fields * static_cast<std::size_t>(ncpus));
    std::vector<std::uint64_t> sum(fields);
    Key key{};
    Key next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_map_lookup_elem(fd, &key, percpu.data()) != 0) {
            continue;  // deleted meanwhile (never, today: entries stay)
        }
        std::fill(sum.begin(), sum.end(), 0);
        for (std::size_t cpu = 0; cpu < static_cast<std::size_t>(ncpus); ++cpu) {
            for (std::size_t f = 0; f < fields; ++f) {
                sum[f] += percpu[cpu * fields + f];
            }
        }
        each(key, sum);
    }
}

BpfMetrics BpfSession::metrics() const
{
    BpfMetrics m;
    if (!impl_->metrics) {
        return m;
    }
    using NetnsCounters = sstrace_netns_counters;
    constexpr std::size_t kNetnsFields = sizeof(NetnsCounters) / sizeof(std::uint64_t);
    impl_->sum_percpu_hash<std::uint32_t>(
        impl_->skel->maps.netns_stats, kNetnsFields,
        [&](const std::uint32_t& ino, const std::vector<std::uint64_t>& v) {
            NetnsCounters c{};
            std::memcpy(&c, v.data(), sizeof(c));
            BpfNetnsMetrics n;
            n.netns_ino = ino;
            static_assert(kStateCount == SSTRACE_TCP_MAX_STATES);
            std::copy(std::begin(c.entries), std::end(c.entries), n.entries.begin());
            n.lifetime.assign(std::begin(c.lifetime), std::end(c.lifetime));
            n.lifetime_sum_ns = c.lifetime_sum_ns;
            n.other_time_wait = c.other_time_wait;
            n.other_resets = c.other_resets;
            n.other_opens = c.other_opens;
            n.ports_full = c.ports_full;
            m.netns.push_back(std::move(n));
        });
    constexpr std::size_t kPortFields = sizeof(sstrace_port_counters) / sizeof(std::uint64_t);
    impl_->sum_percpu_hash<sstrace_port_key>(
        impl_->skel->maps.port_stats, kPortFields,
        [&](const sstrace_port_key& k, const std::vector<std::uint64_t>& v) {
            m.ports.push_back({k.netns_ino, k.port, v[0], v[1], v[2]});
        });
    m.netns_full = impl_->sum_counter(SSTRACE_CNT_METRICS_FULL);
    return m;
}

std::size_t BpfSession::set_listeners(const std::vector<ListenerKey>& ports)
{
    if (!impl_->metrics) {
        return 0;
    }
    const int fd = bpf_map__fd(impl_->skel->maps.listeners);
    auto key_of = [](const ListenerKey& l) {
        sstrace_port_key k{};
        k.netns_ino = l.netns_ino;
        k.port = l.port;
        return k;
    };
    std::vector<ListenerKey> gone;
    std::set_difference(impl_->listeners.begin(), impl_->listeners.end(), ports.begin(),
                        ports.end(), std::back_inserter(gone));
    for (const ListenerKey& l : gone) {
        const sstrace_port_key k = key_of(l);
        bpf_map_delete_elem(fd, &k);
    }
    std::vector<ListenerKey> held;
    std::size_t full = 0;
    const std::uint8_t one = 1;
    for (const ListenerKey& l : ports) {
        const sstrace_port_key k = key_of(l);
        if (std::binary_search(impl_->listeners.begin(), impl_->listeners.end(), l) ||
            bpf_map_update_elem(fd, &k, &one, BPF_ANY) == 0) {
            held.push_back(l);
        } else {
            ++full;
        }
    }
    impl_->listeners = std::move(held);
    return full;
}

}  // namespace sstrace
