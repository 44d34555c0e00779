/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel/user record layout: THE one definition shared by the BPF programs (bpf/) and the
 * userspace decoder (src/). Fixed-width fields only, explicit padding, sizes checked on both
 * sides. Editing this file rebuilds the BPF object (the build tracks it through a depfile).
 */
#ifndef SSTRACE_ABI_EVENTS_H
#define SSTRACE_ABI_EVENTS_H

#if !defined(__bpf__)
#include <linux/types.h>
#endif

#ifdef __cplusplus
#define SSTRACE_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SSTRACE_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Bumped whenever a record layout or a configuration meaning changes incompatibly. Records may
 * grow at their end without a bump: readers accept a record at least as long as the layout they
 * know (hdr.size) and ignore the rest. 6: timewait-end records. 7: an optional details tail
 * (struct sstrace_details, flagged by SSTRACE_EVF_DETAILS). 8: the owner block is flagged
 * (SSTRACE_EVF_OWNER) and the two optional tails have a fixed order:
 *
 *   [struct sstrace_event][struct sstrace_owner if EVF_OWNER][struct sstrace_details if EVF_DETAILS]
 *
 * (sstrace_tail_offsets() below computes where each starts). */
#define SSTRACE_ABI_VERSION 8

/* Record types (values of sstrace_hdr.type). */
#define SSTRACE_REC_STATE 1   /* a TCP socket entered a state (sstrace -E state ...) */
#define SSTRACE_REC_DESTROY 2 /* a TCP socket was destroyed (sstrace -E, like ss -E) */
/* A timewait socket's timer expired, or was cancelled or re-armed (reason = SSTRACE_TWEND_*):
 * the end of a TIME-WAIT, which no TCP tracepoint reports. The record is a sstrace_event of the
 * timewait socket (oldstate TIME_WAIT, newstate 0, SSTRACE_EVF_TW_FIN_WAIT2 for that substate). */
#define SSTRACE_REC_TW_END 3

/* sstrace_event.reason of a SSTRACE_REC_TW_END record */
#define SSTRACE_TWEND_EXPIRED 1   /* the timer runs: the TIME-WAIT ended after its full length */
#define SSTRACE_TWEND_CANCELLED 2 /* the timer was detached: an early end (tuple reused, RST, SYN
				   * accepted, netns gone, ss -K), unless an EXPIRED or REARMED
				   * record of the same socket follows from the same CPU */
#define SSTRACE_TWEND_REARMED 3   /* the cancel was a re-arm (a retransmitted FIN, or the peer's
				   * FIN ending the FIN-WAIT-2 substate): not an end */

/* TCP states, numbered as the kernel and ss number them (also the bit index in state masks). */
#define SSTRACE_TCP_ESTABLISHED 1
#define SSTRACE_TCP_SYN_SENT 2
#define SSTRACE_TCP_SYN_RECV 3
#define SSTRACE_TCP_FIN_WAIT1 4
#define SSTRACE_TCP_FIN_WAIT2 5
#define SSTRACE_TCP_TIME_WAIT 6
#define SSTRACE_TCP_CLOSE 7
#define SSTRACE_TCP_CLOSE_WAIT 8
#define SSTRACE_TCP_LAST_ACK 9
#define SSTRACE_TCP_LISTEN 10
#define SSTRACE_TCP_CLOSING 11
#define SSTRACE_TCP_MAX_STATES 12

/* Why a socket went to CLOSE (sstrace_event.reason), from sk_err at the transition. */
#define SSTRACE_REASON_NONE 0     /* not a CLOSE, or a normal close */
#define SSTRACE_REASON_RESET 1    /* ECONNRESET / EPIPE: reset received */
#define SSTRACE_REASON_REFUSED 2  /* ECONNREFUSED */
#define SSTRACE_REASON_TIMEOUT 3  /* ETIMEDOUT */
#define SSTRACE_REASON_OTHER 4    /* any other sk_err */

/* sstrace_event.flags bits */
#define SSTRACE_EVF_V6ONLY 0x1 /* AF_INET6 socket with IPV6_V6ONLY */
/* TIME-WAIT row of a connection whose peer had not sent its FIN: the timewait socket starts in
 * the FIN-WAIT-2 substate (ss lists it as FIN-WAIT-2 until that FIN arrives). */
