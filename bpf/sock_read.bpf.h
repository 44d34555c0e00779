/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every hook shares: reading a TCP socket into a record, the in-kernel filter, queueing,
 * counters, and the nesting guard that lets a hook's second program copy take the events the
 * kernel skipped its first copy for.
 *
 * Field reads come in two kinds, chosen by the compile-time constant `btf` of every caller:
 *  - btf: the socket is a BTF-typed struct tcp_sock pointer (tp_btf programs), and every field
 *    is one load;
 *  - probe: the classic-tracepoint variant has only an address and reads through
 *    bpf_probe_read_kernel() with CO-RE relocations (measured: most of an event's cost).
 */
#ifndef SSTRACE_SOCK_READ_BPF_H
#define SSTRACE_SOCK_READ_BPF_H

#include "maps.bpf.h"
#include "filter.bpf.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#define AF_INET 2
#define AF_INET6 10
#define ECONNRESET 104
#define EPIPE 32
#define ECONNREFUSED 111
#define ETIMEDOUT 110

#include "owner.bpf.h"

#define KREAD(btf, ptr, field) ((btf) ? (ptr)->field : BPF_CORE_READ(ptr, field))

/* The socket as a tcp_sock whose fields can be loaded directly (btf: NULL if it is not a full
 * TCP socket), or the same address for probe reads. */
static __always_inline struct tcp_sock *tcp_of(struct sock *sk, bool btf)
{
	if (btf)
		return bpf_skc_to_tcp_sock(sk);
	return (struct tcp_sock *)sk;
}

#define SKC(tp) (tp)->inet_conn.icsk_inet.sk.__sk_common
#define SK(tp) (tp)->inet_conn.icsk_inet.sk

/* The socket's cookie, generated if it has none (tp_btf); the classic variant reads it. */
static __always_inline __u64 cookie_of(struct sock *sk, bool btf)
{
	if (btf)
		return bpf_get_socket_cookie(sk);
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline bool field(__u32 bit)
{
	return (cfg_fields & bit) != 0;
}

static __always_inline __u64 commit_flags(void)
{
	if (!cfg_wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

static __always_inline __u32 tp_netns(const struct tcp_sock *tp, bool btf)
{
	if (btf)
		return SKC(tp).skc_net.net->ns.inum;
	return BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_net.net, ns.inum);
}

/* Namespace and family filters, applied before anything else is read. */
static __always_inline bool tp_wanted(const struct tcp_sock *tp, __u16 *family, bool btf)
{
	*family = KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_family);
	if (*family != AF_INET && *family != AF_INET6)
		return false;
	if (cfg_family && *family != cfg_family)
		return false;
	if (cfg_netns_ino && tp_netns(tp, btf) != cfg_netns_ino)
		return false;
	return true;
}

/* The local port as inet_diag reports it. inet_num (skc_num) is cleared by inet_put_port()
 * before the CLOSE tracepoint fires, inet_sport survives. Network order. */
static __always_inline __u16 tp_sport_be(const struct tcp_sock *tp, bool btf)
{
	return KREAD(btf, tp, inet_conn.icsk_inet.inet_sport);
}

/* The inode number of the socket's file, what ss prints as ino:. struct socket is embedded in
 * struct socket_alloc next to its inode. 0 for an orphaned socket. */
static __always_inline __u64 tp_inode(const struct tcp_sock *tp, bool btf)
{
	struct socket *sock = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_socket);
	struct socket_alloc *sa;

	if (!sock)
		return 0;
	/* not a field of anything the verifier knows the type of: one probe read */
	sa = (void *)sock - bpf_core_field_offset(struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

static __always_inline __u8 close_reason(const struct tcp_sock *tp, bool btf)
{
	int err = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_err);

	switch (err) {
	case 0:
		return SSTRACE_REASON_NONE;
	case ECONNRESET:
	case EPIPE:
		return SSTRACE_REASON_RESET;
	case ECONNREFUSED:
		return SSTRACE_REASON_REFUSED;
	case ETIMEDOUT:
		return SSTRACE_REASON_TIMEOUT;
	default:
		return SSTRACE_REASON_OTHER;
	}
}

/* The in-kernel filter program's view of a record (userspace re-checks the same fields). */
static __always_inline bool filter_accepts(const struct sstrace_event *e)
{
	struct bc_entry be = {};

	if (!cfg_filter_len)
		return true;
	__builtin_memcpy(be.saddr, e->saddr, sizeof(be.saddr));
	__builtin_memcpy(be.daddr, e->daddr, sizeof(be.daddr));
	be.sport = e->sport;
	be.dport = e->dport;
	be.family = e->family;
	be.ifindex = e->ifindex;
	be.userlocks = e->userlocks;
	be.cgroup_id = e->cgroup_id;
	be.mark = e->mark;
	return bc_accepts(&be);
}

/* Local and peer address, network order, 16 bytes each (IPv4 in bytes 0-3, the rest left as
 * the caller zeroed it). */
static __always_inline void tp_addrs(const struct tcp_sock *tp, __u16 family, bool btf,
				     __u8 saddr[16], __u8 daddr[16])
{
	if (family == AF_INET) {
		/* 4-byte fields: never read 16 bytes from them */
		*(__u32 *)saddr = KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_rcv_saddr);
		*(__u32 *)daddr = KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_daddr);
	} else if (btf) {
		__builtin_memcpy(saddr, &SKC(tp).skc_v6_rcv_saddr, 16);
		__builtin_memcpy(daddr, &SKC(tp).skc_v6_daddr, 16);
	} else {
		/* explicit sizes: BPF_CORE_READ_INTO on a byte array would copy one byte */
		bpf_core_read(saddr, 16, &SKC(tp).skc_v6_rcv_saddr);
		bpf_core_read(daddr, 16, &SKC(tp).skc_v6_daddr);
	}
}

