/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Metrics (--metrics, --top): the state hook counts every transition it is shown, per network
 * namespace and per service port, in per-CPU hash maps that userspace sums about once a second.
 * No ring-buffer record is involved, so the counts do not depend on the ring keeping up.
 *
 * Counted after the namespace and family checks (tp_wanted) and the filter program, so a FILTER
 * expression and -4/-6 scope the counters as they scope the rows. Per-CPU values are updated
 * without atomics: an event nesting into a run on the same CPU (a softirq interrupting a
 * process-context run between its load and store) could lose one increment of that CPU's slot.
 */
#ifndef SSTRACE_METRICS_BPF_H
#define SSTRACE_METRICS_BPF_H

#include "sock_read.bpf.h"

static const __u64 lifetime_bounds_ns[SSTRACE_LIFETIME_BOUNDS] = SSTRACE_LIFETIME_BOUNDS_NS;

/* What a new map entry starts from (the update helper needs a value in memory it may read). */
static struct sstrace_netns_counters zero_netns;
static struct sstrace_port_counters zero_port;

/* The filter program on the socket itself: the fields a record would carry, read only when the
 * filter needs them (cfg_fields), as emit() reads them. */
static __always_inline bool metrics_filter_accepts(const struct tcp_sock *tp, __u16 family,
						   bool btf)
{
	struct bc_entry be = {};

	if (!cfg_filter_len)
		return true;
	tp_addrs(tp, family, btf, (__u8 *)be.saddr, (__u8 *)be.daddr);
	be.sport = bpf_ntohs(tp_sport_be(tp, btf));
	be.dport = bpf_ntohs(KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_dport));
	be.family = family;
	if (field(SSTRACE_FIELD_IFINDEX))
		be.ifindex = KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_bound_dev_if);
	if (field(SSTRACE_FIELD_MARK))
		be.mark = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_mark);
	if (field(SSTRACE_FIELD_USERLOCKS))
		be.userlocks = btf ? BPF_CORE_READ_BITFIELD(&SK(tp), sk_userlocks) :
				     BPF_CORE_READ_BITFIELD_PROBED(&SK(tp), sk_userlocks);
	if (field(SSTRACE_FIELD_CGROUP))
		be.cgroup_id = btf ? SK(tp).sk_cgrp_data.cgroup->kn->id :
				     BPF_CORE_READ(&SK(tp), sk_cgrp_data.cgroup, kn, id);
	return bc_accepts(&be);
}

/* The map entry of `key`, created (zeroed) when missing; NULL when the map is full. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	/* another CPU may create it between the two calls: then the update fails, the lookup
	 * finds that one */
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline bool port_listening(__u32 netns_ino, __u16 port)
{
	struct sstrace_port_key k = { .netns_ino = netns_ino, .port = port };

	return bpf_map_lookup_elem(&listeners, &k) != NULL;
}

/* The connection's service port: the local port when it listens (the accepted side), else the
 * peer's when it listens in the same namespace (the connecting side, over loopback), else the
 * lower of the two. Host order. */
static __always_inline __u16 service_port(const struct tcp_sock *tp, __u32 netns_ino, bool btf)
{
	__u16 sport = bpf_ntohs(tp_sport_be(tp, btf));
	__u16 dport = bpf_ntohs(KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_dport));

	if (port_listening(netns_ino, sport))
		return sport;
	if (port_listening(netns_ino, dport))
		return dport;
	return sport < dport ? sport : dport;
}

/* The bucket of a lifetime: the first bound it does not exceed (SSTRACE_LIFETIME_BOUNDS: +Inf). */
static __always_inline __u32 lifetime_bucket(__u64 ns)
{
	__u32 i;

	for (i = 0; i < SSTRACE_LIFETIME_BOUNDS; i++)
		if (ns <= lifetime_bounds_ns[i])
			break;
	return i;
}

/* A socket's lifetime ends at CLOSE (or at its hand-over to a timewait socket, which is a CLOSE
 * too): from the birth stamp_birth() wrote. Listeners are no connections. tp_btf only. */
static __always_inline void count_lifetime(struct sstrace_netns_counters *nc, struct sock *sk,
					   int oldstate, int newstate, bool btf)
{
	struct born_val *b;
	__u64 ns;
	__u32 i;

	if (!btf || newstate != SSTRACE_TCP_CLOSE || oldstate == SSTRACE_TCP_LISTEN)
		return;
	b = bpf_sk_storage_get(&born, sk, NULL, 0);
	if (!b || !b->ns)
		return;
	ns = bpf_ktime_get_ns() - b->ns;
	i = lifetime_bucket(ns);
	if (i <= SSTRACE_LIFETIME_BOUNDS)
		nc->lifetime[i] += 1;
	nc->lifetime_sum_ns += ns;
}

/* One transition (`entered`: the state entered, TIME-WAIT inferred; `newstate`: the kernel's)
 * of a socket the stream selects. The hook calls it last, after its rows: its branches (the
 * filter, the maps, the histogram) are then leaves of the paths the verifier walks. Called
 * first, they multiplied the paths through the row code: the state hook with the longest
 * filter and every detail took over 140,000 verified instructions. (A __noinline subprogram
 * would isolate it, but clang 14 then spills a pointer in 32 bits, which the verifier
 * refuses.) */
static __always_inline void count_metrics(const struct tcp_sock *tp, struct sock *sk,
					  __u16 family, int oldstate, int newstate, int entered,
					  bool btf)
{
	struct sstrace_netns_counters *nc;
	struct sstrace_port_counters *pc;
	struct sstrace_port_key k = {};
	bool open, tw, reset;

	if (!metrics_filter_accepts(tp, family, btf))
		return;
	k.netns_ino = tp_netns(tp, btf);
	nc = lookup_or_init(&netns_stats, &k.netns_ino, &zero_netns);
	if (!nc) {
		count(SSTRACE_CNT_METRICS_FULL);
		return;
	}
	if (entered > 0 && entered < SSTRACE_TCP_MAX_STATES)
		nc->entries[entered] += 1;
	count_lifetime(nc, sk, oldstate, newstate, btf);

	/* what tcp_set_state() counts in TcpEstabResets */
	reset = entered == SSTRACE_TCP_CLOSE &&
		(oldstate == SSTRACE_TCP_ESTABLISHED || oldstate == SSTRACE_TCP_CLOSE_WAIT);
	tw = entered == SSTRACE_TCP_TIME_WAIT;
	open = entered == SSTRACE_TCP_ESTABLISHED;
	if (!reset && !tw && !open)
		return;
	k.port = service_port(tp, k.netns_ino, btf);
	pc = lookup_or_init(&port_stats, &k, &zero_port);
	if (!pc) {
		nc->ports_full += 1;
		nc->other_time_wait += tw;
		nc->other_resets += reset;
		nc->other_opens += open;
		return;
	}
	pc->time_wait += tw;
	pc->resets += reset;
	pc->opens += open;
}

#endif /* SSTRACE_METRICS_BPF_H */
