// SPDX-License-Identifier: GPL-2.0-only
#include "sstrace/bpf_session.hpp"

#include "sstrace/core/error.hpp"
#include "sstrace/abi/events.h"
#include "sstrace/sstrace_bpf.skel.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

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

KernelSymbols read_kernel_symbols(const char* path)
{
    KernelSymbols syms;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        // "ffffffff82003430 t tw_timer_handler" (module symbols carry a [mod] suffix)
        const auto sp1 = line.find(' ');
        if (sp1 == std::string::npos || sp1 + 3 > line.size()) {
            continue;
        }
        const std::string_view name = std::string_view(line).substr(sp1 + 3);
        std::uint64_t* slot = nullptr;
        if (name == "tw_timer_handler") {
            slot = &syms.tw_timer_handler;
        } else if (name == "tcp_write_timer") {
            slot = &syms.tcp_write_timer;
        }
        if (slot != nullptr) {
            *slot = std::stoull(line.substr(0, sp1), nullptr, 16);
        }
        if (syms.tw_timer_handler != 0 && syms.tcp_write_timer != 0) {
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

struct RingDeleter {
    void operator()(ring_buffer* r) const { ring_buffer__free(r); }
};
using RingPtr = std::unique_ptr<ring_buffer, RingDeleter>;

// The classic tracepoints need tracefs for their ids. Mount it only when neither the tracefs
// nor the debugfs path exists, and unmount it again once attached (the perf events keep the
// tracepoints alive), so the system is left as it was found.
class TracefsMount {
public:
    TracefsMount()
    {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (fs::exists("/sys/kernel/tracing/events", ec) ||
            fs::exists("/sys/kernel/debug/tracing/events", ec)) {
            return;
        }
        if (::mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
            spdlog::info("cannot mount tracefs on /sys/kernel/tracing: {}", std::strerror(errno));
            return;
        }
        mounted_ = true;
        spdlog::debug("mounted tracefs on /sys/kernel/tracing for the classic tracepoints");
    }
    ~TracefsMount()
    {
        if (mounted_ && ::umount("/sys/kernel/tracing") != 0) {
            spdlog::debug("umount /sys/kernel/tracing: {}", std::strerror(errno));
        }
    }
    TracefsMount(const TracefsMount&) = delete;
    TracefsMount& operator=(const TracefsMount&) = delete;

private:
    bool mounted_ = false;
};

bool kernel_has_btf()
{
    btf* vmlinux = btf__load_vmlinux_btf();
    if (vmlinux == nullptr) {
        return false;
    }
    btf__free(vmlinux);
    return true;
}

// Opens, configures and loads one variant. Returns the libbpf error (negative errno) on failure.
int load_variant(const BpfConfig& cfg, const KernelSymbols& syms, BpfVariant variant,
                 SkelPtr& out)
{
    SkelPtr skel(sstrace_bpf::open());
    if (!skel) {
        return -errno;
    }
    auto* ro = skel->rodata;
    if (ro->cfg_abi_version != SSTRACE_ABI_VERSION) {
        return -EPROTO;
    }
    ro->cfg_state_mask = cfg.state_mask;
    ro->cfg_destroy = cfg.destroy ? 1 : 0;
    ro->cfg_netns_ino = cfg.netns_ino;
    ro->cfg_family = cfg.family;
    ro->cfg_wakeup_bytes = cfg.wakeup_bytes;
    const bool need_close_split =
        (cfg.state_mask & (state_bit(kStateTimeWait) | state_bit(kStateClose))) != 0;
    const bool need_syn = (cfg.state_mask & state_bit(kStateSynSent)) != 0;
    ro->cfg_tw_timer_fn = need_close_split ? syms.tw_timer_handler : 0;
    ro->cfg_write_timer_fn = need_syn ? syms.tcp_write_timer : 0;

    if (cfg.filter.size() > sizeof(ro->cfg_filter) || cfg.filter.size() % 4 != 0) {
        return -E2BIG;
    }
    std::memcpy(ro->cfg_filter, cfg.filter.data(), cfg.filter.size());
    ro->cfg_filter_len = static_cast<__u32>(cfg.filter.size());

    int err = bpf_map__set_max_entries(skel->maps.events, static_cast<__u32>(cfg.ring_bytes));
    if (err != 0) {
        return err;
    }

    const bool btf = variant == BpfVariant::Btf;
    const bool want_state = cfg.state_mask != 0;
    const bool want_timer = ro->cfg_tw_timer_fn != 0 || ro->cfg_write_timer_fn != 0;
    const struct {
        bpf_program* prog;
        bool on;
    } progs[] = {
        {skel->progs.sst_state_btf, btf && want_state},
        {skel->progs.sst_destroy_btf, btf && cfg.destroy},
        {skel->progs.sst_timer_btf, btf && want_timer},
        {skel->progs.sst_state_tp, !btf && want_state},
        {skel->progs.sst_destroy_tp, !btf && cfg.destroy},
        {skel->progs.sst_timer_tp, !btf && want_timer},
    };
    for (const auto& p : progs) {
        bpf_program__set_autoload(p.prog, p.on);
    }
    err = sstrace_bpf::load(skel.get());
    if (err != 0) {
        return err;
    }
    out = std::move(skel);
    return 0;
}

[[noreturn]] void throw_load_error(int err)
{
    const int e = err < 0 ? -err : err;
    if (e == EPERM || e == EACCES) {
        throw Error::from_errno("loading BPF programs", e, kExitNoPrivilege,
                                "run as root, or grant CAP_BPF and CAP_PERFMON");
    }
    if (e == EPROTO) {
        throw Error("loading BPF programs", "the embedded BPF object has another ABI version",
                    kExitBpfLoad);
    }
    throw Error::from_errno("loading BPF programs", e, kExitBpfLoad,
                            "run with -v to see the verifier's reason");
}

}  // namespace

struct BpfSession::Impl {
    SkelPtr skel;
    BpfVariant variant = BpfVariant::Auto;
    std::vector<LinkPtr> links;
    RingPtr ring;
    RecordHandler handler;
    int ncpus = 1;
};

BpfSession::BpfSession(const BpfConfig& cfg) : impl_(std::make_unique<Impl>())
{
    if (!kernel_has_btf()) {
        throw Error("loading BPF programs",
                    "the kernel exposes no BTF (/sys/kernel/btf/vmlinux)", kExitNoKernelSupport,
                    "sstrace's CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF");
    }
    KernelSymbols syms = read_kernel_symbols();
    if ((cfg.state_mask & (state_bit(kStateTimeWait) | state_bit(kStateClose))) != 0 &&
        syms.tw_timer_handler == 0) {
        // kallsyms shows zero addresses to unprivileged readers
        if (::geteuid() != 0) {
            throw Error("loading BPF programs", "Operation not permitted", kExitNoPrivilege,
                        "run as root, or grant CAP_BPF, CAP_PERFMON and CAP_SYSLOG");
        }
        throw Error("reading /proc/kallsyms", "tw_timer_handler is not visible",
                    kExitNoKernelSupport,
                    "TIME-WAIT entries are recognised by that timer; check kernel.kptr_restrict");
    }
    if ((cfg.state_mask & state_bit(kStateSynSent)) != 0 && syms.tcp_write_timer == 0) {
        spdlog::warn("tcp_write_timer is not in /proc/kallsyms: SYN-SENT rows of sockets "
                     "without a bound port will show local port *");
    }

    std::unique_ptr<TracefsMount> tracefs;
    int err = -EINVAL;
    if (cfg.variant == BpfVariant::Auto || cfg.variant == BpfVariant::Btf) {
        err = load_variant(cfg, syms, BpfVariant::Btf, impl_->skel);
        if (err == 0) {
            impl_->variant = BpfVariant::Btf;
        } else if (cfg.variant == BpfVariant::Auto && err != -EPERM) {
            spdlog::info("tp_btf programs did not load ({}); trying classic tracepoints",
                         std::strerror(-err));
        }
    }
    if (!impl_->skel && cfg.variant != BpfVariant::Btf && err != -EPERM) {
        tracefs = std::make_unique<TracefsMount>();
        err = load_variant(cfg, syms, BpfVariant::Tracepoint, impl_->skel);
        if (err == 0) {
            impl_->variant = BpfVariant::Tracepoint;
        }
    }
    if (!impl_->skel) {
        throw_load_error(err);
    }
    spdlog::info("BPF programs loaded ({} variant)", variant_name(impl_->variant));

    impl_->ncpus = libbpf_num_possible_cpus();
    if (impl_->ncpus <= 0) {
        impl_->ncpus = 1;
    }
    if (!cfg.attach) {
        return;
    }
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, impl_->skel->obj)
    {
        if (!bpf_program__autoload(prog)) {
            continue;
        }
        bpf_link* link = bpf_program__attach(prog);
        if (link == nullptr) {
            const int e = errno;
            throw Error::from_errno(std::string("attaching ") + bpf_program__name(prog), e,
                                    e == EPERM ? kExitNoPrivilege : kExitNoKernelSupport);
        }
        impl_->links.emplace_back(link);
    }
}

