// SPDX-License-Identifier: GPL-2.0-only
/*
 * The timer_start tracepoint, for two timers:
 *  - tcp_write_timer: the first arming of a SYN-SENT socket's retransmit timer (tcp_connect(),
 *    icsk_retransmits still 0) is the moment its SYN leaves, with the local port chosen: emit its
 *    SYN-SENT row now.
 *  - tw_timer_handler (tp_btf, TIME-WAIT ends only): a timewait socket's timer re-armed.
 * timer_start fires for every kernel timer: comparing the callback is the first and only work
 * for all others. A tp_btf program and a classic tracepoint program, attached only for SYN-SENT
 * rows and TIME-WAIT ends (a TIME-WAIT entry is found in the established hash, state.bpf.c).
 *
 * And the timer_cancel and timer_expire_entry tracepoints (tp_btf only), for the end of a
 * TIME-WAIT: the kernel detaches (cancels) a timer before it runs it (then timer_expire_entry: an
 * expiry), when it deletes it (an early end: the tuple reused, an RST, a netns going away) and
 * when it re-arms it (then timer_start on the same CPU under the same lock: not an end).
 */
#include "sock_read.bpf.h"
#include "timewait.bpf.h"

/* A socket reached from a timer's address has no BTF type the verifier knows: retype it (a no-op
 * at run time; loads through it are fault-safe). Declared in this file only: libbpf 1.1's linker
 * cannot link one extern function declared in several objects. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* A timer_start this soon after a cancel of the same timer on the same CPU is its re-arm (both
 * happen in one __mod_timer() call, microseconds apart). */
#define TW_REARM_MAX_NS 1000000ull

/* The timewait socket a tw_timer belongs to, and its connection (tp_btf programs only). False
 * when the stream does not follow its family or namespace. */
static __always_inline bool tw_read(void *timer, struct inet_timewait_sock **twp, struct tw_key *k)
{
	struct inet_timewait_sock *tw;

	tw = (void *)timer - bpf_core_field_offset(struct inet_timewait_sock, tw_timer);
	tw = bpf_rdonly_cast(tw, bpf_core_type_id_kernel(struct inet_timewait_sock));
	*twp = tw;
	k->family = tw->__tw_common.skc_family;
	if (k->family != AF_INET && k->family != AF_INET6)
		return false;
	if (cfg_family && k->family != cfg_family)
		return false;
	k->netns_ino = tw->__tw_common.skc_net.net->ns.inum;
	if (cfg_netns_ino && k->netns_ino != cfg_netns_ino)
		return false;
	if (k->family == AF_INET) {
		*(__u32 *)k->saddr = tw->__tw_common.skc_rcv_saddr;
		*(__u32 *)k->daddr = tw->__tw_common.skc_daddr;
	} else {
		copy_addr16(k->saddr, &tw->__tw_common.skc_v6_rcv_saddr);
		copy_addr16(k->daddr, &tw->__tw_common.skc_v6_daddr);
	}
	k->sport = tw->tw_sport;
	k->dport = tw->__tw_common.skc_dport;
	return true;
}

/* A SSTRACE_REC_TW_END record of a timewait socket (tp_btf programs only). */
static __always_inline void emit_tw_end(struct inet_timewait_sock *tw, const struct tw_key *k,
					__u64 cookie, __u8 how)
{
	struct sstrace_owned_event oe;
	struct sstrace_event ev = {};

	ev.hdr.type = SSTRACE_REC_TW_END;
	ev.hdr.size = sizeof(ev);
	ev.hdr.cpu = bpf_get_smp_processor_id();
	ev.hdr.ts_ns = bpf_ktime_get_ns();
	ev.cookie = cookie;
	copy_addr16(ev.saddr, k->saddr);
	copy_addr16(ev.daddr, k->daddr);
	ev.sport = bpf_ntohs(k->sport);
	ev.dport = bpf_ntohs(k->dport);
	ev.family = k->family;
	ev.protocol = IPPROTO_TCP;
	ev.oldstate = SSTRACE_TCP_TIME_WAIT;
	ev.reason = how;
	if (tw->tw_substate == SSTRACE_TCP_FIN_WAIT2)
		ev.flags |= SSTRACE_EVF_TW_FIN_WAIT2;
	ev.netns_ino = k->netns_ino;
	oe.ev = ev;
	/* a timewait socket has no socket storage: its owner block stays empty */
	queue_record(&oe, NULL);
}