#define SSTRACE_EVF_TW_FIN_WAIT2 0x2
/* SYN-SENT row of a connect() that failed before its SYN was sent (TcpActiveOpens omits it). */
#define SSTRACE_EVF_SYN_UNSENT 0x4

/* Which destroyed sockets a stream reports (cfg_destroy bits): TCP from the tcp_destroy_sock
 * tracepoint, UDP and raw from a cgroup sock_release program on the cgroup2 root. */
#define SSTRACE_DESTROY_TCP 0x1
#define SSTRACE_DESTROY_UDP 0x2
#define SSTRACE_DESTROY_RAW 0x4

/* Optional record fields (cfg_fields bits): read only when an output or a filter uses them, so
 * that the hot path does no work nobody looks at. Unread fields are 0. */
#define SSTRACE_FIELD_INO 0x1       /* ino: three dependent loads through sk_socket */
#define SSTRACE_FIELD_CGROUP 0x2    /* cgroup_id: three dependent loads */
#define SSTRACE_FIELD_MARK 0x4      /* mark */
#define SSTRACE_FIELD_IFINDEX 0x8   /* ifindex */
#define SSTRACE_FIELD_USERLOCKS 0x10 /* userlocks */
#define SSTRACE_FIELD_UID 0x20      /* uid */

/* Indexes of the per-CPU counters (map "counters"). */
#define SSTRACE_CNT_EMITTED 0   /* unused: the rings' heads count the records written */
#define SSTRACE_CNT_LOST 1      /* records that matched but found their ring full (or none) */
#define SSTRACE_CNT_FILTERED 2  /* events the in-kernel filter program rejected */
/* Runs of a hook's second program copy that handled an event because the kernel had skipped
 * the first copy (it was already running on that CPU when the event nested into it). */
#define SSTRACE_CNT_NESTED_STATE 3
#define SSTRACE_CNT_NESTED_DESTROY 4
/* TIME-WAIT lookups cut short: a FIN-WAIT-2/CLOSING -> CLOSE whose walk of its established-hash
 * chain stopped after 8 entries without finding its timewait socket (state.bpf.c): each may be a
 * TIME-WAIT row lost, printed as a CLOSE. The name is that of the map it once counted. */
#define SSTRACE_CNT_TW_MAP_FULL 5
/* TIME-WAIT rows whose timewait socket started in the FIN-WAIT-2 substate (SSTRACE_EVF_...). */
#define SSTRACE_CNT_TW_FIN_WAIT2 6
/* SYN-SENT rows of connect()s that failed before their SYN was sent (no TcpActiveOpens). */
#define SSTRACE_CNT_SYN_UNSENT 7
/* FIN-WAIT-2/CLOSING -> CLOSE without an error whose connection has no timewait socket in the
 * established hash: none was made (tcp_max_tw_buckets full, a FIN-WAIT-2 timeout), or another
 * CPU killed it (a new SYN for the tuple, an RST) between its hashing and this CLOSE, which then
 * gets no TIME-WAIT row. The name is from the timer that once told them apart. */
#define SSTRACE_CNT_TW_NO_TIMER 8
/* Runs of a hook's classic tracepoint program (the tp_btf first copies count theirs in their
 * nesting slots, struct sstrace_nest_slot): with the runs the kernel skipped, every tracepoint
 * hit the programs were given. Compared with the hits a perf counter on the tracepoint saw, the
 * difference is the hits the kernel gave to neither program and did not count as skipped. */
#define SSTRACE_CNT_RUNS_STATE 9
#define SSTRACE_CNT_RUNS_DESTROY 10
/* Metric updates of a namespace that found the netns_stats map full (not counted anywhere). */
#define SSTRACE_CNT_METRICS_FULL 11
#define SSTRACE_CNT_MAX 12

/* Hooks with a first and a second program copy (index into the "nest" map). timer_start has
 * one program: it fires with interrupts disabled, under the timer base lock, so no event can
 * nest into a run of it (an NMI aside, which arms no timer of ours). */
