/* SPDX-License-Identifier: GPL-2.0-only */
/* Every map and configuration global of the sstrace BPF object, in one place. They are __weak so
 * that several .bpf.c files can include this header and `bpftool gen object` links them into one
 * shared definition. */
#ifndef SSTRACE_MAPS_BPF_H
#define SSTRACE_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "sstrace/abi/events.h"
#include "addr.bpf.h"

/* Configuration, set by userspace between open and load. */
/* Bit (1 << state) set for every state whose entry is reported. */
const volatile __u32 cfg_state_mask __weak = 0;
/* SSTRACE_DESTROY_* bits: the destroyed sockets reported (sstrace -E without state words). */
const volatile __u8 cfg_destroy __weak = 0;
/* Only sockets of this network namespace (inode); 0 = every namespace. */
const volatile __u32 cfg_netns_ino __weak = 0;
/* Only this address family (AF_INET / AF_INET6); 0 = both. */
const volatile __u16 cfg_family __weak = 0;
/* SSTRACE_FIELD_* bits: the optional record fields some output or filter reads. */
const volatile __u32 cfg_fields __weak = 0;
/* Tell TIME-WAIT and CLOSE entries apart (a lookup in the established hash at FIN-WAIT-2/CLOSING
 * -> CLOSE, state.bpf.c): set when TIME-WAIT or CLOSE rows or the metrics need it. */
const volatile __u8 cfg_tw_split __weak = 0;
/* SYN-SENT rows with their port, from the timer hook. */
const volatile __u8 cfg_syn_timer __weak = 0;
/* Follow timewait sockets to their end (SSTRACE_REC_TW_END records; tp_btf programs only). */
const volatile __u8 cfg_tw_end __weak = 0;
/* Bit (1 << state) set for every state whose leaving is reported (--transitions): a transition
 * is reported when its new state is in cfg_state_mask or its old state in this mask. */
const volatile __u32 cfg_leave_mask __weak = 0;
/* The classic tracepoint variant's address of tcp_write_timer (from /proc/kallsyms); tp_btf
 * programs take it from the kernel's BTF instead (timer.bpf.c). */
const volatile __u64 cfg_write_timer_fn __weak = 0;
/* Generate socket cookies (sk: of ss -e): set when an output uses them (-e, owners, JSON,
 * captures, the live table). Otherwise a record carries the cookie only if the socket already
 * has one, and no transition pays for making it. */
const volatile __u8 cfg_cookies __weak = 0;
/* Tests only: extra work (bpf_loop steps) in every first-copy run, which widens the window in
 * which an event can nest into a running program. 0 in normal use (the code is then dead and the
 * verifier removes it). */
const volatile __u32 cfg_test_spin __weak = 0;

/* ---- Details on event rows (-o -m -i) ----
 * SSTRACE_DETAIL_* bits: what a record's details tail carries (0: no tail, the plain stream). */
const volatile __u32 cfg_details __weak = 0;
/* The kernel's tick rate, for the jiffies of timers and tcp_info (libbpf reads it from
 * /proc/config.gz or /boot/config-*); 0 when unknown, and userspace then refuses -o/-i. */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* When each socket was first seen leaving CLOSE or LISTEN (bpf_ktime_get_ns()): the lifetime
 * a destroy or CLOSE row reports. Not cloned: an accepted child gets its own stamp. */
struct born_val {
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct born_val);
} born SEC(".maps") __weak;

/* The records' rings (struct sstrace_ring_ctl in sstrace/abi/events.h; doc/events.md, section
 * 6): for each CPU online at start, a ring per nesting level of its write sections, in slots of
 * one memory-mapped array, merged by timestamp in userspace. A ring buffer costs each record its
 * reservation: a spinlock taken with interrupts disabled, which this machine kind's hypervisor
 * makes dear. A program that only writes a 112-byte record took 250-340 ns per run with a ring
 * buffer per CPU, 130-160 with a store into such slots (empty program: 50; scripts/bench-ring.sh).
 * Sizes are set by userspace before the load; the entries have no BTF type so that their size
 * can change. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* cfg_ring_cpus * SSTRACE_RING_LEVELS */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct sstrace_ring_ctl));
} ring_ctl SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* every ring's slots: cfg_ring_cpus << cfg_ring_shift[0], then
				   cfg_ring_cpus << cfg_ring_shift[1] */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct sstrace_event)); /* the stream's largest record */
} ring_slots SEC(".maps") __weak;

