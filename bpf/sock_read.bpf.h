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

/* The socket's cookie, generated if it has none (tp_btf, when an output uses cookies); otherwise
 * read: 0 if none was made. */
static __always_inline __u64 cookie_of(struct sock *sk, bool btf)
{
	if (btf && cfg_cookies)
		return bpf_get_socket_cookie(sk);
	if (btf)
		return sk->__sk_common.skc_cookie.counter;
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* One atomic add: a program that nests into another on this CPU (a softirq's run interrupting a
 * task's) may count into the same slot, and a plain load-add-store around it would lose one of
 * the two increments. The slot is this CPU's, so the locked add finds its line in the cache. */
static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline bool field(__u32 bit)
{
	return (cfg_fields & bit) != 0;
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
		copy_addr16(saddr, &SKC(tp).skc_v6_rcv_saddr);
		copy_addr16(daddr, &SKC(tp).skc_v6_daddr);
	} else {
		/* explicit sizes: BPF_CORE_READ_INTO on a byte array would copy one byte */
		bpf_core_read(saddr, 16, &SKC(tp).skc_v6_rcv_saddr);
		bpf_core_read(daddr, 16, &SKC(tp).skc_v6_daddr);
	}
}

/* The owner block of a record, when the stream asked for owners (-p, -T): written into `oe`
 * (`owner`, or an empty block), flagged, and counted in hdr.size. Plain records keep their size. */
static __always_inline void put_owner(struct sstrace_owned_event *oe,
				      const struct sstrace_owner *owner)
{
	if (!cfg_owners)
		return;
	if (owner)
		oe->owner = *owner;
	else
		__builtin_memset(&oe->owner, 0, sizeof(oe->owner));
	oe->ev.flags |= SSTRACE_EVF_OWNER;
	oe->ev.hdr.size = sizeof(*oe);
}

/* A record built on the stack, copied into its ring. A global (not inlined) function: the
 * verifier checks it once, not once for every path of its callers; __weak, for the copy in every
 * object that includes this header. `oe` is read whole (the caller zeroes an unused owner
 * block), its owner block copied only when the stream asked for owners. 0, or -1 when the
 * record found no room. */
__weak __noinline int sst_ring_put(const struct sstrace_owned_event *oe)
{
	struct ring_claim c;
	void *slot;

	if (!oe) /* the verifier's view of a global function's pointer */
		return -1;
	slot = ring_claim(&c);
	if (!slot)
		return -1;
	/* constant sizes (cfg_owners is fixed at load: the verifier keeps one branch) */
	if (cfg_owners)
		__builtin_memcpy(slot, oe, sizeof(*oe));
	else
		__builtin_memcpy(slot, &oe->ev, sizeof(oe->ev));
	return ring_commit(&c) ? 0 : -1;
}

/* Runs the filter program on a filled record and queues it, with its owner block when the stream
 * asked for owners: a rejected event never reaches the ring buffer, a full ring is counted. */
static __always_inline void queue_record(struct sstrace_owned_event *oe,
					 const struct sstrace_owner *owner)
{
	if (!filter_accepts(&oe->ev)) {
		count(SSTRACE_CNT_FILTERED);
		return;
	}
	if (cfg_owners)
		put_owner(oe, owner);
	else
		__builtin_memset(&oe->owner, 0, sizeof(oe->owner));
	if (sst_ring_put(oe))
		count(SSTRACE_CNT_LOST);
}

/* ---- Details on event rows (-o -m -i) ----
 *
 * What a sock_diag listing would report for the socket at the moment of the event, computed as
 * the kernel computes it for a dump: the timer as inet_sk_diag_fill() reads it, the memory as
 * sk_get_meminfo(), tcp_info as tcp_get_info(). Only when cfg_details asks: the record then
 * grows by a struct sstrace_details, written straight into the ring buffer (no stack copy). */

/* icsk_pending values (include/net/inet_connection_sock.h) */
#define ICSK_TIME_RETRANS 1
#define ICSK_TIME_PROBE0 3
#define ICSK_TIME_LOSS_PROBE 5
#define ICSK_TIME_REO_TIMEOUT 6
/* tcp_sock.ecn_flags bits */
#define TCP_ECN_OK 1
#define TCP_ECN_SEEN 8
/* uapi TCPI_OPT_* */
#define TCPI_OPT_TIMESTAMPS 1
#define TCPI_OPT_SACK 2
#define TCPI_OPT_WSCALE 4
#define TCPI_OPT_ECN 8
#define TCPI_OPT_ECN_SEEN 16
#define TCPI_OPT_SYN_DATA 32

/* Kernels before 6.14 keep the retransmit timer's expiry in icsk_timeout; later ones read it
 * from the timer itself. */
struct inet_connection_sock___timeout {
	unsigned long icsk_timeout;
} __attribute__((preserve_access_index));

static __always_inline __u64 jiffies_scaled(__u64 j, __u64 per_second)
{
	return CONFIG_HZ ? j * per_second / CONFIG_HZ : 0;
}

/* timer:(...) as inet_sk_diag_fill() reports it. */
static __always_inline void read_timer(struct sstrace_details *d, const struct tcp_sock *tp,
				       bool btf)
{
	__u8 pending = KREAD(btf, tp, inet_conn.icsk_pending);
	__u64 now = bpf_jiffies64();
	unsigned long expires;
	long delta;

	if (bpf_core_field_exists(struct inet_connection_sock___timeout, icsk_timeout))
		expires = BPF_CORE_READ((struct inet_connection_sock___timeout *)tp, icsk_timeout);
	else
		expires = KREAD(btf, tp, inet_conn.icsk_retransmit_timer.expires);
	if (pending == ICSK_TIME_RETRANS || pending == ICSK_TIME_REO_TIMEOUT ||
	    pending == ICSK_TIME_LOSS_PROBE) {
		d->timer_kind = 1;
		d->timer_retrans = KREAD(btf, tp, inet_conn.icsk_retransmits);
	} else if (pending == ICSK_TIME_PROBE0) {
		d->timer_kind = 4;
		d->timer_retrans = KREAD(btf, tp, inet_conn.icsk_probes_out);
	} else if (KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_timer.entry.pprev)) {
		/* timer_pending(&sk->sk_timer): the keepalive timer */
		d->timer_kind = 2;
		d->timer_retrans = KREAD(btf, tp, inet_conn.icsk_probes_out);
		expires = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_timer.expires);
	} else {
		return;
	}
	delta = (long)(expires - now);
	d->timer_ms = delta > 0 ? jiffies_scaled(delta, 1000) : 0;
}