#define SSTRACE_HOOK_STATE 0
#define SSTRACE_HOOK_DESTROY 1
#define SSTRACE_HOOK_MAX 2
/* Context levels a nesting slot exists for: task, and interrupt (bpf/maps.bpf.h, map "nest"). */
#define SSTRACE_NEST_LEVELS 2

/* One nesting slot of a hook and context level (per CPU; map "nest" holds
 * SSTRACE_HOOK_MAX * SSTRACE_NEST_LEVELS of them, indexed [hook * SSTRACE_NEST_LEVELS + level]).
 * The first copy writes the event it handles, the second copy compares and clears it. `runs`
 * counts the first copy's runs at that level: kept here, next to the mark the run writes anyway,
 * so a run touches one map value. The first copy cannot nest into itself on a CPU, so no
 * increment is lost. */
struct sstrace_nest_slot {
	__u64 object; /* the socket (or timer) the event is about */
	__u64 detail; /* what happened to it */
	__u64 runs;
};

SSTRACE_ABI_ASSERT(sizeof(struct sstrace_nest_slot) == 24, "sstrace_nest_slot layout");

/* ---- The record rings (bpf/maps.bpf.h, doc/events.md section 6) ----
 * Each CPU writes its records into rings of its own, one per nesting level of its write
 * sections: level 0 for a write that interrupts no other on the CPU, level 1 for one that
 * interrupts a level-0 write (a softirq's program landing in a task's). One writer per ring, so
 * a record is filled in the ring's next slot and published by one store of the head (x86; an
 * atomic add elsewhere): no lock, no interrupts disabled. The slots are the entries of one
 * memory-mapped array ("ring_slots", fixed-size slots of the stream's largest record, then a
 * scratch slot per ring for records that find it full), every ring's head and tail the entries
 * of another ("ring_ctl"), which the reader maps too. A write deeper than the last level, or
 * from a CPU above the last one online at start, finds no ring and is counted lost. */
#define SSTRACE_RING_LEVELS 2

/* One ring's positions, in records since the start: the writer's cache line, then the reader's. */
struct sstrace_ring_ctl {
	__u64 head;   /* records written; a store of it publishes a record (ring_commit) */
	__u32 depth;  /* level-0 entries only: this CPU's write sections in progress */
	__u32 _pad0;
	__u64 _pad1[6];
	__u64 tail;   /* records read; the reader stores it as it frees slots */
	__u32 wake;   /* set by the reader before it sleeps: the writer that finds it set with
		       * enough records waiting clears it and rings the doorbell */
	__u32 _pad2;
	__u64 _pad3[6];
};

SSTRACE_ABI_ASSERT(sizeof(struct sstrace_ring_ctl) == 128, "sstrace_ring_ctl layout");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_ring_ctl, tail) == 64, "ring tail line");

/* The in-kernel filter: an INET_DIAG_REQ_BYTECODE program (struct inet_diag_bc_op ...), the
 * same bytes a sock_diag dump request carries, interpreted by the BPF programs for events.
 * Longer programs are not pushed down (userspace still checks every row). */
#define SSTRACE_FILTER_MAX 1024

/* Every ring-buffer record starts with this header. */
struct sstrace_hdr {
	__u16 type;  /* SSTRACE_REC_* */
	__u16 size;  /* bytes, including this header; at least the size of the type's layout */
	__u32 cpu;   /* CPU the record was produced on */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, nanoseconds */
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_hdr) == 16, "sstrace_hdr layout");

