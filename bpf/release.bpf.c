// SPDX-License-Identifier: GPL-2.0-only
/*
 * UDP and raw socket destruction: a cgroup sock_release program on the cgroup2 root, which runs
 * when any process closes its last reference to a socket (in process context, before the
 * protocol's close). TCP sockets are reported by destroy.bpf.c instead, when they are really
 * destroyed (a closed TCP socket may live on, orphaned, until its FIN is acknowledged).
 *
 * The program runs for every socket closed on the machine: it always allows the close (returns
 * 1), and returns as early as it can for sockets not followed.
 *
 * The verifier refuses bpf_sock's src_ip4/src_ip6/src_port here: the local address and port are
 * read from the socket with probe reads, as are the namespace and the queues.
 */
#include "sock_read.bpf.h"

SEC("cgroup/sock_release")
int sst_release(struct bpf_sock *ctx)
{
	struct sstrace_owned_event oe;
	struct sstrace_event *e = &oe.ev;
	struct sstrace_owner owner;
	bool owned = false;
	struct sock *sk = (struct sock *)ctx;
	__u32 family = ctx->family;
	bool raw = ctx->type == SSTRACE_SOCK_RAW;
	__u32 netns_ino;

	if (raw ? !(cfg_destroy & SSTRACE_DESTROY_RAW) :
		  !(ctx->protocol == IPPROTO_UDP && (cfg_destroy & SSTRACE_DESTROY_UDP)))
		return 1;
	if (family != AF_INET && family != AF_INET6)
		return 1;
	if (cfg_family && family != cfg_family)
		return 1;
	netns_ino = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (cfg_netns_ino && netns_ino != cfg_netns_ino)
		return 1;

	__builtin_memset(e, 0, sizeof(*e));
	e->netns_ino = netns_ino;
	e->hdr.type = SSTRACE_REC_DESTROY;
	e->hdr.size = sizeof(*e);
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->cookie = bpf_get_socket_cookie(ctx);
	if (family == AF_INET) {
		*(__u32 *)e->saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		*(__u32 *)e->daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	/* a raw socket's "port" is its protocol, which inet_num holds */
	e->sport = raw ? BPF_CORE_READ(sk, __sk_common.skc_num) :
			 bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->family = family;
	e->protocol = raw ? IPPROTO_RAW : IPPROTO_UDP;
	e->oldstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->newstate = SSTRACE_TCP_CLOSE;
	if (family == AF_INET6 && BPF_CORE_READ_BITFIELD_PROBED(&sk->__sk_common, skc_ipv6only))
		e->flags |= SSTRACE_EVF_V6ONLY;
	e->rqueue = BPF_CORE_READ(sk, sk_backlog.rmem_alloc.counter);
	e->wqueue = 0xffffffffu;
	/* the socket's file is being released: ss -E shows ino 0 and no uid */
	if (field(SSTRACE_FIELD_IFINDEX))
		e->ifindex = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
	if (field(SSTRACE_FIELD_MARK))
		e->mark = BPF_CORE_READ(sk, sk_mark);
	if (field(SSTRACE_FIELD_USERLOCKS))
		e->userlocks = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks);
	if (field(SSTRACE_FIELD_CGROUP))
		e->cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	if (cfg_owners)
		owned = owner_of(ctx, e->cookie, &owner);
	queue_record(&oe, owned ? &owner : NULL);
	return 1;
}
