// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP state entries: the inet_sock_set_state tracepoint.
 *
 * Two inferred states:
 *  - TIME-WAIT is never reported by the tracepoint: tcp_time_wait() hashes a timewait socket
 *    for the connection and moves the full socket to CLOSE. A FIN-WAIT-2/CLOSING -> CLOSE that
 *    finds its connection's timewait socket in the established hash is the TIME-WAIT entry; one
 *    that does not got no timewait socket (tcp_max_tw_buckets full).
 *  - SYN-SENT is entered before connect() picks the local port: its row is emitted when
 *    tcp_connect() arms the SYN's retransmit timer (timer.bpf.c), except for a connect() that
 *    fails before that (then here, at SYN-SENT -> CLOSE).
 *
 * Each program exists as a tp_btf pair (first and second copy, see sock_read.bpf.h) and as a
 * classic tracepoint program for kernels without usable BTF tracing.
 */
#include "sock_read.bpf.h"
#include "metrics.bpf.h"
#include "timewait.bpf.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline bool want_state(int state)
{
	return state > 0 && state < SSTRACE_TCP_MAX_STATES && (cfg_state_mask & (1u << state));
}

/* --transitions: a socket leaving a selected state is reported too. */
static __always_inline bool want_leave(int state)
{
	return state > 0 && state < SSTRACE_TCP_MAX_STATES && (cfg_leave_mask & (1u << state));
}

/* ---- TIME-WAIT: the timewait socket in the established hash ----
 * tcp_time_wait() puts the new timewait socket at the head of its connection's chain in the
 * established hash (inet_twsk_hashdance_schedule(), same hash as the full socket), arms its timer
 * and then, in the same call on the same CPU, moves the full socket to CLOSE. So a FIN-WAIT-2 or
 * CLOSING -> CLOSE whose connection has a timewait socket in that chain now is a TIME-WAIT entry;
 * one without got none (tcp_max_tw_buckets full, no memory). No state is kept between two hooks:
 * nothing to lose to a skipped run or a full map, and nothing for a nested event to overwrite. */

/* Was this FIN-WAIT-2/CLOSING -> CLOSE the hand-over to a timewait socket? `expires`: its
 * timer's expiry (jiffies; with -o only). */
static __always_inline bool took_timewait(const struct tcp_sock *tp, __u16 family, bool btf,
					  __u8 *flags, __u64 *expires)
{
	struct tw_probe p = {};
	struct tw_found f = {};
	/* the layout of skc_portpair */
	union {
		__u32 pair;
		struct {
			__be16 dport;
			__u16 num;
		};
	} ports;
	int r;

	if (btf) {
		p.net = (__u64)SKC(tp).skc_net.net;
		p.addrpair = SKC(tp).skc_addrpair;
		p.hash = SKC(tp).skc_hash;
	} else {
		p.net = (__u64)BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_net.net);
		p.addrpair = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_addrpair);
		p.hash = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_hash);
	}
	/* the local port from inet_sport: the CLOSE released the port (inet_put_port() zeroed
	 * skc_num) before the tracepoint */
	ports.dport = KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_dport);
	ports.num = bpf_ntohs(tp_sport_be(tp, btf));
	p.portpair = ports.pair;
	p.family = family;
	if (family == AF_INET6)
		tp_addrs(tp, family, btf, (__u8 *)p.v6_saddr, (__u8 *)p.v6_daddr);
	r = btf ? sst_timewait_lookup_btf(&p, &f) : sst_timewait_lookup(&p, &f);
	if (r == TW_LOOKUP_CUT_SHORT)
		count(SSTRACE_CNT_TW_MAP_FULL);
	if (r != TW_LOOKUP_FOUND)
		return false;
	if (f.substate == SSTRACE_TCP_FIN_WAIT2)
		*flags |= SSTRACE_EVF_TW_FIN_WAIT2;
	if (cfg_details & SSTRACE_DETAIL_TIMER)
		*expires = f.expires;
	return true;
}

/* Did this socket's connect() fail before tcp_connect() armed the SYN's retransmit timer? */
static __always_inline bool syn_never_sent(const struct tcp_sock *tp, bool btf)
{
	return KREAD(btf, tp, inet_conn.icsk_retransmits) == 0 &&
	       KREAD(btf, tp, inet_conn.icsk_pending) == 0;
}