/* The reader's wakeup: a writer that finds its ring's `wake` set, with at least
 * cfg_ring_wake[level] records waiting, writes one 8-byte record here, which wakes the reader's
 * epoll. The reader drops them unread. Sized by sstrace for a wakeup from every ring
 * (doorbell_bytes()). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} doorbell SEC(".maps") __weak;

/* Rings per level: the CPUs 0 to cfg_ring_cpus - 1. */
const volatile __u32 cfg_ring_cpus __weak = 1;
/* log2 of the slots of each ring, by level. */
const volatile __u32 cfg_ring_shift[SSTRACE_RING_LEVELS] __weak = {};
/* Records waiting before a writer wakes a sleeping reader, by level (1: every record, to a
 * terminal; otherwise a share of the ring, and the reader drains on its tick as well). */
const volatile __u64 cfg_ring_wake[SSTRACE_RING_LEVELS] __weak = {};

/* The bytes of a slot (ring_slots' value size). */
const volatile __u32 cfg_ring_slot_bytes __weak = 0;

/* A slot claimed in this CPU's ring of the write's nesting level (ring_claim, ring_commit). */
struct ring_claim {
	struct sstrace_ring_ctl *own; /* this CPU's level-0 ring: the depth */
	struct sstrace_ring_ctl *ctl; /* the ring written */
	__u64 head;
	__u32 depth;
	__u32 idx; /* the slot: at or past cfg_ring_scratch, a scratch slot (the ring was full) */
	__u32 mask; /* the ring's slots less one */
};

/* Where the scratch slots start in ring_slots (after every ring's): one per CPU and level, for a
 * record whose ring is full. It is filled and filtered like any other, never published, and
 * counted lost if the filter accepts it. */
const volatile __u32 cfg_ring_scratch __weak = 0;

#define ring_barrier() asm volatile("" ::: "memory")

/* The next free slot of this CPU's ring for the nesting level of this write, or its scratch slot
 * when the ring is full (ring_commit() then counts the record lost); NULL when there is no ring
 * (a CPU online after the start, a write nested deeper than the last level: the caller counts
 * the record lost). A non-NULL claim must be committed or abandoned: it holds the CPU's depth
 * until then. Interrupts nest last-in first-out, so the plain load-and-store of the depth cannot
 * lose an update: a write that interrupts this one has put the depth back before this one
 * resumes. */
static __always_inline void *ring_claim(struct ring_claim *c)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct sstrace_ring_ctl *own, *ctl;
	__u32 d, idx, shift;
	__u64 head;
	void *slot;

	if (cpu >= cfg_ring_cpus)
		return NULL;
	own = bpf_map_lookup_elem(&ring_ctl, &cpu);
	if (!own)
		return NULL;
	d = own->depth;
	if (d >= SSTRACE_RING_LEVELS)
		return NULL;
	own->depth = d + 1;
	ring_barrier(); /* the depth is taken before the ring is touched */
	/* no branch on the level: the verifier walks what follows once, not once per level */
	idx = d * cfg_ring_cpus + cpu;
	ctl = bpf_map_lookup_elem(&ring_ctl, &idx);
	shift = cfg_ring_shift[d];
	if (!ctl)
		goto none;
	head = ctl->head;
	if (head - *(volatile __u64 *)&ctl->tail < (1ULL << shift))
		idx = d * (cfg_ring_cpus << cfg_ring_shift[0]) + (cpu << shift) +
		      (head & ((1U << shift) - 1));
	else
		idx += cfg_ring_scratch;
	slot = bpf_map_lookup_elem(&ring_slots, &idx);
	if (!slot)
		goto none;
	c->own = own;
	c->ctl = ctl;
	c->head = head;
	c->depth = d;
	c->idx = idx;
	c->mask = (1U << shift) - 1;
	return slot;