/* A timewait timer armed right after a cancel of the same timer on this CPU: a re-arm, reported
 * as the end of the cancelled one (tp_btf, TIME-WAIT ends only). */
static __always_inline void on_tw_timer(void *timer)
{
	struct inet_timewait_sock *tw;
	struct tw_key k = {};
	__u32 zero = 0;
	struct tw_cancel_mark *m;
	__u64 cookie;

	if (!tw_read(timer, &tw, &k))
		return;
	m = bpf_map_lookup_elem(&tw_cancels, &zero);
	cookie = tw->__tw_common.skc_cookie.counter;
	if (m && m->timer == timer) {
		if (m->cookie == cookie && bpf_ktime_get_ns() - m->ts_ns < TW_REARM_MAX_NS)
			emit_tw_end(tw, &k, cookie, SSTRACE_TWEND_REARMED);
		m->timer = 0;
	}
}

static __always_inline void on_write_timer(void *timer, bool btf)
{
	const struct tcp_sock *tp;
	struct sstrace_owner owner, *o;
	bool owned = false;
	__u16 family;
	__u64 cookie, key;

	tp = (void *)timer - bpf_core_field_offset(struct inet_connection_sock,
						   icsk_retransmit_timer);
	if (btf)
		tp = bpf_rdonly_cast(tp, bpf_core_type_id_kernel(struct tcp_sock));
	/* this timer is armed on nearly every send: the state is the first test */
	if (KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_state) != SSTRACE_TCP_SYN_SENT)
		return;
	if (KREAD(btf, tp, inet_conn.icsk_retransmits) != 0)
		return; /* a SYN retransmission re-arms it */
	if (!tp_wanted(tp, &family, btf))
		return;
	/* a BTF socket pointer cannot be derived from a timer's address, so the cookie is read,
	 * not generated: state.bpf.c generated it at CLOSE -> SYN-SENT */
	if (btf)
		cookie = SKC(tp).skc_cookie.counter;
	else
		cookie = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter);
	/* the owner the state hook left at CLOSE -> SYN-SENT, in the same connect() */
	if (btf && cfg_owners) {
		key = (__u64)tp;
		o = bpf_map_lookup_elem(&syn_owner, &key);
		if (o) {
			owner = *o;
			owned = true;
			bpf_map_delete_elem(&syn_owner, &key);
		}
	}
	emit(tp, cookie, SSTRACE_REC_STATE, family, SSTRACE_TCP_CLOSE, SSTRACE_TCP_SYN_SENT, 0,
	     btf, NULL, owned ? &owner : NULL);
}

/* The callbacks' addresses. tp_btf programs take them from the kernel's BTF (ld_imm64 of a
 * function's BTF id, which the verifier resolves: no /proc/kallsyms, no CAP_SYSLOG); the
 * classic variant takes tcp_write_timer's from configuration (userspace read /proc/kallsyms,
 * zero when unknown). */
extern void tw_timer_handler(struct timer_list *t) __ksym;
extern void tcp_write_timer(struct timer_list *t) __ksym;

static __always_inline __u64 write_fn(bool btf)
{
	return btf ? (__u64)&tcp_write_timer : cfg_write_timer_fn;
}

/* Every timer of the kernel passes here: for all but the two, comparing the callback with the
 * addresses the stream uses is the whole run (the configuration is a constant: the verifier
 * drops the compares of an unused callback). */
static __always_inline void on_timer_start(void *timer, __u64 fn, bool btf)
{
	/* the classic variant's cfg_syn_timer is set only with tcp_write_timer's address known */
	if (cfg_syn_timer && fn == write_fn(btf))
		on_write_timer(timer, btf);
	else if (btf && cfg_tw_end && fn == (__u64)&tw_timer_handler)
		on_tw_timer(timer);
}