/* A socket's cookie is copied when the kernel makes a timewait socket of it, and read (not
 * generated) by the timer hook's SYN-SENT rows: generate it early, so that those rows carry the
 * sk: that ss -e shows. Only tp_btf programs can generate one, and only a stream whose output
 * shows or keys by cookies (cfg_cookies) makes it. */
static __always_inline bool cookie_needed_at(int newstate)
{
	return cfg_cookies &&
	       ((newstate == SSTRACE_TCP_ESTABLISHED && want_state(SSTRACE_TCP_TIME_WAIT)) ||
		(newstate == SSTRACE_TCP_SYN_SENT && want_state(SSTRACE_TCP_SYN_SENT) &&
		 cfg_syn_timer));
}

/* Owners (-p): every transition of a socket moves a descriptor parked by the syscall exit hook
 * into its storage (the socket is still open then: its inode matches), and the owner of a
 * SYN-SENT row is left for the timer hook that emits it. Returns the socket's storage value. */
static __always_inline struct sstrace_sk_owner *owners_follow(struct sock *sk, int oldstate,
							       int newstate)
{
	struct sstrace_sk_owner *so = sk_owner(sk);
	struct sstrace_owner o;
	__u64 key = (__u64)sk;

	if (oldstate == SSTRACE_TCP_SYN_SENT)
		bpf_map_delete_elem(&syn_owner, &key);
	else if (oldstate == SSTRACE_TCP_CLOSE && newstate == SSTRACE_TCP_SYN_SENT && cfg_syn_timer &&
		 want_state(SSTRACE_TCP_SYN_SENT) && owner_from(so, bpf_get_socket_cookie(sk), &o))
		bpf_map_update_elem(&syn_owner, &key, &o, BPF_ANY);
	return so;
}

/* A socket is born when it first leaves CLOSE (connect, listen) or LISTEN (the child of a
 * passive open, whose first transition is LISTEN -> SYN-RECV): the lifetime -i shows on a
 * destroy or CLOSE row, and the metrics' lifetime histogram. tp_btf only: socket storage needs
 * a BTF socket pointer. */
static __always_inline bool birth(int oldstate, int newstate)
{
	return ((cfg_details & SSTRACE_DETAIL_LIFETIME) || cfg_metrics) &&
	       newstate != SSTRACE_TCP_CLOSE &&
	       (oldstate == SSTRACE_TCP_CLOSE || oldstate == SSTRACE_TCP_LISTEN);
}

static __always_inline void stamp_birth(struct sock *sk)
{
	struct born_val *b = bpf_sk_storage_get(&born, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);

	if (b && !b->ns)
		b->ns = bpf_ktime_get_ns();
}

/* The rows of one transition (`entered`: TIME-WAIT inferred), when the stream wants any. */
static __always_inline void state_rows(struct sock *sk, const struct tcp_sock *tp,
				       struct sstrace_sk_owner *so, __u16 family, int oldstate,
				       int newstate, int entered, __u8 flags, __u64 tw_expires,
				       bool syn_unsent, bool btf)
{
	/* zeroed (flags 0, no owner) where none is known, and always passed, so that the verifier
	 * does not walk the rest of emit() twice (an owner, or NULL). Zeroed without owners too:
	 * clang 14 may merge the owner's stores across the cfg_owners test, and would then store
	 * a register the verifier finds unwritten on the path without owners. */
	struct sstrace_owner owner;
	__u64 cookie;

	__builtin_memset(&owner, 0, sizeof(owner));
	/* generated here if the socket has none yet (tp_btf, cfg_cookies) */
	cookie = cookie_of(sk, btf);
	if (cfg_owners) {
		if (btf)
			owner_from(so, cookie, &owner);
	}

	if (syn_unsent && want_state(SSTRACE_TCP_SYN_SENT) && syn_never_sent(tp, btf)) {
		count(SSTRACE_CNT_SYN_UNSENT);
		emit(tp, cookie, SSTRACE_REC_STATE, family, SSTRACE_TCP_CLOSE,
		     SSTRACE_TCP_SYN_SENT, SSTRACE_EVF_SYN_UNSENT, btf, sk, &owner);
	}

	if (!want_state(entered) && !want_leave(oldstate))
		return;
	/* the timer hook emits it once the port is known */
	if (entered == SSTRACE_TCP_SYN_SENT && cfg_syn_timer)
		return;
	if (entered == SSTRACE_TCP_TIME_WAIT && (flags & SSTRACE_EVF_TW_FIN_WAIT2))
		count(SSTRACE_CNT_TW_FIN_WAIT2);
	emit_tw(tp, cookie, SSTRACE_REC_STATE, family, oldstate, entered, flags, btf, sk, &owner,
		tw_expires);
}

