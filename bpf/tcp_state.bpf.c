// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP state-entry and destroy events.
 *
 * Each hook exists twice: a tp_btf program (typed struct sock *, socket cookies generated on
 * demand, no tracefs) and a classic tracepoint program for kernels whose BTF tracing cannot be
 * used. Userspace loads exactly one variant of each (bpf_program__set_autoload). Both call the
 * same always_inline handlers, which read the socket through CO-RE.
 */
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

char LICENSE[] SEC("license") = "GPL";

/*
 * Field reads. `btf` is a compile-time constant in every caller (the handlers are inlined into
 * each program). In the tp_btf variant the socket pointer is BTF-typed, so a field is one
 * checked load; the classic variant has only an address and goes through
 * bpf_probe_read_kernel() with CO-RE relocations. Measured with bench-events.sh: the probe
 * reads were most of the ~1 us an event cost.
 */
#define KREAD(btf, ptr, field) ((btf) ? (ptr)->field : BPF_CORE_READ(ptr, field))

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u64 commit_flags(void)
{
	if (!cfg_wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

/* The TCP socket behind `sk`: a BTF pointer the verifier lets us read tcp_sock fields through
 * (tp_btf), or the same address cast for probe reads (classic). NULL if not a TCP socket. */
static __always_inline struct tcp_sock *tcp_of(struct sock *sk, bool btf)
{
	if (btf)
		return bpf_skc_to_tcp_sock(sk);
	return (struct tcp_sock *)sk;
}

/* The local port as inet_diag reports it. inet_num (skc_num) is cleared by inet_put_port()
 * before the CLOSE tracepoint fires, inet_sport survives. Network order. */
static __always_inline __u16 sk_sport_be(const struct tcp_sock *tp, bool btf)
{
	if (!tp)
		return 0;
	return KREAD(btf, tp, inet_conn.icsk_inet.inet_sport);
}

static __always_inline __u32 sk_netns(const struct sock *sk, bool btf)
{
	if (btf)
		return sk->__sk_common.skc_net.net->ns.inum;
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Namespace and family filters, applied before anything else is read. */
static __always_inline bool sk_wanted(const struct sock *sk, __u16 *family, bool btf)
{
	*family = KREAD(btf, sk, __sk_common.skc_family);
	if (*family != AF_INET && *family != AF_INET6)
		return false;
	if (cfg_family && *family != cfg_family)
		return false;
	if (cfg_netns_ino && sk_netns(sk, btf) != cfg_netns_ino)
		return false;
	return true;
}

/* The inode number of the socket's file, what ss prints as ino:. struct socket is embedded in
 * struct socket_alloc next to its inode. 0 for an orphaned socket. */
static __always_inline __u64 sk_inode(const struct sock *sk)
{
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);
	struct socket_alloc *sa;

	if (!sock)
		return 0;
	sa = (void *)sock - bpf_core_field_offset(struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

static __always_inline __u8 close_reason(const struct sock *sk, bool btf)
{
	int err = KREAD(btf, sk, sk_err);

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

/*
 * Fill one record on the stack, run the filter program, and queue it. `btf` is a compile-time
 * constant: with a BTF pointer the socket cookie is generated if the socket has none yet (the
 * timewait socket inherits it, and ss -e then shows the same sk: value); the classic variant
 * can only read an existing cookie. A rejected event never reaches the ring buffer.
 */
static __always_inline void emit(struct sock *sk, __u16 type, __u16 family, int oldstate,
				 int newstate, bool btf)
{
	struct sstrace_event ev = {};
	struct sstrace_event *e = &ev;
	struct tcp_sock *tp = tcp_of(sk, btf);

	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_ns();
	if (btf)
		e->cookie = bpf_get_socket_cookie(sk);
	else
		e->cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (family == AF_INET) {
		/* 4-byte fields: never read 16 bytes from them */
		*(__u32 *)e->saddr = KREAD(btf, sk, __sk_common.skc_rcv_saddr);
		*(__u32 *)e->daddr = KREAD(btf, sk, __sk_common.skc_daddr);
	} else if (btf) {
		__builtin_memcpy(e->saddr, &sk->__sk_common.skc_v6_rcv_saddr, sizeof(e->saddr));
		__builtin_memcpy(e->daddr, &sk->__sk_common.skc_v6_daddr, sizeof(e->daddr));
	} else {
		/* explicit sizes: BPF_CORE_READ_INTO on a byte array would copy one byte */
		bpf_core_read(e->saddr, sizeof(e->saddr), &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, sizeof(e->daddr), &sk->__sk_common.skc_v6_daddr);
	}
	e->sport = bpf_ntohs(sk_sport_be(tp, btf));
	e->dport = bpf_ntohs(KREAD(btf, sk, __sk_common.skc_dport));
	e->family = family;
	e->protocol = IPPROTO_TCP;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->reason = newstate == SSTRACE_TCP_CLOSE ? close_reason(sk, btf) : SSTRACE_REASON_NONE;
	if (family == AF_INET6 &&
	    (btf ? BPF_CORE_READ_BITFIELD(&sk->__sk_common, skc_ipv6only) :
		   BPF_CORE_READ_BITFIELD_PROBED(&sk->__sk_common, skc_ipv6only)))
		e->flags |= SSTRACE_EVF_V6ONLY;
	e->netns_ino = sk_netns(sk, btf);
	if (newstate == SSTRACE_TCP_TIME_WAIT) {
		/* the row stands for the timewait socket, whose queues inet_diag reports as 0 */
	} else if (newstate == SSTRACE_TCP_LISTEN) {
		/* what inet_diag reports for listeners: accept queue and backlog */
		e->rqueue = KREAD(btf, sk, sk_ack_backlog);
		e->wqueue = KREAD(btf, sk, sk_max_ack_backlog);
	} else if (tp) {
		int unread = KREAD(btf, tp, rcv_nxt) - KREAD(btf, tp, copied_seq);

		e->rqueue = unread > 0 ? unread : 0;
		e->wqueue = KREAD(btf, tp, write_seq) - KREAD(btf, tp, snd_una);
	}
	e->ifindex = KREAD(btf, sk, __sk_common.skc_bound_dev_if);
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = KREAD(btf, sk, sk_uid.val);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->ino = sk_inode(sk);
	e->mark = KREAD(btf, sk, sk_mark);
	if (btf) {
		e->userlocks = BPF_CORE_READ_BITFIELD(sk, sk_userlocks);
		e->cgroup_id = sk->sk_cgrp_data.cgroup->kn->id;
	} else {
		e->userlocks = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks);
		e->cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	}

	if (!filter_accepts(e)) {
		count(SSTRACE_CNT_FILTERED);
		return;
	}
	if (bpf_ringbuf_output(&events, e, sizeof(*e), commit_flags())) {
		count(SSTRACE_CNT_LOST);
		return;
	}
	count(SSTRACE_CNT_EMITTED);
}

static __always_inline bool want_state(int state)
{
	return state > 0 && state < SSTRACE_TCP_MAX_STATES && (cfg_state_mask & (1u << state));
}

/* Was this FIN-WAIT-2/CLOSING -> CLOSE the hand-over to a timewait socket? */
static __always_inline bool took_timewait(struct sock *sk, __u16 family, bool btf)
{
	__u32 zero = 0;
	struct tw_slot *slot = bpf_map_lookup_elem(&tw_slots, &zero);
	bool hit;

	if (!slot)
		return false;
	hit = slot->valid && slot->family == family &&
	      slot->sport == sk_sport_be(tcp_of(sk, btf), btf) &&
	      slot->dport == KREAD(btf, sk, __sk_common.skc_dport) &&
	      slot->netns_ino == sk_netns(sk, btf);
	slot->valid = 0;
	return hit;
}

static __always_inline void on_set_state(struct sock *sk, int oldstate, int newstate,
					 __u16 protocol, bool btf)
{
	__u16 family;
	int entered = newstate;

	if (protocol != IPPROTO_TCP || !cfg_state_mask)
		return;
	if (!sk_wanted(sk, &family, btf))
		return;

	/* A timewait socket copies the cookie its full socket had when it was created, which is
	 * before the CLOSE event we emit its row from. Generating the cookie when the connection
	 * is established makes the row's sk: the one ss -e shows for the TIME-WAIT socket. */
	if (btf && newstate == SSTRACE_TCP_ESTABLISHED)
		bpf_get_socket_cookie(sk);

	if (oldstate == SSTRACE_TCP_SYN_SENT && cfg_write_timer_fn) {
		/* connect() failed before the SYN went out: report the pending entry now */
		__u64 key = (__u64)sk;

		if (bpf_map_lookup_elem(&syn_pending, &key)) {
			bpf_map_delete_elem(&syn_pending, &key);
			emit(sk, SSTRACE_REC_STATE, family, SSTRACE_TCP_CLOSE, SSTRACE_TCP_SYN_SENT,
			     btf);
		}
	}

	if (newstate == SSTRACE_TCP_CLOSE &&
	    (oldstate == SSTRACE_TCP_FIN_WAIT2 || oldstate == SSTRACE_TCP_CLOSING) &&
	    cfg_tw_timer_fn) {
		if (took_timewait(sk, family, btf))
			entered = SSTRACE_TCP_TIME_WAIT;
		else if (KREAD(btf, sk, sk_err) == 0)
			count(SSTRACE_CNT_TW_OVERFLOW);
	}

	if (!want_state(entered))
		return;

	if (entered == SSTRACE_TCP_SYN_SENT && cfg_write_timer_fn &&
	    sk_sport_be(tcp_of(sk, btf), btf) == 0) {
		__u64 key = (__u64)sk, now = bpf_ktime_get_ns();

		bpf_map_update_elem(&syn_pending, &key, &now, BPF_ANY);
		return;
	}
	emit(sk, SSTRACE_REC_STATE, family, oldstate, entered, btf);
}

static __always_inline void on_destroy(struct sock *sk, bool btf)
{
	__u16 family;

	if (!cfg_destroy)
		return;
	if (!sk_wanted(sk, &family, btf))
		return;
	emit(sk, SSTRACE_REC_DESTROY, family, KREAD(btf, sk, __sk_common.skc_state),
	     SSTRACE_TCP_CLOSE, btf);
}

static __always_inline void on_timer_start(void *timer, __u64 fn, bool btf)
{
	if (!fn)
		return;
	if (fn == cfg_tw_timer_fn) {
		struct inet_timewait_sock *tw;
		__u32 zero = 0;
		struct tw_slot *slot;

		tw = (void *)timer - bpf_core_field_offset(struct inet_timewait_sock, tw_timer);
		slot = bpf_map_lookup_elem(&tw_slots, &zero);
		if (!slot)
			return;
		slot->tw = (__u64)tw;
		slot->family = BPF_CORE_READ(tw, __tw_common.skc_family);
		slot->sport = BPF_CORE_READ(tw, tw_sport);
		slot->dport = BPF_CORE_READ(tw, __tw_common.skc_dport);
		slot->netns_ino = BPF_CORE_READ(tw, __tw_common.skc_net.net, ns.inum);
		slot->valid = 1;
	} else if (fn == cfg_write_timer_fn) {
		struct sock *sk;
		__u64 key;
		__u16 family;

		sk = (void *)timer -
		     bpf_core_field_offset(struct inet_connection_sock, icsk_retransmit_timer);
		/* this timer is armed on nearly every send: only a SYN-SENT socket can be pending,
		 * and one read is cheaper than the hash lookup */
		if (BPF_CORE_READ(sk, __sk_common.skc_state) != SSTRACE_TCP_SYN_SENT)
			return;
		key = (__u64)sk;
		if (!bpf_map_lookup_elem(&syn_pending, &key))
			return;
		bpf_map_delete_elem(&syn_pending, &key);
		if (!sk_wanted(sk, &family, false))
			return;
		/* A BTF-typed socket pointer cannot be derived from a timer's address, so both
		 * variants read this socket through probe reads (and read, not generate, its
		 * cookie). */
		emit(sk, SSTRACE_REC_STATE, family, SSTRACE_TCP_CLOSE, SSTRACE_TCP_SYN_SENT, false);
	}
}

/* ---- tp_btf variants ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sst_state_btf, struct sock *sk, int oldstate, int newstate)
{
	on_set_state(sk, oldstate, newstate, sk->sk_protocol, true);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(sst_destroy_btf, struct sock *sk)
{
	on_destroy(sk, true);
	return 0;
}

SEC("tp_btf/timer_start")
int BPF_PROG(sst_timer_btf, struct timer_list *timer)
{
	on_timer_start(timer, (__u64)timer->function, true);
	return 0;
}

/* ---- classic tracepoint variants ---- */

SEC("tracepoint/sock/inet_sock_set_state")
int sst_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	on_set_state((struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate, ctx->protocol,
		     false);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int sst_destroy_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	on_destroy((struct sock *)ctx->skaddr, false);
	return 0;
}

SEC("tracepoint/timer/timer_start")
int sst_timer_tp(struct trace_event_raw_timer_start *ctx)
{
	on_timer_start(ctx->timer, (__u64)ctx->function, false);
	return 0;
}
