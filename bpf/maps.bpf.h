/* SPDX-License-Identifier: GPL-2.0-only */
/* Every map and configuration global of the sstrace BPF object, in one place. They are __weak so
 * that several .bpf.c files can include this header and `bpftool gen object` links them into one
 * shared definition. */
#ifndef SSTRACE_MAPS_BPF_H
#define SSTRACE_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sstrace/abi/events.h"

/* Configuration, set by userspace between open and load. */
const volatile __u32 cfg_abi_version __weak = SSTRACE_ABI_VERSION;
/* Bit (1 << state) set for every state whose entry is reported. */
const volatile __u32 cfg_state_mask __weak = 0;
/* Report socket destruction (sstrace -E without state words). */
const volatile __u8 cfg_destroy __weak = 0;
/* Only sockets of this network namespace (inode); 0 = every namespace. */
const volatile __u32 cfg_netns_ino __weak = 0;
/* Only this address family (AF_INET / AF_INET6); 0 = both. */
const volatile __u16 cfg_family __weak = 0;
/* Kernel addresses of the timer callbacks the timer_start hook recognises (from /proc/kallsyms);
 * 0 disables that use. */
const volatile __u64 cfg_tw_timer_fn __weak = 0;
const volatile __u64 cfg_write_timer_fn __weak = 0;
/* Ring-buffer notification: 0 = kernel's adaptive wakeup; otherwise records are committed
 * without a wakeup until this many bytes wait, and userspace drains on a timer. */
const volatile __u64 cfg_wakeup_bytes __weak = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by userspace before load */
} events SEC(".maps") __weak;

/* Per-CPU counters, indexed by SSTRACE_CNT_*. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SSTRACE_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") __weak;

/* The timewait socket whose timer was just armed on this CPU. tcp_time_wait() arms it in
 * inet_twsk_hashdance_schedule() and then, in the same call on the same CPU, tcp_done() moves
 * the full socket to CLOSE: the CLOSE event that follows with the same tuple is a TIME-WAIT
 * entry. No timer means no timewait socket (tcp_max_tw_buckets full, or no memory). */
struct tw_slot {
	__u64 tw;
	__u32 netns_ino;
	__u16 sport; /* network order, as tw_sport and inet_sport */
	__u16 dport; /* network order */
	__u16 family;
	__u8 valid;
	__u8 _pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_slot);
} tw_slots SEC(".maps") __weak;

/* Sockets that entered SYN-SENT before connect() had picked their local port (the state is set
 * before inet_hash_connect()). Their row is emitted when the SYN's retransmit timer is armed in
 * tcp_connect(), by which time the port is known. Keyed by socket address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64); /* bpf_ktime_get_ns() of the SYN-SENT transition */
} syn_pending SEC(".maps") __weak;

#endif /* SSTRACE_MAPS_BPF_H */
