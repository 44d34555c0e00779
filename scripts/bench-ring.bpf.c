// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-ring.bpf.c: what writing one record costs a program on inet_sock_set_state, by how it
 * is written; for scripts/bench-ring.sh. Every variant stamps a 112-byte record (the size of
 * sstrace's struct sstrace_event) and reads two fields of the socket, as sstrace's programs do,
 * then writes it:
 *   0 empty     nothing at all (the cost of running any program there)
 *   1 fill      the stamp and the reads only, no record
 *   2 shared    bpf_ringbuf_output into one ring shared by every CPU
 *   3 percpu    bpf_ringbuf_output into this CPU's ring (an array of ring maps)
 *   4 staged    this CPU's ring, 8 records staged per CPU and written at once
 *   5 perf      bpf_perf_event_output (a perf buffer, per CPU by design)
 *   6 array     this CPU's slots in a memory-mapped array, a plain store and a head index: no
 *               lock, no interrupts disabled (a cost only: no back-pressure, and one writer
 *               per CPU assumed, where a design would need one ring per CPU and nesting level)
 *   7 reads     fill without the stamp: what fill costs more is one bpf_ktime_get_ns()
 * Every variant commits without a wakeup; the reader drains on a 5 ms timer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct rec {
	__u64 w[14];
};

#define STAGED 8
#define MAX_RINGS 64

struct cpu_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* the template: userspace creates the rings */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* resized by userspace */
} shared SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAX_RINGS);
	__type(key, __u32);
	__array(values, struct cpu_ring);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct stage {
	__u32 n;
	__u32 pad;
	struct rec r[STAGED];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stage);
} stages SEC(".maps");

#define SLOTS 4096

struct slots {
	__u64 head; /* records written; the reader keeps its own count */
	__u64 pad[7];
	struct rec r[SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* resized by userspace: one entry per CPU */
	__type(key, __u32);
	__type(value, struct slots);
} arrays SEC(".maps");

/* set by bench-ring.c before the load (one struct: its layout is fixed) */
const volatile struct {
	__u32 variant;
	__u32 nrings;
} cfg = { 0, 1 };
__u64 sink;

static __always_inline void *cpu_ring(void)
{
	__u32 i = bpf_get_smp_processor_id() % cfg.nrings;

	return bpf_map_lookup_elem(&rings, &i);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(bench_ring, struct sock *sk, int oldstate, int newstate)
{
	struct rec r = {};
	struct stage *st;
	__u32 zero = 0, i;
	void *ring;

	if (cfg.variant == 0)
		return 0;
	if (cfg.variant != 7)
		r.w[0] = bpf_ktime_get_ns();
	r.w[1] = (__u64)sk;
	r.w[2] = sk->__sk_common.skc_daddr;
	r.w[3] = sk->__sk_common.skc_rcv_saddr;
	r.w[4] = ((__u64)oldstate << 8) | newstate;
	switch (cfg.variant) {
	case 1:
	case 7:
		/* a store no one reads, so that the reads are not optimised away */
		if (r.w[0] == 1 && r.w[4] == 7)
			sink = r.w[2];
		break;
	case 2:
		bpf_ringbuf_output(&shared, &r, sizeof(r), BPF_RB_NO_WAKEUP);
		break;
	case 3:
		ring = cpu_ring();
		if (ring)
			bpf_ringbuf_output(ring, &r, sizeof(r), BPF_RB_NO_WAKEUP);
		break;
	case 4:
		st = bpf_map_lookup_elem(&stages, &zero);
		if (!st)
			break;
		i = st->n < STAGED ? st->n : 0;
		st->r[i] = r;
		if (i + 1 < STAGED) {
			st->n = i + 1;
			break;
		}
		st->n = 0;
		ring = cpu_ring();
		if (ring)
			bpf_ringbuf_output(ring, st->r, sizeof(st->r), BPF_RB_NO_WAKEUP);
		break;
	case 5:
		bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &r, sizeof(r));
		break;
	case 6: {
		struct slots *sl;
		__u64 head;

		i = bpf_get_smp_processor_id() % cfg.nrings;
		sl = bpf_map_lookup_elem(&arrays, &i);
		if (!sl)
			break;
		head = sl->head;
		sl->r[head & (SLOTS - 1)] = r;
		/* the record before the head that publishes it (clang 14 has no BPF store-release;
		 * x86 keeps stores in order) */
		asm volatile("" ::: "memory");
		*(volatile __u64 *)&sl->head = head + 1;
		break;
	}
	}
	return 0;
}
