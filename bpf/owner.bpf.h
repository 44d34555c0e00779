/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket owners (-p, -T): who holds a socket, read at any event, whatever task the event runs
 * on. Most TCP transitions run in softirq, on whatever task was interrupted: the task running a
 * transition is never taken as the owner. Instead the owner is written in process context, where
 * the current task is the one making the call, into the socket's storage (map "owners"):
 *  - cgroup sock_create (owner.bpf.c): the creating process, fd not known yet;
 *  - the exit of socket(), accept(), accept4() (owner.bpf.c): the process, thread and fd that the
 *    syscall returned, parked in owner_pending by socket address and moved into the socket's
 *    storage by the first program that holds the socket (sk_owner());
 *  - an accepted socket starts with a copy of its listener's value (BPF_F_CLONE), whose cookie
 *    is the listener's: that marks it inherited (no fd: no process holds it before accept());
 *  - userspace, at start, for sockets found in /proc (their fds, duplicated with pidfd_getfd).
 * Only tp_btf and cgroup programs may read socket storage: the classic-tracepoint variant has no
 * owners (userspace refuses -p with it).
 */
#ifndef SSTRACE_OWNER_BPF_H
#define SSTRACE_OWNER_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>

#define SSTRACE_SOCK_STREAM 1
#define SSTRACE_SOCK_RAW 3

/* The current task as an owner (process context only). */
static __always_inline void current_owner(struct sstrace_owner *o, int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	o->pid = id >> 32;
	o->tid = (__u32)id;
	o->fd = fd;
	o->flags = SSTRACE_OWNER_KNOWN | (fd >= 0 ? SSTRACE_OWNER_FD : 0);
	/* ss -p prints /proc/PID/stat's name: the main thread's */
	BPF_CORE_READ_INTO(&o->comm, t, group_leader, comm);
	bpf_get_current_comm(&o->tcomm, sizeof(o->tcomm));
}

/* Is a socket of this kind followed by the stream (so worth an owner)? */
static __always_inline bool owner_wanted(__u16 family, __u16 type, __u16 protocol)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	if (cfg_family && family != cfg_family)
		return false;
	if (type == SSTRACE_SOCK_RAW)
		return cfg_destroy & SSTRACE_DESTROY_RAW;
	if (protocol == IPPROTO_TCP)
		return cfg_state_mask || (cfg_destroy & SSTRACE_DESTROY_TCP);
	if (protocol == IPPROTO_UDP)
		return cfg_destroy & SSTRACE_DESTROY_UDP;
	return false;
}

/* The inode of a socket's file (0 once orphaned); probe reads, any socket pointer. */
static __always_inline __u64 sock_ino(const void *sk)
{
	struct socket *sock = BPF_CORE_READ((struct sock *)sk, sk_socket);
	struct socket_alloc *sa;

	if (!sock)
		return 0;
	sa = (void *)sock - bpf_core_field_offset(struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* The socket's storage value, after moving a parked descriptor into it. `sk` is a socket the
 * storage helper accepts (a tp_btf argument, or a cgroup program's context). */
static __always_inline struct sstrace_sk_owner *sk_owner(void *sk)
{
	__u64 key = (__u64)sk;
	struct owner_pending_val *p = bpf_map_lookup_elem(&owner_pending, &key);
	struct sstrace_sk_owner *o;

	if (p) {
		if (p->ino == sock_ino(sk)) {
			o = bpf_sk_storage_get(&owners, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
			if (o) {
				o->cookie = bpf_get_socket_cookie(sk);
				o->owner = p->owner;
			}
		}
		bpf_map_delete_elem(&owner_pending, &key);
	}
	return bpf_sk_storage_get(&owners, sk, NULL, 0);
}

/* The owner a record of this socket carries, from its storage value `o` (NULL: none known). */
static __always_inline bool owner_from(const struct sstrace_sk_owner *o, __u64 cookie,
				       struct sstrace_owner *out)
{
	if (!o)
		return false;
	*out = o->owner;
	if (o->cookie != cookie) {
		/* the listener's value, cloned into a socket no process has accepted yet */
		out->fd = -1;
		out->flags = (out->flags & ~SSTRACE_OWNER_FD) | SSTRACE_OWNER_INHERITED;
	}
	return true;
}

static __always_inline bool owner_of(void *sk, __u64 cookie, struct sstrace_owner *out)
{
	return owner_from(sk_owner(sk), cookie, out);
}

#endif /* SSTRACE_OWNER_BPF_H */
