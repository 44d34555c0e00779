// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP state entries: the inet_sock_set_state tracepoint.
 *
 * Two inferred states:
 *  - TIME-WAIT is never reported by the tracepoint: tcp_time_wait() hands the connection to a
 *    timewait socket, arms its timer (timer.bpf.c records the tuple in the running task's
 *    hand-over slot, map tw_pending) and moves the full socket to CLOSE. A FIN-WAIT-2/CLOSING ->
 *    CLOSE that finds its tuple there is the TIME-WAIT entry; one that does not got no timewait
 *    socket (tcp_max_tw_buckets full).
 *  - SYN-SENT is entered before connect() picks the local port: its row is emitted when
 *    tcp_connect() arms the SYN's retransmit timer (timer.bpf.c), except for a connect() that
 *    fails before that (then here, at SYN-SENT -> CLOSE).
 *
 * Each program exists as a tp_btf pair (first and second copy, see sock_read.bpf.h) and as a
 * classic tracepoint program for kernels without usable BTF tracing.
 */
#include "sock_read.bpf.h"
#include "metrics.bpf.h"

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

/* Was this FIN-WAIT-2/CLOSING -> CLOSE the hand-over to a timewait socket? `expires`: its
 * timer's expiry (jiffies; with -o only). */
static __always_inline bool took_timewait(void *ctx, const struct tcp_sock *tp, __u16 family,
					  bool btf, __u8 *flags, __u64 *expires)
{
	struct tw_key k = {};
	struct tw_handover *h = tw_slot(ctx, btf, false);

	if (!h || !h->pending)
		return false;
	tp_tw_key(tp, family, btf, &k);
	if (!tw_key_equal(&h->k, &k) || bpf_jiffies64() - h->armed > TW_HANDOVER_MAX_JIFFIES)
		return false;
	h->pending = 0;
	if (h->substate == SSTRACE_TCP_FIN_WAIT2)
		*flags |= SSTRACE_EVF_TW_FIN_WAIT2;
	if (cfg_details & SSTRACE_DETAIL_TIMER)
		*expires = h->expires;
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
		      cfg_tw_handover;
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
		if (took_timewait(ctx, tp, family, btf, &flags, &tw_expires))
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