/* One socket observation (both SSTRACE_REC_STATE and SSTRACE_REC_DESTROY). */
struct sstrace_event {
	struct sstrace_hdr hdr;
	__u64 cookie;     /* socket cookie, the value ss -e prints as sk: */
	__u8 saddr[16];   /* local address, network order; IPv4 in bytes 0-3, rest zero */
	__u8 daddr[16];   /* peer address, same encoding */
	__u16 sport;      /* local port, host order */
	__u16 dport;      /* peer port, host order */
	__u16 family;     /* AF_INET or AF_INET6 */
	__u8 protocol;    /* IPPROTO_TCP, IPPROTO_UDP, or IPPROTO_RAW for a raw socket */
	__u8 flags;       /* SSTRACE_EVF_* */
	__u8 oldstate;    /* state before the transition (SSTRACE_TCP_*); the state at destroy */
	__u8 newstate;    /* state entered (SSTRACE_TCP_*; TIME_WAIT is inferred) */
	__u8 reason;      /* SSTRACE_REASON_*, for transitions into CLOSE */
	__u8 userlocks;   /* sk_userlocks: SOCK_BINDPORT_LOCK (8) = port bound explicitly (FIELD) */
	__u32 netns_ino;  /* inode of the socket's network namespace */
	__u32 rqueue;     /* Recv-Q as ss computes it: unread bytes, or accept queue (LISTEN);
			   * UDP and raw: receive memory in use */
	__u32 wqueue;     /* Send-Q: unacknowledged bytes, or backlog (LISTEN); a UDP or raw
			   * destroy: 0xffffffff, the -1 ss -E shows (the kernel reports it after
			   * the socket released its last send buffer) */
	__u32 uid;        /* socket owner uid, sk_uid (FIELD) */
	__u32 ifindex;    /* bound device, sk_bound_dev_if, 0 if none (FIELD) */
	__u32 mark;       /* SO_MARK, sk_mark (FIELD) */
	__u32 _pad;
	__u64 ino;        /* inode of the socket's file; 0 once orphaned, as ss -E shows (FIELD) */
	__u64 cgroup_id;  /* cgroup v2 id of the socket, what `cgroup PATH` compares (FIELD) */
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_event) == 112, "sstrace_event layout");
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_event) % 8 == 0, "sstrace_event alignment");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_event, cookie) == 16, "cookie offset");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_event, saddr) == 24, "saddr offset");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_event, sport) == 56, "sport offset");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_event, netns_ino) == 68, "netns offset");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_event, ino) == 96, "ino offset");

/* ---- Owners (-p, -T) ------------------------------------------------------------------------
 * Kept apart from struct sstrace_event so that other additions to it merge cleanly. When a stream
 * asks for owners (cfg_owners), every record (STATE, DESTROY, TW_END) has SSTRACE_EVF_OWNER in
 * sstrace_event.flags and this block right after the struct sstrace_event (at offset
 * sizeof(struct sstrace_event)), before a details tail if the record has one as well; hdr.size
 * covers it. Without owners the record has no owner block and keeps its size.
 *
 * The owner is the socket's, never the task that happened to run the transition: the process
 * that created the socket (cgroup sock_create), refined with the fd when socket(), accept() or
 * accept4() returns it (the syscall exit tracepoint), inherited from the listener by accepted
 * sockets until accept() (socket storage created with BPF_F_CLONE), or found in /proc at start
 * for sockets that existed before. */
#define SSTRACE_EVF_OWNER 0x10 /* sstrace_event.flags: a struct sstrace_owner follows */

#define SSTRACE_OWNER_KNOWN 0x1     /* pid, tid and comm are set */
#define SSTRACE_OWNER_FD 0x2        /* fd is set (the descriptor the owner holds the socket by) */
#define SSTRACE_OWNER_INHERITED 0x4 /* copied from the listener: not accepted by a process yet */
#define SSTRACE_OWNER_SEEDED 0x8    /* found in /proc when the stream started */

struct sstrace_owner {
	__u32 pid;        /* thread group id (the pid ss -p prints) */
	__u32 tid;        /* the thread that created or accepted the socket (ss -T's tid) */
	__s32 fd;         /* -1 unless SSTRACE_OWNER_FD */
	__u32 flags;      /* SSTRACE_OWNER_*; 0: no owner known */
	char comm[16];    /* the process's command name (its main thread's, as /proc/PID/stat) */
	char tcomm[16];   /* the thread's command name (/proc/PID/task/TID/stat, ss -T) */
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_owner) == 48, "sstrace_owner layout");

/* A record with its owner block (what the BPF programs write when cfg_owners is set). */
struct sstrace_owned_event {
	struct sstrace_event ev;
	struct sstrace_owner owner;
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_owned_event) ==
			   sizeof(struct sstrace_event) + sizeof(struct sstrace_owner),
		   "owner block follows the record");

/* The value of the socket-storage map "owners" (BPF_F_CLONE: an accepted socket starts with its
 * listener's). Userspace writes it too, for sockets that existed before the stream started. */