/* The connection's tuple as the TIME-WAIT hand-over knows it. */
static __always_inline void tp_tw_key(const struct tcp_sock *tp, __u16 family, bool btf,
				      struct tw_key *k)
{
	tp_addrs(tp, family, btf, k->saddr, k->daddr);
	k->netns_ino = tp_netns(tp, btf);
	k->sport = tp_sport_be(tp, btf);
	k->dport = KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_dport);
	k->family = family;
}

/* Runs the filter program on a filled record and queues it: a rejected event never reaches the
 * ring buffer, a full ring is counted. */
static __always_inline void queue_record(struct sstrace_owned_event *oe,
					 const struct sstrace_owner *owner)
{
	struct sstrace_event *e = &oe->ev;
	__u64 size = sizeof(*e);

	if (!filter_accepts(e)) {
		count(SSTRACE_CNT_FILTERED);
		return;
	}
	/* the owner block only when a stream asked for owners: plain records keep their size */
	if (cfg_owners) {
		if (owner)
			oe->owner = *owner;
		else
			__builtin_memset(&oe->owner, 0, sizeof(oe->owner));
		size = sizeof(*oe);
		e->hdr.size = size;
	}
	if (bpf_ringbuf_output(&events, oe, size, commit_flags())) {
		count(SSTRACE_CNT_LOST);
		return;
	}
	count(SSTRACE_CNT_EMITTED);
}

/*
 * Fills one record on the stack, runs the filter program, and queues it (with `owner`, or an
 * empty owner block, when the stream asked for owners). `cookie` is the
 * socket's cookie as the caller could obtain it (tp_btf programs generate one when the socket has
 * none: the timewait socket inherits it, and ss -e then shows the same sk: value). A rejected
 * event never reaches the ring buffer.
 */
static __always_inline void emit(const struct tcp_sock *tp, __u64 cookie, __u16 type,
				 __u16 family, int oldstate, int newstate, __u8 flags, bool btf,
				 const struct sstrace_owner *owner)
{
	struct sstrace_owned_event oe;
	struct sstrace_event *e = &oe.ev;

	/* the owner block is written (or zeroed) by queue_record() when it is sent */
	__builtin_memset(e, 0, sizeof(*e));

	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->cookie = cookie;
	tp_addrs(tp, family, btf, e->saddr, e->daddr);
	e->sport = bpf_ntohs(tp_sport_be(tp, btf));
	e->dport = bpf_ntohs(KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_dport));
	e->family = family;
	e->protocol = IPPROTO_TCP;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->flags = flags;
	if (newstate == SSTRACE_TCP_CLOSE)
		e->reason = close_reason(tp, btf);
	if (family == AF_INET6 &&
	    (btf ? BPF_CORE_READ_BITFIELD(&SKC(tp), skc_ipv6only) :
		   BPF_CORE_READ_BITFIELD_PROBED(&SKC(tp), skc_ipv6only)))
		e->flags |= SSTRACE_EVF_V6ONLY;
	e->netns_ino = tp_netns(tp, btf);
	if (newstate == SSTRACE_TCP_TIME_WAIT) {
		/* the row stands for the timewait socket, whose queues inet_diag reports as 0 */
	} else if (newstate == SSTRACE_TCP_LISTEN) {
		/* what inet_diag reports for listeners: accept queue and backlog */
		e->rqueue = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_ack_backlog);
		e->wqueue = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_max_ack_backlog);
	} else {
		int unread = KREAD(btf, tp, rcv_nxt) - KREAD(btf, tp, copied_seq);

		e->rqueue = unread > 0 ? unread : 0;
		e->wqueue = KREAD(btf, tp, write_seq) - KREAD(btf, tp, snd_una);
	}
	/* A destroy row shows the uid ss -E shows: the kernel's destroy notification takes it from
	 * the socket's file (sock_i_uid()), and an orphaned socket has none: 0, not printed. */
	if (field(SSTRACE_FIELD_UID) &&
	    (type != SSTRACE_REC_DESTROY || KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_socket)))
		e->uid = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_uid.val);
	if (field(SSTRACE_FIELD_IFINDEX))
		e->ifindex = KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_bound_dev_if);
	if (field(SSTRACE_FIELD_MARK))
		e->mark = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_mark);
	if (field(SSTRACE_FIELD_INO))
		e->ino = tp_inode(tp, btf);
	if (field(SSTRACE_FIELD_USERLOCKS))
		e->userlocks = btf ? BPF_CORE_READ_BITFIELD(&SK(tp), sk_userlocks) :
				     BPF_CORE_READ_BITFIELD_PROBED(&SK(tp), sk_userlocks);
	if (field(SSTRACE_FIELD_CGROUP)) {
		if (btf)
			e->cgroup_id = SK(tp).sk_cgrp_data.cgroup->kn->id;
		else
			e->cgroup_id = BPF_CORE_READ(&SK(tp), sk_cgrp_data.cgroup, kn, id);
	}

	queue_record(&oe, owner);
}