none:
	ring_barrier();
	own->depth = d;
	return NULL;
}

/* Gives a claimed slot back unpublished (the filter rejected its record). */
static __always_inline void ring_abandon(struct ring_claim *c)
{
	ring_barrier();
	c->own->depth = c->depth;
}

/* Loads a word of each cache line of the ring's next slot, so that the next record on this CPU
 * finds them in its cache. A ring is megabytes: a slot's lines have long left this CPU's caches
 * when the ring comes round to it again, and filling a record otherwise waits for them (the
 * stores of a record took a fifth of the state program's samples). A load, not a store: the slot
 * may still be the reader's (the ring full), and a load leaves it as it is. Each ring's slots
 * start at a multiple of its size (ring_claim()). */
static __always_inline void ring_prefetch(const struct ring_claim *c)
{
	__u32 next = (c->idx & ~c->mask) | ((c->idx + 1) & c->mask);
	__u32 off;
	void *slot;

	slot = bpf_map_lookup_elem(&ring_slots, &next);
	if (!slot)
		return;
	/* one word of every line a slot of up to 512 bytes can touch, at any alignment */
#pragma unroll
	for (off = 0; off < 512; off += 56) {
		if (off + 8 > cfg_ring_slot_bytes)
			break;
		(void)*(volatile __u64 *)(slot + off);
	}
	if (cfg_ring_slot_bytes >= 8)
		(void)*(volatile __u64 *)(slot + cfg_ring_slot_bytes - 8);
}

/* Publishes the claimed slot, wakes the reader if it sleeps with enough records waiting, and
 * gives the depth back; false, without publishing, for a scratch slot. On x86 a plain store
 * publishes: stores are not reordered with older stores, so the record is in place before its
 * head, and nothing waits for the record's lines to arrive. A locked add would wait: it drains
 * the store buffer, and the lines are the reader's since it last read them (measured under
 * `state all`: 290-320 ns per run, against 220-225 with the store). Elsewhere the fully ordered
 * fetch-and-add. Without a fence the load of `wake` below may pass the store of the head: a
 * reader that asked for the doorbell just then, and looked at the heads before this one landed,
 * sleeps until its next tick (100 ms) or the next record, a window of nanoseconds. */
static __always_inline bool ring_commit(struct ring_claim *c)
{
	struct sstrace_ring_ctl *ctl = c->ctl;
	__u64 head = c->head + 1;

	if (c->idx >= cfg_ring_scratch) {
		ring_abandon(c);
		return false;
	}

#ifdef __TARGET_ARCH_x86
	ring_barrier();
	*(volatile __u64 *)&ctl->head = head;
#else
	__sync_fetch_and_add(&ctl->head, 1);
#endif
	if (*(volatile __u32 *)&ctl->wake &&
	    head - *(volatile __u64 *)&ctl->tail >= cfg_ring_wake[c->depth]) {
		ctl->wake = 0;
		bpf_ringbuf_output(&doorbell, &head, sizeof(head), BPF_RB_FORCE_WAKEUP);
	}
	ring_abandon(c);
	ring_prefetch(c);
	return true;
}

/* Per-CPU counters, indexed by SSTRACE_CNT_*. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SSTRACE_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") __weak;

/* The kernel never runs a tracing program on a CPU where it is already running: an event that
 * nests into a run (a softirq interrupting a process-context run) is skipped for that program and
 * only counted in its recursion_misses. Each hook therefore has a second copy, attached to the
 * same tracepoint, that takes exactly the events the kernel skipped the first copy for. They
 * agree through this per-CPU map: for every event, the first copy writes the event's identity
 * into the slot of its context level (task, or interrupt) and the second copy,
 * which runs right after it at the same level, finds it there. An event the first copy never saw
 * (it was skipped) is missing from its level's slot, and the second copy handles it. One slot per
 * level, because a nested level can complete a whole first/second pair of its own in the middle of
 * an outer one. Indexed [hook * SSTRACE_NEST_LEVELS + level]; each slot also counts the first
 * copy's runs (struct sstrace_nest_slot in sstrace/abi/events.h). */
