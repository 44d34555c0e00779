/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TIME-WAIT entry's lookup (state.bpf.c): what the state hook asks of the established hash.
 * The walk is in timer.bpf.c, as two global functions over one body: it needs bpf_rdonly_cast(),
 * and libbpf 1.1's linker cannot link one kfunc declared in two objects.
 */
#ifndef SSTRACE_TIMEWAIT_BPF_H
#define SSTRACE_TIMEWAIT_BPF_H

#include "maps.bpf.h"

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

/* The walk (timer.bpf.c): with plain loads for tp_btf programs, with probe reads for the classic
 * variant. TW_LOOKUP_*. */
int sst_timewait_lookup_btf(const struct tw_probe *p, struct tw_found *out);
int sst_timewait_lookup(const struct tw_probe *p, struct tw_found *out);

#endif /* SSTRACE_TIMEWAIT_BPF_H */