/* ---- nesting: first and second program copies ----
 *
 * first copy:  nest_first(HOOK, id); handle
 * second copy: if (nest_second_takes(HOOK, id)) handle
 *
 * Programs attached to one tracepoint run one after the other for each event, at the event's
 * interrupt context level. The first copy marks the event's identity in its level's slot; the
 * second copy finds the mark when the first copy ran (and clears it), and otherwise handles the
 * event: the kernel skipped the first copy because it was already running on this CPU at a lower
 * level. So an event is handled once, by one of the two, unless the kernel skipped both (three
 * levels deep). The first copy's recursion_misses minus the second copy's SSTRACE_CNT_NESTED_*
 * count is what neither copy saw.
 */
/*
 * The context level: 0 on the current task's stack (process context), 1 elsewhere. On x86-64
 * softirqs and hardirqs run on the CPU's own interrupt stack (and the kernel's preempt_count is
 * not reachable from BPF here: no data symbols in kallsyms), so the stack a program runs on tells
 * a nested interrupt context from the task it interrupted. Only those two levels nest for these
 * hooks: TCP state changes and destroys do not happen in hardirq context, and timer_start runs
 * with interrupts disabled.
 */
#define SSTRACE_TASK_STACK_SIZE 16384 /* THREAD_SIZE on x86-64 without KASAN */

/* The mark slot of this hook and context level. The level comes from where the tracepoint's
 * arguments lie: `ctx` points at them on the stack of the code that hit the tracepoint (BPF
 * programs may run on a private stack of their own, so their frame tells nothing). */
static __always_inline struct nest_mark *nest_slot(void *ctx, __u32 hook)
{
	struct task_struct *t = bpf_get_current_task_btf();
	void *stack = t->stack;
	struct nest_state *n;
	__u32 zero = 0, level, i;

	/* a privileged program may compare pointers (it may not subtract them) */
	level = ctx >= stack && ctx < stack + SSTRACE_TASK_STACK_SIZE ? 0 : 1;
	n = bpf_map_lookup_elem(&nest, &zero);
	if (!n)
		return NULL;
	i = hook * SSTRACE_NEST_LEVELS + level;
	if (i >= SSTRACE_HOOK_MAX * SSTRACE_NEST_LEVELS)
		return NULL;
	return &n->mark[i];
}

static long spin_step(__u32 i, void *ctx)
{
	return 0;
}

/* First copy: the event (object, detail) is being handled. */
static __always_inline void nest_first(void *ctx, __u32 hook, const void *object, __u64 detail)
{
	struct nest_mark *m = nest_slot(ctx, hook);

	if (m) {
		m->object = object;
		m->detail = detail;
	}
	if (cfg_test_spin)
		bpf_loop(cfg_test_spin, spin_step, NULL, 0);
}

/* Second copy: true when the first copy did not see this event (the kernel skipped it). */
static __always_inline bool nest_second_takes(void *ctx, __u32 hook, const void *object,
					      __u64 detail)
{
	struct nest_mark *m = nest_slot(ctx, hook);

	if (!m)
		return false;
	if (m->object == object && m->detail == detail) {
		m->object = NULL;
		return false;
	}
	return true;
}

#endif /* SSTRACE_SOCK_READ_BPF_H */
