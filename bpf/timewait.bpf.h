/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TIME-WAIT entry's lookup (state.bpf.c): what the state hook asks of the established hash,
 * and the namespace's table. Two walks share it: sst_timewait_lookup() (state.bpf.c, probe reads,
 * for the classic variant) and sst_timewait_lookup_btf() (timer.bpf.c, plain loads, for tp_btf
 * programs; there because it needs bpf_rdonly_cast(), and libbpf 1.1's linker cannot link one
 * kfunc declared in two objects).
 */
#ifndef SSTRACE_TIMEWAIT_BPF_H
#define SSTRACE_TIMEWAIT_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>

/* The full socket's connection, as its timewait socket has it. */
struct tw_probe {
	__u64 net;	/* struct net * as a number: compared, never dereferenced by the caller */
	__u64 addrpair;	/* skc_addrpair (IPv4: daddr, rcv_saddr) */
	__u64 v6_daddr[2];
	__u64 v6_saddr[2];
	__u32 portpair;	/* skc_portpair as the timewait socket has it (dport, num) */
	__u32 hash;	/* skc_hash: the established hash's bucket, with the table's mask */
	__u16 family;
	__u8 _pad[6];
};

/* What the lookup found. */
struct tw_found {
	__u64 expires;	/* tw_timer.expires (jiffies), for -o */
	__u8 substate;	/* tw_substate: TIME_WAIT, or FIN_WAIT2 for an orphan whose peer has not closed */
	__u8 _pad[7];
};

#define TW_LOOKUP_NONE 0
#define TW_LOOKUP_FOUND 1
#define TW_LOOKUP_CUT_SHORT 2 /* the chain was longer than TW_CHAIN_MAX: counted as a loss */

/* The new timewait socket is the chain's head unless another CPU inserted into the same bucket
 * since; the established hash has about one bucket per socket, so chains are short. */
#define TW_CHAIN_MAX 8

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

static __always_inline struct inet_hashinfo *tw_table(struct net *net)
{
	if (bpf_core_field_exists(struct netns_ipv4___twdr_ptr, tcp_death_row))
		return BPF_CORE_READ((struct net___twdr_ptr *)net, ipv4.tcp_death_row, hashinfo);
	return BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo);
}

int sst_timewait_lookup_btf(const struct tw_probe *p, struct tw_found *out);

#endif /* SSTRACE_TIMEWAIT_BPF_H */