/* A TIME-WAIT entry row stands for the timewait socket: its timer as inet_twsk_diag_fill()
 * reports it, from the expiry the timer hook saw armed (`expires`, jiffies). */
static __always_inline void read_tw_timer(struct sstrace_details *d, __u64 expires)
{
	long delta = (long)(expires - bpf_jiffies64());

	d->timer_kind = 3;
	d->timer_retrans = 0;
	d->timer_ms = delta > 0 ? jiffies_scaled(delta, 1000) : 0;
}

/* skmem:(...) as sk_get_meminfo() reports it. */
static __always_inline void read_skmem(struct sstrace_details *d, const struct tcp_sock *tp,
				       bool btf)
{
	d->skmem[0] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_backlog.rmem_alloc.counter);
	d->skmem[1] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_rcvbuf);
	/* sk_wmem_alloc_get(): the socket holds one reference of its own */
	d->skmem[2] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_wmem_alloc.refs.counter) - 1;
	d->skmem[3] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_sndbuf);
	d->skmem[4] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_forward_alloc);
	d->skmem[5] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_wmem_queued);
	d->skmem[6] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_omem_alloc.counter);
	d->skmem[7] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_backlog.len);
	d->skmem[8] = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_drops.counter);
}

/* A bitfield of struct tcp_sock, named by its path from the socket (`rx_opt.wscale_ok`). The
 * path must start at the socket: the macros add the field's offset, which the compiler counts
 * from the root of the access, to the pointer given (&tp->rx_opt would count rx_opt twice).
 * A probe read in both variants: the direct load reads the whole storage unit. */
#define TP_BITFIELD(btf, tp, path) BPF_CORE_READ_BITFIELD_PROBED(tp, path)