struct sstrace_sk_owner {
	__u64 cookie;     /* the socket the value was written for: another cookie = inherited */
	struct sstrace_owner owner;
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_sk_owner) == 56, "sstrace_sk_owner layout");
/* ---- end of owners ---------------------------------------------------------------------------- */

/* ---- Details on event rows (-o -m -i): an optional record tail ----
 *
 * Read only when a stream asks for them (cfg_details, SSTRACE_DETAIL_* bits): the plain stream
 * does none of this work and its records keep their size. A record that carries details has
 * SSTRACE_EVF_DETAILS in sstrace_event.flags and a struct sstrace_details after the struct
 * sstrace_event and its owner block, if it has one (SSTRACE_EVF_OWNER): at offset
 * sizeof(struct sstrace_event), plus sizeof(struct sstrace_owner) with owners; hdr.size covers
 * them all. The
 * values are what a sock_diag listing of the socket would report at that moment, computed the
 * way the kernel computes them (inet_sk_diag_fill's timer, sk_get_meminfo, tcp_get_info), with
 * jiffies converted with the kernel's CONFIG_HZ. Kept apart from the fields above, so that other
 * additions to struct sstrace_event merge without touching this block. */
#define SSTRACE_EVF_DETAILS 0x8 /* sstrace_event.flags: a struct sstrace_details follows */

#define SSTRACE_DETAIL_TIMER 0x1   /* timer: (-o, -e): the socket's pending timer */
#define SSTRACE_DETAIL_SKMEM 0x2   /* skmem: (-m) */
#define SSTRACE_DETAIL_TCPINFO 0x4 /* tcp_info (-i) and the congestion control's name */
#define SSTRACE_DETAIL_LIFETIME 0x8 /* birth time of the socket (-i), from socket storage */
#define SSTRACE_DETAIL_SHUTDOWN 0x10 /* sk_shutdown (-e: ss's <-> item) */

struct sstrace_details {
	__u32 what;         /* SSTRACE_DETAIL_* bits filled */
	/* timer (SSTRACE_DETAIL_TIMER): ss's timer:(NAME,EXPIRES,N) */
	__u8 timer_kind;    /* 0 none, 1 on (retransmit), 2 keepalive, 3 timewait, 4 persist */
	__u8 timer_retrans; /* retransmits, or keepalive/zero-window probes */
	__u8 shutdown;      /* SSTRACE_DETAIL_SHUTDOWN: sk_shutdown (1 receive side, 2 send side) */
	__u8 _pad0;
	__u32 timer_ms;     /* expiry, ms from the event (0: due) */
	/* skmem (SSTRACE_DETAIL_SKMEM): SK_MEMINFO_* order (r, rb, t, tb, f, w, o, bl, d) */
	__u32 skmem[9];
	/* tcp_info (SSTRACE_DETAIL_TCPINFO): struct tcp_info's fields, as tcp_get_info() fills
	 * them, up to tcpi_snd_wnd; the same byte layout as the uapi struct's first 232 bytes */
	__u8 tcp_info[232];
	char cong[16];      /* the congestion control's name (icsk_ca_ops->name) */
	/* lifetime (SSTRACE_DETAIL_LIFETIME): bpf_ktime_get_ns() when the socket was first seen
	 * leaving CLOSE or LISTEN (connect, listen, or a passive open's child); 0 if unknown */
	__u64 born_ns;
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_details) == 304, "sstrace_details layout");
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_details) % 8 == 0, "sstrace_details alignment");

/* ---- The two tails together ----
 * Flag bits of their own, distinct from each other and from the other SSTRACE_EVF_* bits. */
SSTRACE_ABI_ASSERT((SSTRACE_EVF_OWNER & SSTRACE_EVF_DETAILS) == 0, "tail flags distinct");
SSTRACE_ABI_ASSERT(((SSTRACE_EVF_OWNER | SSTRACE_EVF_DETAILS) &
		    (SSTRACE_EVF_V6ONLY | SSTRACE_EVF_TW_FIN_WAIT2 | SSTRACE_EVF_SYN_UNSENT)) == 0,
		   "tail flags distinct from the other flags");
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_owner) % 8 == 0, "owner block keeps the details aligned");