/* One program: timer_start fires with interrupts disabled (under the timer base lock), so no
 * event nests into a run of it and the kernel never skips it (recursion_misses says so). */
SEC("tp_btf/timer_start")
int BPF_PROG(sst_timer, struct timer_list *timer)
{
	on_timer_start(timer, (__u64)timer->function, true);
	return 0;
}

SEC("tracepoint/timer/timer_start")
int sst_timer_tp(struct trace_event_raw_timer_start *ctx)
{
	on_timer_start(ctx->timer, (__u64)ctx->function, false);
	/* 1: the kernel then hands the hit to the tracepoint's perf events (perf stat, perf record,
	 * sstrace's own hit counter); 0 would hide it from every one of them while sstrace runs */
	return 1;
}

/* timer_cancel, like timer_start, fires under the timer base lock with interrupts disabled:
 * nothing nests into a run of it. Every end of a timewait socket passes here: an expiry
 * (followed at once by timer_expire_entry on this CPU), a re-arm (followed at once by
 * timer_start on this CPU) or a kill (followed by neither): the cancel is reported at once and
 * userspace tells them apart by what follows. */
SEC("tp_btf/timer_cancel")
int BPF_PROG(sst_tw_cancel, struct timer_list *timer)
{
	struct inet_timewait_sock *tw;
	struct tw_key k = {};
	__u64 cookie;
	__u32 zero = 0;
	struct tw_cancel_mark *m;

	if (!cfg_tw_end || (__u64)timer->function != (__u64)&tw_timer_handler)
		return 0;
	if (!tw_read(timer, &tw, &k))
		return 0;
	cookie = tw->__tw_common.skc_cookie.counter;
	emit_tw_end(tw, &k, cookie, SSTRACE_TWEND_CANCELLED);
	m = bpf_map_lookup_elem(&tw_cancels, &zero);
	if (m) {
		m->timer = timer;
		m->cookie = cookie;
		m->ts_ns = bpf_ktime_get_ns();
	}
	return 0;
}

/* The timer runs: the cancel just before it on this CPU was its expiry. */
SEC("tp_btf/timer_expire_entry")
int BPF_PROG(sst_tw_expire, struct timer_list *timer)
{
	struct inet_timewait_sock *tw;
	struct tw_key k = {};

	if (!cfg_tw_end || (__u64)timer->function != (__u64)&tw_timer_handler)
		return 0;
	if (!tw_read(timer, &tw, &k))
		return 0;
	emit_tw_end(tw, &k, tw->__tw_common.skc_cookie.counter, SSTRACE_TWEND_EXPIRED);
	return 0;
}

/* The namespace's established hash. Some kernels around 6.0 held the death row through a
 * pointer (earlier and later ones embed it): the flavour below reads that layout. Whether the
 * flavour's pointer member exists in this kernel (a constant after relocation: a struct member
 * does not match it) leaves the verifier only the branch this kernel's layout resolves; the
 * other branch's relocation fails, harmlessly, in dead code. (The member's size cannot tell:
 * its relocation fails on the other layout too.) */
struct netns_ipv4___twdr_ptr {
	struct inet_timewait_death_row *tcp_death_row;
} __attribute__((preserve_access_index));

struct net___twdr_ptr {
	struct netns_ipv4___twdr_ptr ipv4;
} __attribute__((preserve_access_index));

/* A kernel object the walk reaches from a number: typed for plain loads (tp_btf: a bpf_rdonly_cast()
 * pointer, whose loads cannot fault), or the bare address for KREAD's probe reads (classic). */
#define TW_OBJ(btf, type, addr)                                                                   \
	((btf) ? (type *)bpf_rdonly_cast((void *)(addr), bpf_core_type_id_kernel(type)) :           \
		 (type *)(addr))