static __always_inline void on_set_state(void *ctx, struct sock *sk, int oldstate, int newstate,
					 __u16 protocol, bool btf)
{
	const struct tcp_sock *tp;
	struct sstrace_sk_owner *so = NULL;
	__u16 family;
	int entered = newstate;
	__u8 flags = 0;
	__u64 tw_expires = 0;
	bool syn_unsent, close_split, rows;

	if (protocol != IPPROTO_TCP)
		return;
	if (btf && cfg_owners)
		so = owners_follow(sk, oldstate, newstate);
	/* Cheap first: most transitions are neither wanted nor one of the special cases. */
	syn_unsent = oldstate == SSTRACE_TCP_SYN_SENT && newstate == SSTRACE_TCP_CLOSE &&
		     cfg_syn_timer;
	close_split = newstate == SSTRACE_TCP_CLOSE &&
		      (oldstate == SSTRACE_TCP_FIN_WAIT2 || oldstate == SSTRACE_TCP_CLOSING) &&
		      cfg_tw_split;
	if (btf && birth(oldstate, newstate))
		stamp_birth(sk);
	/* only a cookie to make, no row: the socket is all it takes (any namespace's: making one
	 * is harmless), not the tcp_sock and filter checks below. Not with metrics, whose counting
	 * the verifier would walk once more for this path. */
	if (!cfg_metrics && btf && cookie_needed_at(newstate) && !want_state(newstate) &&
	    !want_leave(oldstate)) {
		bpf_get_socket_cookie(sk);
		return;
	}
	rows = want_state(newstate) || want_leave(oldstate) || syn_unsent || close_split ||
	       cookie_needed_at(newstate);
	if (!rows && !cfg_metrics)
		return;
	tp = tcp_of(sk, btf);
	if (!tp || !tp_wanted(tp, &family, btf))
		return;
	/* a TIME-WAIT entry is told from a CLOSE here, for the rows and the counters alike */
	if (close_split) {
		if (took_timewait(tp, family, btf, &flags, &tw_expires))
			entered = SSTRACE_TCP_TIME_WAIT;
		else if (KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_err) == 0)
			count(SSTRACE_CNT_TW_NO_TIMER);
	}
	if (rows)
		state_rows(sk, tp, so, family, oldstate, newstate, entered, flags, tw_expires,
			   syn_unsent, btf);
	/* last: see count_metrics() */
	if (cfg_metrics)
		count_metrics(tp, sk, family, oldstate, newstate, entered, btf);
}

/* An event is a socket and its transition. */
static __always_inline __u64 transition(int oldstate, int newstate)
{
	return ((__u64)(oldstate & 0xff) << 48) ^ ((__u64)(newstate & 0xff) << 56);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sst_state, struct sock *sk, int oldstate, int newstate)
{
	nest_first(ctx, SSTRACE_HOOK_STATE, sk, transition(oldstate, newstate));
	on_set_state(ctx, sk, oldstate, newstate, sk->sk_protocol, true);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sst_state_2nd, struct sock *sk, int oldstate, int newstate)
{
	if (!nest_second_takes(ctx, SSTRACE_HOOK_STATE, sk, transition(oldstate, newstate)))
		return 0;
	count(SSTRACE_CNT_NESTED_STATE);
	on_set_state(ctx, sk, oldstate, newstate, sk->sk_protocol, true);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int sst_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	count(SSTRACE_CNT_RUNS_STATE);
	on_set_state(ctx, (struct sock *)ctx->skaddr, ctx->oldstate, ctx->newstate, ctx->protocol,
		     false);
	/* 1: the kernel then hands the hit to the tracepoint's perf events (perf stat, perf record,
	 * sstrace's own hit counter); 0 would hide it from every one of them while sstrace runs */
	return 1;
}
