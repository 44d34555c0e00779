// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP table of a listing, from the kernel's TCP iterator: one struct sstrace_iter_tcp per
 * socket, written into the iterator's seq_file, with the values an inet_diag dump would have put
 * in its message (net/ipv4/inet_diag.c, tcp_diag.c). The iterator walks the listening hash
 * (lhash2) and then the established hash bucket by bucket, in the order inet_diag dumps them,
 * over every socket of the network namespace the reader was in when it created the iterator.
 * inet_diag dumps one family per request (ss asks for AF_INET, then AF_INET6); a walk reports the
 * families userspace asks for (walk_families, which it may narrow during the walk) and counts
 * the sockets of the others.
 */
#include "iter.bpf.h"
#include "filter.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TCP_TIME_WAIT 6
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

/* The states to report, a bit per state as in inet_diag's idiag_states; a request socket
 * (TCP_NEW_SYN_RECV) is reported when SYN_RECV is asked for, as inet_diag does. */
const volatile __u32 cfg_states = 0;
/* SSTRACE_ITER_F_* bits: what to read besides the columns every row has. */
const volatile __u32 cfg_fields = 0;

/* A necessary condition of the filter program on the ports (filter::port_prefilter()): a
 * socket outside these inclusive ranges is one the program would reject, so it is rejected with
 * a few compares on its first cache line before anything else of it is read. cfg_pf_on = 0: no
 * such condition. */
const volatile __u32 cfg_pf_on = 0;
const volatile __u32 cfg_pf_sport_min = 0;
const volatile __u32 cfg_pf_sport_max = 0xffff;
const volatile __u32 cfg_pf_dport_min = 0;
const volatile __u32 cfg_pf_dport_max = 0xffff;

/* Set by userspace before and during a walk: SSTRACE_ITER_WALK_* bits of the families to
 * report. */
__u32 walk_families = 0;
/* Sockets of the families not reported that the walk passed over (state and filter not
 * applied). */
__u64 walk_skipped = 0;
/* Sockets of the reported families and states that the filter program rejected. */
__u64 walk_rejected = 0;
/* Sockets of the reported families (any state) whose ports the prefilter rejected. */
__u64 walk_prefiltered = 0;

/* The state inet_diag reports, and whether the request asks for it. */
static __always_inline bool state_wanted(__u8 state)
{
	__u32 mask = cfg_states;

	if (mask & (1u << SSTRACE_TCP_SYN_RECV))
		mask |= 1u << TCP_NEW_SYN_RECV;
	return state < 32 && (mask & (1u << state));
}

/* inet_diag_msg_common_fill(): addresses of any of the three kinds, from sock_common. */
static __always_inline void common_fill(const struct sock_common *skc, struct sstrace_iter_tcp *r)
{
	if (r->family == AF_INET) {
		/* 4-byte fields: never read 16 bytes from them */
		*(__u32 *)r->saddr = skc->skc_rcv_saddr;
		*(__u32 *)r->daddr = skc->skc_daddr;
	} else {
		copy_addr16(r->saddr, &skc->skc_v6_rcv_saddr);
		copy_addr16(r->daddr, &skc->skc_v6_daddr);
	}
	r->sport = skc->skc_num;
	r->dport = bpf_ntohs(skc->skc_dport);
	r->ifindex = skc->skc_bound_dev_if;
}

/* The inode sock_i_ino() reports: 0 once the socket has no file. Kernels with sk_ino (6.17+)
 * keep it in the sock; older ones have it only in the file's inode, next to struct socket. */