/* tcp_info as tcp_get_info() fills it, for a socket in `state` (the state the row shows). */
static __always_inline void read_tcp_info(struct sstrace_details *d, const struct tcp_sock *tp,
					  int state, bool btf)
{
	struct tcp_info *ti = (struct tcp_info *)d->tcp_info;
	const struct tcp_congestion_ops *ops;
	unsigned long rate;
	__u32 now, rate_delivered, rate_interval, chrono_now;
	__u8 chrono_type;
	__u64 busy = 0, stat;

	ti->tcpi_state = state;
	rate = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_pacing_rate);
	ti->tcpi_pacing_rate = rate != ~0UL ? rate : ~0ULL;
	rate = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_max_pacing_rate);
	ti->tcpi_max_pacing_rate = rate != ~0UL ? rate : ~0ULL;
	ti->tcpi_reordering = KREAD(btf, tp, reordering);
	ti->tcpi_snd_cwnd = KREAD(btf, tp, snd_cwnd);
	ops = KREAD(btf, tp, inet_conn.icsk_ca_ops);
	if (ops)
		bpf_probe_read_kernel_str(d->cong, sizeof(d->cong), &ops->name);
	if (state == SSTRACE_TCP_LISTEN) {
		/* listeners alias these: children ready for accept(), and the backlog */
		ti->tcpi_unacked = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_ack_backlog);
		ti->tcpi_sacked = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_max_ack_backlog);
		return;
	}
	ti->tcpi_ca_state = TP_BITFIELD(btf, tp, inet_conn.icsk_ca_state);
	ti->tcpi_retransmits = KREAD(btf, tp, inet_conn.icsk_retransmits);
	ti->tcpi_probes = KREAD(btf, tp, inet_conn.icsk_probes_out);
	ti->tcpi_backoff = KREAD(btf, tp, inet_conn.icsk_backoff);
	if (TP_BITFIELD(btf, tp, rx_opt.tstamp_ok))
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (TP_BITFIELD(btf, tp, rx_opt.sack_ok))
		ti->tcpi_options |= TCPI_OPT_SACK;
	if (TP_BITFIELD(btf, tp, rx_opt.wscale_ok)) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		/* the uapi layout's byte 6: tcpi_snd_wscale:4, tcpi_rcv_wscale:4. Written as a
		 * byte: a CO-RE bitfield store rewrites the wrong bytes around it */
		d->tcp_info[6] = (TP_BITFIELD(btf, tp, rx_opt.snd_wscale) & 0xf) |
				 (TP_BITFIELD(btf, tp, rx_opt.rcv_wscale) & 0xf) << 4;
	}
	if (KREAD(btf, tp, ecn_flags) & TCP_ECN_OK)
		ti->tcpi_options |= TCPI_OPT_ECN;
	if (KREAD(btf, tp, ecn_flags) & TCP_ECN_SEEN)
		ti->tcpi_options |= TCPI_OPT_ECN_SEEN;
	if (TP_BITFIELD(btf, tp, syn_data_acked))
		ti->tcpi_options |= TCPI_OPT_SYN_DATA;
	ti->tcpi_rto = jiffies_scaled(KREAD(btf, tp, inet_conn.icsk_rto), 1000000);
	{
		/* min(ato, tcp_delack_max()): the delayed-ACK ceiling, the smaller of icsk_delack_max
		 * and the RTO floor less one (a route's rto_min metric is not read) */
		__u32 ato = TP_BITFIELD(btf, tp, inet_conn.icsk_ack.ato);
		__u32 rto_min = KREAD(btf, tp, inet_conn.icsk_rto_min);
		__u32 delack_max = KREAD(btf, tp, inet_conn.icsk_delack_max);

		rto_min = (rto_min > 2 ? rto_min : 2) - 1;
		if (delack_max > rto_min)
			delack_max = rto_min;
		if (ato > delack_max)
			ato = delack_max;
		ti->tcpi_ato = jiffies_scaled(ato, 1000000);
	}
	ti->tcpi_snd_mss = KREAD(btf, tp, mss_cache);
	ti->tcpi_rcv_mss = KREAD(btf, tp, inet_conn.icsk_ack.rcv_mss);
	ti->tcpi_unacked = KREAD(btf, tp, packets_out);
	ti->tcpi_sacked = KREAD(btf, tp, sacked_out);
	ti->tcpi_lost = KREAD(btf, tp, lost_out);
	ti->tcpi_retrans = KREAD(btf, tp, retrans_out);
	now = (__u32)bpf_jiffies64();
	ti->tcpi_last_data_sent = jiffies_scaled((__u32)(now - KREAD(btf, tp, lsndtime)), 1000);
	ti->tcpi_last_data_recv =
		jiffies_scaled((__u32)(now - KREAD(btf, tp, inet_conn.icsk_ack.lrcvtime)), 1000);
	ti->tcpi_last_ack_recv = jiffies_scaled((__u32)(now - KREAD(btf, tp, rcv_tstamp)), 1000);
	ti->tcpi_pmtu = KREAD(btf, tp, inet_conn.icsk_pmtu_cookie);
	ti->tcpi_rcv_ssthresh = KREAD(btf, tp, rcv_ssthresh);
	ti->tcpi_rtt = KREAD(btf, tp, srtt_us) >> 3;
	ti->tcpi_rttvar = KREAD(btf, tp, mdev_us) >> 2;
	ti->tcpi_snd_ssthresh = KREAD(btf, tp, snd_ssthresh);
	ti->tcpi_advmss = KREAD(btf, tp, advmss);
	ti->tcpi_rcv_rtt = KREAD(btf, tp, rcv_rtt_est.rtt_us) >> 3;
	ti->tcpi_rcv_space = KREAD(btf, tp, rcvq_space.space);
	ti->tcpi_total_retrans = KREAD(btf, tp, total_retrans);
	ti->tcpi_bytes_acked = KREAD(btf, tp, bytes_acked);
	ti->tcpi_bytes_received = KREAD(btf, tp, bytes_received);
	{
		int notsent = KREAD(btf, tp, write_seq) - KREAD(btf, tp, snd_nxt);

		ti->tcpi_notsent_bytes = notsent > 0 ? notsent : 0;
	}
	/* tcp_get_info_chrono_stats(): busy, rwnd-limited and sndbuf-limited time */
	chrono_type = KREAD(btf, tp, chrono_type);
	chrono_now = now - KREAD(btf, tp, chrono_start);
	stat = KREAD(btf, tp, chrono_stat[0]) + (chrono_type == 1 ? chrono_now : 0);
	busy += stat;
	stat = KREAD(btf, tp, chrono_stat[1]) + (chrono_type == 2 ? chrono_now : 0);
	busy += stat;
	ti->tcpi_rwnd_limited = jiffies_scaled(stat, 1000000);
	stat = KREAD(btf, tp, chrono_stat[2]) + (chrono_type == 3 ? chrono_now : 0);
	busy += stat;
	ti->tcpi_sndbuf_limited = jiffies_scaled(stat, 1000000);
	ti->tcpi_busy_time = jiffies_scaled(busy, 1000000);
	ti->tcpi_segs_out = KREAD(btf, tp, segs_out);
	ti->tcpi_segs_in = KREAD(btf, tp, segs_in);
	ti->tcpi_data_segs_in = KREAD(btf, tp, data_segs_in);
	ti->tcpi_min_rtt = KREAD(btf, tp, rtt_min.s[0].v);
	ti->tcpi_data_segs_out = KREAD(btf, tp, data_segs_out);
	/* byte 7: tcpi_delivery_rate_app_limited:1, tcpi_fastopen_client_fail:2 */
	d->tcp_info[7] = (TP_BITFIELD(btf, tp, rate_app_limited) ? 1 : 0) |
			 (TP_BITFIELD(btf, tp, fastopen_client_fail) & 3) << 1;
	rate_delivered = KREAD(btf, tp, rate_delivered);
	rate_interval = KREAD(btf, tp, rate_interval_us);
	if (rate_delivered && rate_interval)
		ti->tcpi_delivery_rate = (__u64)rate_delivered * KREAD(btf, tp, mss_cache) *
					 1000000 / rate_interval;
	ti->tcpi_delivered = KREAD(btf, tp, delivered);
	ti->tcpi_delivered_ce = KREAD(btf, tp, delivered_ce);
	ti->tcpi_bytes_sent = KREAD(btf, tp, bytes_sent);
	ti->tcpi_bytes_retrans = KREAD(btf, tp, bytes_retrans);
	ti->tcpi_dsack_dups = KREAD(btf, tp, dsack_dups);
	ti->tcpi_reord_seen = KREAD(btf, tp, reord_seen);
	ti->tcpi_rcv_ooopack = KREAD(btf, tp, rcv_ooopack);
	ti->tcpi_snd_wnd = KREAD(btf, tp, snd_wnd);
}