BpfSession::~BpfSession() = default;

BpfVariant BpfSession::variant() const { return impl_->variant; }

std::vector<BpfProgramInfo> BpfSession::programs() const
{
    std::vector<BpfProgramInfo> out;
    bpf_program* prog = nullptr;
    bpf_object__for_each_program(prog, impl_->skel->obj)
    {
        BpfProgramInfo pi;
        pi.name = bpf_program__name(prog);
        const int fd = bpf_program__fd(prog);
        if (fd >= 0) {
            bpf_prog_info info{};
            __u32 len = sizeof(info);
            if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
                pi.loaded = true;
                pi.verified_insns = info.verified_insns;
            }
        }
        out.push_back(std::move(pi));
    }
    return out;
}

void BpfSession::set_handler(RecordHandler handler)
{
    impl_->handler = std::move(handler);
    auto cb = [](void* ctx, void* data, size_t size) -> int {
        static_cast<Impl*>(ctx)->handler(data, size);
        return 0;
    };
    ring_buffer* rb = ring_buffer__new(bpf_map__fd(impl_->skel->maps.events), cb, impl_.get(),
                                       nullptr);
    if (rb == nullptr) {
        throw Error::from_errno("creating the ring buffer consumer", errno);
    }
    impl_->ring.reset(rb);
}

int BpfSession::epoll_fd() const { return ring_buffer__epoll_fd(impl_->ring.get()); }

int BpfSession::consume() { return ring_buffer__consume(impl_->ring.get()); }

BpfCounters BpfSession::counters() const
{
    BpfCounters c;
    const int fd = bpf_map__fd(impl_->skel->maps.counters);
    std::vector<__u64> vals(static_cast<std::size_t>(impl_->ncpus));
    auto sum = [&](__u32 idx) -> std::uint64_t {
        if (bpf_map_lookup_elem(fd, &idx, vals.data()) != 0) {
            return 0;
        }
        std::uint64_t s = 0;
        for (auto v : vals) {
            s += v;
        }
        return s;
    };
    c.emitted = sum(SSTRACE_CNT_EMITTED);
    c.lost = sum(SSTRACE_CNT_LOST);
    c.tw_overflow = sum(SSTRACE_CNT_TW_OVERFLOW);
    c.filtered = sum(SSTRACE_CNT_FILTERED);
    return c;
}

}  // namespace sstrace