static __always_inline __u64 full_inode(const struct sock *sk)
{
	struct socket *sock;
	struct socket_alloc *sa;

	if (bpf_core_field_exists(sk->sk_ino))
		return BPF_CORE_READ(sk, sk_ino);
	sock = sk->sk_socket;
	if (!sock)
		return 0;
	sa = (void *)sock - bpf_core_field_offset(struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* A full socket: what inet_sk_diag_fill() and tcp_diag_get_info() report. */
static __always_inline bool field(__u32 bit)
{
	return (cfg_fields & bit) != 0;
}

static __always_inline void full_fill(struct tcp_sock *tp, struct sstrace_iter_tcp *r)
{
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;

	if (r->state == TCP_LISTEN) {
		r->rqueue = sk->sk_ack_backlog;
		r->wqueue = sk->sk_max_ack_backlog;
	} else {
		int unread = tp->rcv_nxt - tp->copied_seq;

		r->rqueue = unread > 0 ? unread : 0;
		r->wqueue = tp->write_seq - tp->snd_una;
	}
	/* INET_DIAG_SKV6ONLY: sent for AF_INET6 sockets in LISTEN and CLOSE only; ss prints the
	 * wildcard addresses of such a socket by it ([::] or *) */
	if (r->family == AF_INET6 && (r->state == TCP_LISTEN || r->state == SSTRACE_TCP_CLOSE)) {
		r->flags |= SSTRACE_ITF_V6ONLY_SET;
		if (BPF_CORE_READ_BITFIELD(&sk->__sk_common, skc_ipv6only))
			r->flags |= SSTRACE_ITF_V6ONLY;
	}
	if (field(SSTRACE_ITER_F_INODE))
		r->inode = full_inode(sk);
	if (field(SSTRACE_ITER_F_MARKS)) {
		r->mark = sk->sk_mark;
		r->cgroup_id = sk->sk_cgrp_data.cgroup->kn->id;
		r->flags |= SSTRACE_ITF_CGROUP;
	}
	if (field(SSTRACE_ITER_F_IDS)) {
		r->cookie = bpf_get_socket_cookie(sk);
		r->uid = sk->sk_uid.val;
		r->shutdown = BPF_CORE_READ_BITFIELD(sk, sk_shutdown);
		r->flags |= SSTRACE_ITF_SHUTDOWN;
	}
}

/* The filter program's view (inet_diag_bc_sk()): userlocks and the cgroup only for full sockets,
 * the mark of whichever kind the socket is. */
static __always_inline bool filter_accepts(const struct sstrace_iter_tcp *r, __u8 userlocks)
{
	struct bc_entry be = {};

	__builtin_memcpy(be.saddr, r->saddr, sizeof(be.saddr));
	__builtin_memcpy(be.daddr, r->daddr, sizeof(be.daddr));
	be.sport = r->sport;
	be.dport = r->dport;
	be.family = r->family;
	be.ifindex = r->ifindex;
	be.userlocks = userlocks;
	be.mark = r->mark;
	be.cgroup_id = r->cgroup_id;
	return bc_accepts(&be);
}

SEC("iter/tcp")
int sst_iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sstrace_iter_tcp r = {};
	__u8 userlocks = 0;
	__u32 bit;
	__u8 family;

	if (!skc)
		return 0;
	family = skc->skc_family;
	bit = family == AF_INET ? SSTRACE_ITER_WALK_INET : SSTRACE_ITER_WALK_INET6;
	if (!(walk_families & bit)) {
		walk_skipped++;
		return 0;
	}
	if (cfg_pf_on) {
		__u32 sport = skc->skc_num;
		__u32 dport = bpf_ntohs(skc->skc_dport);

		if (sport < cfg_pf_sport_min || sport > cfg_pf_sport_max ||
		    dport < cfg_pf_dport_min || dport > cfg_pf_dport_max) {
			walk_prefiltered++;
			return 0;
		}
	}
	r.family = family;
	r.state = skc->skc_state;
	if (r.state == TCP_TIME_WAIT) {
		struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(skc);

		if (!tw)
			return 0;
		r.kind = SSTRACE_ITER_TIMEWAIT;
		r.state = tw->tw_sk.tw_substate;
		if (!state_wanted(r.state))
			return 0;
		if (field(SSTRACE_ITER_F_MARKS))
			r.mark = tw->tw_sk.tw_mark;
		if (field(SSTRACE_ITER_F_IDS))
			r.cookie = bpf_get_socket_cookie(skc);
	} else if (r.state == TCP_NEW_SYN_RECV) {
		struct tcp_request_sock *req = bpf_skc_to_tcp_request_sock(skc);

		if (!req || !state_wanted(r.state))
			return 0;
		r.kind = SSTRACE_ITER_REQUEST;
		r.state = SSTRACE_TCP_SYN_RECV;
		if (field(SSTRACE_ITER_F_MARKS))
			r.mark = req->req.ir_mark;
		if (field(SSTRACE_ITER_F_IDS))
			r.cookie = bpf_get_socket_cookie(skc);
	} else {
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);

		if (!tp || !state_wanted(r.state))
			return 0;
		r.kind = SSTRACE_ITER_FULL;
		full_fill(tp, &r);
		if (cfg_filter_len) {
			struct sock *sk = &tp->inet_conn.icsk_inet.sk;

			userlocks = BPF_CORE_READ_BITFIELD(sk, sk_userlocks);
		}
	}
	common_fill(skc, &r);
	if (cfg_filter_len && !filter_accepts(&r, userlocks)) {
		walk_rejected++;
		return 0;
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