/* The namespace's established hash table. */
static __always_inline struct inet_hashinfo *tw_table(__u64 net_addr, bool btf)
{
	struct net *net = TW_OBJ(btf, struct net, net_addr);

	if (bpf_core_field_exists(struct netns_ipv4___twdr_ptr, tcp_death_row))
		return BPF_CORE_READ((struct net___twdr_ptr *)net, ipv4.tcp_death_row, hashinfo);
	return KREAD(btf, net, ipv4.tcp_death_row.hashinfo);
}

/* The walk of the connection's chain in the established hash, for a timewait socket of the same
 * connection (state.bpf.c, took_timewait()). The chain's links are probe reads in both variants:
 * a link is a pointer or a "nulls" marker (an odd number), and only a number can be tested for
 * that. The tp_btf walk loads the rest directly: probe reads cost most of a TIME-WAIT entry's run
 * (doc/events.md section 3). */
static __always_inline int tw_walk(const struct tw_probe *p, struct tw_found *out, bool btf)
{
	struct inet_hashinfo *hi;
	struct inet_ehash_bucket *eh;
	struct sock_common *sc;
	__u64 n, bucket;
	int i;

	if (!p || !out)
		return TW_LOOKUP_NONE;
	hi = tw_table(p->net, btf);
	if (!hi)
		return TW_LOOKUP_NONE;
	hi = TW_OBJ(btf, struct inet_hashinfo, hi);
	bucket = (__u64)KREAD(btf, hi, ehash) + (__u64)(p->hash & KREAD(btf, hi, ehash_mask)) *
						     bpf_core_type_size(struct inet_ehash_bucket);
	eh = (struct inet_ehash_bucket *)bucket;
	bpf_core_read(&n, sizeof(n), &eh->chain.first);
	for (i = 0; i < TW_CHAIN_MAX; i++) {
		/* a chain ends in a "nulls" marker: an odd value */
		if (!n || (n & 1))
			return TW_LOOKUP_NONE;
		sc = TW_OBJ(btf, struct sock_common,
			    n - bpf_core_field_offset(struct sock_common, skc_nulls_node));
		if (KREAD(btf, sc, skc_state) == SSTRACE_TCP_TIME_WAIT &&
		    KREAD(btf, sc, skc_portpair) == p->portpair &&
		    KREAD(btf, sc, skc_family) == p->family &&
		    (__u64)KREAD(btf, sc, skc_net.net) == p->net) {
			struct inet_timewait_sock *tw;
			__u64 a[2], b[2];
			bool same;

			if (p->family == AF_INET) {
				same = KREAD(btf, sc, skc_addrpair) == p->addrpair;
			} else {
				if (btf) {
					copy_addr16(a, &sc->skc_v6_daddr);
					copy_addr16(b, &sc->skc_v6_rcv_saddr);
				} else {
					bpf_core_read(a, sizeof(a), &sc->skc_v6_daddr);
					bpf_core_read(b, sizeof(b), &sc->skc_v6_rcv_saddr);
				}
				same = ((a[0] ^ p->v6_daddr[0]) | (a[1] ^ p->v6_daddr[1]) |
					(b[0] ^ p->v6_saddr[0]) | (b[1] ^ p->v6_saddr[1])) == 0;
			}
			if (same) {
				tw = TW_OBJ(btf, struct inet_timewait_sock, sc);
				out->substate = KREAD(btf, tw, tw_substate);
				if (cfg_details & SSTRACE_DETAIL_TIMER)
					out->expires = KREAD(btf, tw, tw_timer.expires);
				return TW_LOOKUP_FOUND;
			}
		}
		bpf_core_read(&n, sizeof(n), &sc->skc_nulls_node.next);
	}
	return (n & 1) ? TW_LOOKUP_NONE : TW_LOOKUP_CUT_SHORT;
}

/* Global (not inlined) functions: the verifier checks the walk once, not once per path of each
 * program that calls it. */
__noinline int sst_timewait_lookup_btf(const struct tw_probe *p, struct tw_found *out)
{
	return tw_walk(p, out, true);
}

__noinline int sst_timewait_lookup(const struct tw_probe *p, struct tw_found *out)
{
	return tw_walk(p, out, false);
}