/* The details tail of a record filled in its slot (after the owner block, when the stream asks
 * for owners too: [event][owner][details]). `state`: the state the row shows; `sk`: the socket
 * as a trusted pointer for its storage (NULL where the caller has none: the timer hook's
 * SYN-SENT rows, which are no socket's end anyway). */
static __always_inline void put_details(struct sstrace_owned_event *oe, const struct tcp_sock *tp,
					struct sock *sk, int state, bool btf, __u64 tw_expires)
{
	struct sstrace_event *e = &oe->ev;
	struct sstrace_details *d;

	e->flags |= SSTRACE_EVF_DETAILS;
	/* constant offsets, one per layout (cfg_owners is fixed at load: the verifier keeps one
	 * branch) */
	if (cfg_owners) {
		e->hdr.size = sizeof(*oe) + sizeof(*d);
		d = (void *)oe + sizeof(*oe);
	} else {
		e->hdr.size = sizeof(*e) + sizeof(*d);
		d = (void *)oe + sizeof(*e);
	}
	__builtin_memset(d, 0, sizeof(*d));
	d->what = cfg_details;
	/* a destroyed socket has no timer left (ss -E shows none) */
	if ((cfg_details & SSTRACE_DETAIL_TIMER) && e->hdr.type != SSTRACE_REC_DESTROY) {
		if (state == SSTRACE_TCP_TIME_WAIT)
			read_tw_timer(d, tw_expires);
		else
			read_timer(d, tp, btf);
	}
	if (cfg_details & SSTRACE_DETAIL_SKMEM)
		read_skmem(d, tp, btf);
	if (cfg_details & SSTRACE_DETAIL_SHUTDOWN)
		d->shutdown = KREAD(btf, tp, inet_conn.icsk_inet.sk.sk_shutdown);
	if (cfg_details & SSTRACE_DETAIL_TCPINFO)
		read_tcp_info(d, tp, state, btf);
	if ((cfg_details & SSTRACE_DETAIL_LIFETIME) && btf && sk) {
		struct born_val *b = bpf_sk_storage_get(&born, sk, NULL, 0);

		if (b)
			d->born_ns = b->ns;
	}
}

