/* SPDX-License-Identifier: GPL-2.0-only */
/* Copying addresses: shared by the event programs (maps.bpf.h) and the iterators (iter.bpf.h). */
#ifndef SSTRACE_ADDR_BPF_H
#define SSTRACE_ADDR_BPF_H

#include "vmlinux.h"

/* The 16 bytes of an IPv6 address, as two 8-byte loads and stores. __builtin_memcpy() into a __u8
 * array the compiler cannot prove aligned becomes 16 single-byte loads and 16 stores, and each
 * load from a kernel pointer is a checked one: measured as a sixth of the state program's samples
 * under `-E state all`. Both sides must be 8-byte aligned: an in6_addr in sock_common (offsets
 * 56 and 72), a record's or iterator row's address fields (24 and 40), a tw_key's. */
static __always_inline void copy_addr16(void *dst, const void *src)
{
	((__u64 *)dst)[0] = ((const __u64 *)src)[0];
	((__u64 *)dst)[1] = ((const __u64 *)src)[1];
}

#endif /* SSTRACE_ADDR_BPF_H */
