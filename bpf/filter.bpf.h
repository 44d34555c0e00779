/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An interpreter for inet_diag filter bytecode (include/uapi/linux/inet_diag.h), run on an event
 * before it is queued. The ss filter compiler produces this bytecode for INET_DIAG_REQ_BYTECODE
 * in socket dumps; running the same program here means one compiled form of a filter serves
 * both the kernel's sock_diag and the event stream, with the kernel's semantics: an op's `yes`
 * or `no` offset moves the program counter, the socket matches when the program is left exactly
 * at its end. Written from the uapi definitions; bounded by bpf_loop (kernel 5.17+).
 */
#ifndef SSTRACE_FILTER_BPF_H
#define SSTRACE_FILTER_BPF_H

/* Only what the interpreter needs: the iterator object includes it without the event maps. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sstrace/abi/events.h"

#define SOCK_BINDPORT_LOCK 8

/* The filter program, set by userspace before load; length 0 = no filter. */
const volatile __u32 cfg_filter_len __weak = 0;
const volatile __u8 cfg_filter[SSTRACE_FILTER_MAX] __weak = {};

/* What the bytecode is evaluated against (inet_diag's struct inet_diag_entry). */
struct bc_entry {
	__u32 saddr[4]; /* network order */
	__u32 daddr[4];
	__u16 sport;    /* host order */
	__u16 dport;
	__u16 family;
	__u8 userlocks;
	__u8 _pad;
	__u32 ifindex;
	__u32 mark;
	__u64 cgroup_id;
};

struct bc_run {
	const struct bc_entry *e;
	__s32 pc;  /* offset of the current op */
	__s32 len; /* bytes left; 0 = accepted, < 0 = rejected */
};

static __always_inline __u32 bc_u8(__s32 off)
{
	return cfg_filter[off & (SSTRACE_FILTER_MAX - 1)];
}

static __always_inline __u32 bc_u16(__s32 off)
{
	/* struct fields are in host (little-endian) order */
	return bc_u8(off) | (bc_u8(off + 1) << 8);
}

static __always_inline __u32 bc_u32(__s32 off)
{
	return bc_u16(off) | (bc_u16(off + 2) << 16);
}

/* Does `addr` match the first `bits` bits of the condition's address at `off`? */
static __always_inline bool bc_prefix_match(const __u32 *addr, __s32 off, __u32 bits)
{
	for (int w = 0; w < 4; w++) {
		__u32 n, mask, a, c;

		if (bits <= (__u32)w * 32)
			break;
		n = bits - w * 32;
		mask = n >= 32 ? 0xffffffffu : bpf_htonl(0xffffffffu << (32 - n));
		a = addr[w];
		c = bc_u32(off + 4 * w);
		if ((a ^ c) & mask)
			return false;
	}
	return true;
}

static __always_inline bool bc_hostcond(const struct bc_entry *e, __s32 off, bool src)
{
	__u32 family = bc_u8(off), plen = bc_u8(off + 1);
	__s32 port = (__s32)bc_u32(off + 4);
	const __u32 *addr = src ? e->saddr : e->daddr;

	if (port != -1 && port != (src ? e->sport : e->dport))
		return false;
	if (family != 0 /* AF_UNSPEC */ && family != e->family) {
		/* an IPv4 condition also matches a v4-mapped IPv6 socket */
		if (e->family == 10 && family == 2 && addr[0] == 0 && addr[1] == 0 &&
		    addr[2] == bpf_htonl(0xffff)) {
			__u32 v4[1] = { addr[3] };

			return plen <= 32 && bc_prefix_match(v4, off + 8, plen);
		}
		return false;
	}
	if (plen > 128)
		return false;
	return bc_prefix_match(addr, off + 8, plen);
}

static long bc_step(__u32 i, struct bc_run *r)
{
	const struct bc_entry *e = r->e;
	__s32 pc = r->pc;
	__u32 code, yes_off, no_off;
	bool yes = true;

	if (r->len <= 0)
		return 1;
	if (pc < 0 || pc > SSTRACE_FILTER_MAX - 8) {
		r->len = -1;
		return 1;
	}
	code = bc_u8(pc);
	yes_off = bc_u8(pc + 1);
	no_off = bc_u16(pc + 2);
	switch (code) {
	case 0: /* NOP */
		break;
	case 1: /* JMP */
		yes = false;
		break;
	case 2: /* S_GE: the port is in the next op's `no` */
		yes = e->sport >= bc_u16(pc + 6);
		break;
	case 3: /* S_LE */
		yes = e->sport <= bc_u16(pc + 6);
		break;
	case 4: /* D_GE */
		yes = e->dport >= bc_u16(pc + 6);
		break;
	case 5: /* D_LE */
		yes = e->dport <= bc_u16(pc + 6);
		break;
	case 6: /* AUTO: the port was not bound explicitly */
		yes = !(e->userlocks & SOCK_BINDPORT_LOCK);
		break;
	case 7: /* S_COND */
	case 8: /* D_COND */
		yes = bc_hostcond(e, pc + 4, code == 7);
		break;
	case 9: /* DEV_COND */
		yes = e->ifindex == bc_u32(pc + 4);
		break;
	case 10: /* MARK_COND */
		yes = (e->mark & bc_u32(pc + 8)) == bc_u32(pc + 4);
		break;
	case 11: /* S_EQ */
		yes = e->sport == bc_u16(pc + 6);
		break;
	case 12: /* D_EQ */
		yes = e->dport == bc_u16(pc + 6);
		break;
	case 13: /* CGROUP_COND */
		yes = e->cgroup_id == ((__u64)bc_u32(pc + 8) << 32 | bc_u32(pc + 4));
		break;
	default:
		r->len = -1;
		return 1;
	}
	if (yes) {
		r->pc += yes_off;
		r->len -= yes_off;
	} else {
		r->pc += no_off;
		r->len -= no_off;
	}
	/* an offset of 0 would loop forever in the kernel's reading too: reject */
	if ((yes ? yes_off : no_off) == 0)
		r->len = -1;
	return 0;
}

/* True when the event passes the configured filter (or there is none). */
static __always_inline bool bc_accepts(const struct bc_entry *e)
{
	struct bc_run r = { .e = e, .pc = 0, .len = cfg_filter_len };

	if (!cfg_filter_len)
		return true;
	bpf_loop(SSTRACE_FILTER_MAX / 4, bc_step, &r, 0);
	return r.len == 0;
}

#endif /* SSTRACE_FILTER_BPF_H */