/*
 * Fills one record in its ring's next slot, runs the filter program, and publishes it (with
 * `owner`, or an empty owner block, when the stream asked for owners; with the details tail,
 * read from `tp` and `sk`, when it asked for details; a TIME-WAIT entry's timer from
 * `tw_expires`, the timewait timer's expiry in jiffies). `cookie` is the socket's cookie as the
 * caller could obtain it (tp_btf programs generate one when the socket has none: the timewait
 * socket inherits it, and ss -e then shows the same sk: value). A rejected event is never
 * published; an accepted one that found its ring full (it was filled in a scratch slot) is
 * counted lost, and so is any event of a CPU with no ring for it (one online after the start,
 * a write nested deeper than the last level), without the filter.
 */
static __always_inline void emit_tw(const struct tcp_sock *tp, __u64 cookie, __u16 type,
				    __u16 family, int oldstate, int newstate, __u8 flags, bool btf,
				    struct sock *sk, const struct sstrace_owner *owner,
				    __u64 tw_expires)
{
	struct sstrace_owned_event *oe;
	struct sstrace_event *e;
	struct ring_claim c;

	/* filled in place: no copy of it on the stack */
	oe = ring_claim(&c);
	if (!oe) {
		count(SSTRACE_CNT_LOST);
		return;
	}
	e = &oe->ev;
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

	if (!filter_accepts(e)) {
		count(SSTRACE_CNT_FILTERED);
		ring_abandon(&c);
		return;
	}
	put_owner(oe, owner);
	if (cfg_details)
		put_details(oe, tp, sk, type == SSTRACE_REC_DESTROY ? oldstate : newstate, btf,
			    tw_expires);
	if (!ring_commit(&c))
		count(SSTRACE_CNT_LOST);
}

/* emit_tw() for every row that is no TIME-WAIT entry. */
static __always_inline void emit(const struct tcp_sock *tp, __u64 cookie, __u16 type,
				 __u16 family, int oldstate, int newstate, __u8 flags, bool btf,
				 struct sock *sk, const struct sstrace_owner *owner)
{
	emit_tw(tp, cookie, type, family, oldstate, newstate, flags, btf, sk, owner, 0);
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
static __always_inline __u32 ctx_level(void *ctx, struct task_struct *t)
{
	void *stack = t->stack;

	/* a privileged program may compare pointers (it may not subtract them) */
	return ctx >= stack && ctx < stack + SSTRACE_TASK_STACK_SIZE ? 0 : 1;
}

static __always_inline struct sstrace_nest_slot *nest_slot(void *ctx, __u32 hook)
{
	struct nest_state *n;
	__u32 zero = 0, level, i;

	level = ctx_level(ctx, bpf_get_current_task_btf());
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

/* First copy: the event (object, detail) is being handled; one more run of the first copy. */
static __always_inline void nest_first(void *ctx, __u32 hook, const void *object, __u64 detail)
{
	struct sstrace_nest_slot *m = nest_slot(ctx, hook);

	if (m) {
		m->object = (__u64)object;
		m->detail = detail;
		m->runs++;
	}
	if (cfg_test_spin)
		bpf_loop(cfg_test_spin, spin_step, NULL, 0);
}

/* Second copy: true when the first copy did not see this event (the kernel skipped it). */
static __always_inline bool nest_second_takes(void *ctx, __u32 hook, const void *object,
					      __u64 detail)
{
	struct sstrace_nest_slot *m = nest_slot(ctx, hook);

	if (!m)
		return false;
	if (m->object == (__u64)object && m->detail == detail) {
		m->object = 0;
		return false;
	}
	return true;
}

#endif /* SSTRACE_SOCK_READ_BPF_H */