/* A record with both tails: the largest record (what the BPF writers reserve for one). */
struct sstrace_full_event {
	struct sstrace_event ev;
	struct sstrace_owner owner;
	struct sstrace_details details;
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_full_event) == 112 + 48 + 304, "full record layout");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_full_event, owner) == 112, "owner offset");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_full_event, details) == 160,
		   "details offset after an owner block");

/* Where a record's tails start, from its flags (0: the record has no such tail), and the size
 * a record with those flags has. */
static inline __u32 sstrace_owner_offset(__u8 flags)
{
	return (flags & SSTRACE_EVF_OWNER) ? (__u32)sizeof(struct sstrace_event) : 0;
}

static inline __u32 sstrace_details_offset(__u8 flags)
{
	if (!(flags & SSTRACE_EVF_DETAILS))
		return 0;
	return (__u32)sizeof(struct sstrace_event) +
	       ((flags & SSTRACE_EVF_OWNER) ? (__u32)sizeof(struct sstrace_owner) : 0);
}

static inline __u32 sstrace_record_size(__u8 flags)
{
	return (__u32)sizeof(struct sstrace_event) +
	       ((flags & SSTRACE_EVF_OWNER) ? (__u32)sizeof(struct sstrace_owner) : 0) +
	       ((flags & SSTRACE_EVF_DETAILS) ? (__u32)sizeof(struct sstrace_details) : 0);
}

/* ---- Metrics (--metrics, --top): counters kept in BPF maps ----
 * Counted by the state hook after the namespace, family and filter checks, only when the stream
 * asks for them (cfg_metrics): per-CPU, summed by userspace. None of this travels through the
 * ring buffer. */

/* Connection lifetimes (a socket's birth, as -i stamps it, to its entry into CLOSE or
 * TIME-WAIT): bucket i counts those of at most SSTRACE_LIFETIME_BOUNDS_NS[i] nanoseconds, the
 * last bucket the longer ones. Roughly two buckets a decade, 100 us to 3000 s. */
#define SSTRACE_LIFETIME_BOUNDS 16
#define SSTRACE_LIFETIME_BOUNDS_NS                                                          \
	{                                                                                   \
		100000ull, 300000ull, 1000000ull, 3000000ull, 10000000ull, 30000000ull,    \
		100000000ull, 300000000ull, 1000000000ull, 3000000000ull, 10000000000ull,  \
		30000000000ull, 100000000000ull, 300000000000ull, 1000000000000ull,        \
		3000000000000ull                                                            \
	}

/* Per network namespace (map netns_stats, keyed by the namespace's inode). */
struct sstrace_netns_counters {
	__u64 entries[SSTRACE_TCP_MAX_STATES]; /* state entries, by state (TIME-WAIT inferred) */
	__u64 lifetime[SSTRACE_LIFETIME_BOUNDS + 1]; /* lifetimes per bucket (not cumulative) */
	__u64 lifetime_sum_ns;
	/* the port counters of every port that found the port map full (the `other` port) */
	__u64 other_time_wait;
	__u64 other_resets;
	__u64 other_opens;
	__u64 ports_full; /* updates that went to `other` because the port map was full */
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_netns_counters) == (12 + 17 + 5) * 8,
		   "netns counters layout");

/* Per service port (map port_stats) and per listening port (map listeners): namespace and port,
 * host order. */
struct sstrace_port_key {
	__u32 netns_ino;
	__u16 port;
	__u16 _pad;
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_port_key) == 8, "port key layout");

struct sstrace_port_counters {
	__u64 time_wait; /* entries into TIME-WAIT */
	__u64 resets;    /* ESTABLISHED/CLOSE-WAIT -> CLOSE, as TcpEstabResets counts them */
	__u64 opens;     /* entries into ESTABLISHED */
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_port_counters) == 24, "port counters layout");

/* Sizes of the metric maps. */
#define SSTRACE_METRICS_NETNS_MAX 1024
#define SSTRACE_METRICS_PORTS_MAX 4096
#define SSTRACE_LISTENERS_MAX 16384

#endif /* SSTRACE_ABI_EVENTS_H */
