/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The records the BPF iterator programs (bpf/iter_*.bpf.c) write into their seq_file, read by
 * the iterator listing source (src/sources/iter/). Same rules as events.h: fixed-width fields,
 * explicit padding, sizes checked on both sides. The records are read back to back from the
 * iterator's file, so every size is a multiple of 8.
 */
#ifndef SSTRACE_ABI_ITER_H
#define SSTRACE_ABI_ITER_H

#include "sstrace/abi/events.h"

/* Bumped whenever a record layout or a configuration meaning changes. The object and its reader
 * are built together, so nothing reads a record of another version; the number is for humans
 * reading a dump of the seq_file. */
#define SSTRACE_ITER_ABI_VERSION 1

/* cfg_fields bits of the iter/tcp program: the values a listing uses besides the columns every
 * row has. Unread values are 0. */
#define SSTRACE_ITER_F_INODE 0x1 /* inode: -e prints it, -p finds the owners by it */
#define SSTRACE_ITER_F_IDS 0x2   /* uid, cookie, shutdown: -e */
#define SSTRACE_ITER_F_MARKS 0x4 /* mark, cgroup: -e, --cgroup, and filters, which test them */

/* walk_families bits of the iter/tcp program: the families a walk reports. */
#define SSTRACE_ITER_WALK_INET 0x1
#define SSTRACE_ITER_WALK_INET6 0x2

/* sstrace_iter_tcp.kind: which of the three socket kinds of the TCP hash tables the row is.
 * inet_diag fills its messages differently for each (full sockets carry attributes, timewait and
 * request sockets report zero queues, uid and inode). */
#define SSTRACE_ITER_FULL 0
#define SSTRACE_ITER_TIMEWAIT 1
#define SSTRACE_ITER_REQUEST 2

/* sstrace_iter_tcp.flags: which optional values inet_diag would have sent for this socket. */
#define SSTRACE_ITF_V6ONLY_SET 0x1 /* INET_DIAG_SKV6ONLY (always read): AF_INET6, LISTEN/CLOSE */
#define SSTRACE_ITF_V6ONLY 0x2     /* its value */
#define SSTRACE_ITF_SHUTDOWN 0x4   /* INET_DIAG_SHUTDOWN (full sockets, F_IDS): shutdown set */
#define SSTRACE_ITF_CGROUP 0x8     /* INET_DIAG_CGROUP_ID (full sockets, F_MARKS): cgroup_id set */

/* One socket of the iter/tcp walk, as an inet_diag dump would describe it. Fields marked with a
 * SSTRACE_ITER_F_* bit are read only when the configuration asks for them, and are 0 otherwise. */
struct sstrace_iter_tcp {
	__u64 cookie;    /* socket cookie, ss -e's sk: (F_IDS) */
	__u64 inode;     /* inode of the socket's file, 0 when orphaned (F_INODE) */
	__u64 cgroup_id; /* cgroup v2 id (F_MARKS) */
	__u8 saddr[16];  /* local address, network order; IPv4 in bytes 0-3, rest zero */
	__u8 daddr[16];  /* peer address, same encoding */
	__u32 rqueue;    /* Recv-Q as inet_diag computes it: unread bytes, or accept queue */
	__u32 wqueue;    /* Send-Q: unacknowledged bytes, or the listen backlog */
	__u32 uid;       /* sk_uid (F_IDS) */
	__u32 ifindex;   /* sk_bound_dev_if, 0 if none */
	__u32 mark;      /* sk_mark, tw_mark or ir_mark (F_MARKS) */
	__u16 sport;     /* local port, host order */
	__u16 dport;     /* peer port, host order */
	__u8 family;     /* AF_INET or AF_INET6 */
	__u8 state;      /* as inet_diag reports it: tw_substate (timewait), SYN_RECV (requests) */
	__u8 kind;       /* SSTRACE_ITER_FULL, _TIMEWAIT, _REQUEST */
	__u8 flags;      /* SSTRACE_ITF_* */
	__u8 shutdown;   /* sk_shutdown: bit 0 receive side, bit 1 send side (ITF_SHUTDOWN) */
	__u8 _pad[3];
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_iter_tcp) == 88, "sstrace_iter_tcp layout");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_iter_tcp, saddr) == 24, "saddr offset");
SSTRACE_ABI_ASSERT(__builtin_offsetof(struct sstrace_iter_tcp, sport) == 76, "sport offset");

/* One socket file of one process, from the iter/task_file walk (ss -p). Only thread-group
 * leaders are reported: ss reads /proc/PID/fd, which is the leader's file table. */
struct sstrace_iter_file {
	__u64 inode;   /* inode of the socket, what /proc/PID/fd/N links to as socket:[N] */
	__u32 pid;     /* tgid, in the initial pid namespace */
	__u32 fd;      /* file descriptor number */
	char comm[16]; /* the leader's comm, NUL-padded */
};
SSTRACE_ABI_ASSERT(sizeof(struct sstrace_iter_file) == 32, "sstrace_iter_file layout");

#endif /* SSTRACE_ABI_ITER_H */