struct nest_state {
	struct sstrace_nest_slot mark[SSTRACE_HOOK_MAX * SSTRACE_NEST_LEVELS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nest_state);
} nest SEC(".maps") __weak;

/* A timewait socket's connection, as the TIME-WAIT end records (timer.bpf.c) carry it. */
struct tw_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 netns_ino;
	__u16 sport; /* network order, as tw_sport */
	__u16 dport;
	__u16 family;
	__u8 _pad[6];
} __attribute__((aligned(8))); /* the addresses are copied 8 bytes at a time (copy_addr16) */

/* ---- Owners (-p, -T; owner.bpf.h) ---- */
/* Records carry an owner block (struct sstrace_owner). Set only when a stream asks for owners:
 * otherwise the owner programs are not loaded and records keep their plain size. */
const volatile __u8 cfg_owners __weak = 0;
/* Syscall numbers whose exit returns a new socket's descriptor (this machine's numbering). */
const volatile __s64 cfg_nr_socket __weak = -1;
const volatile __s64 cfg_nr_accept __weak = -1;
const volatile __s64 cfg_nr_accept4 __weak = -1;

/* The owner of every socket, written in process context; an accepted socket starts with a copy
 * of its listener's (BPF_F_CLONE) and is freed with the socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct sstrace_sk_owner);
} owners SEC(".maps") __weak;

/* A descriptor returned by socket()/accept()/accept4(), by socket address: the syscall exit
 * tracepoint reaches the socket only through the fd table (no pointer the socket-storage helper
 * accepts), so the owner waits here until a program holding the socket moves it into `owners`.
 * The socket's inode guards against a reused address. */
struct owner_pending_val {
	__u64 ino;
	struct sstrace_owner owner;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct owner_pending_val);
} owner_pending SEC(".maps") __weak;

/* A SYN-SENT row is emitted by the timer hook, which has no socket pointer the storage helper
 * accepts: the state hook leaves the owner here at CLOSE -> SYN-SENT (same connect() call). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sstrace_owner);
} syn_owner SEC(".maps") __weak;
/* A timewait timer cancelled on this CPU outside its expiry: __mod_timer() detaches and enqueues
 * a re-armed timer under one lock, so a timer_start of the same timer right after it on this CPU
 * says the cancel was a re-arm (timer.bpf.c). */
struct tw_cancel_mark {
	const void *timer;
	__u64 cookie;
	__u64 ts_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_cancel_mark);
} tw_cancels SEC(".maps") __weak;

/* ---- Metrics (--metrics, --top; sstrace/abi/events.h) ----
 * Counters by namespace, state and service port, kept here instead of one ring record per
 * increment. Set only when a stream serves metrics: otherwise the counting code is dead and the
 * verifier removes it. */
const volatile __u8 cfg_metrics __weak = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SSTRACE_METRICS_NETNS_MAX);
	__type(key, __u32);
	__type(value, struct sstrace_netns_counters);
} netns_stats SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SSTRACE_METRICS_PORTS_MAX);
	__type(key, struct sstrace_port_key);
	__type(value, struct sstrace_port_counters);
} port_stats SEC(".maps") __weak;

/* The listening TCP ports by namespace, written by userspace from a LISTEN-only dump (about
 * once a second): entering LISTEN is not traced (inet_csk_listen_start() sets the state
 * without the tracepoint). The value is unused. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SSTRACE_LISTENERS_MAX);
	__type(key, struct sstrace_port_key);
	__type(value, __u8);
} listeners SEC(".maps") __weak;

#endif /* SSTRACE_MAPS_BPF_H */
