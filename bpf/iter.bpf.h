/* SPDX-License-Identifier: GPL-2.0-only */
/* What the iterator programs (iter_tcp.bpf.c, iter_files.bpf.c) share. They form their own
 * object (sstrace_iter), apart from the event programs and their maps: a listing loads only
 * what it walks with. */
#ifndef SSTRACE_ITER_BPF_H
#define SSTRACE_ITER_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "sstrace/abi/iter.h"
#include "addr.bpf.h"

#define AF_INET 2
#define AF_INET6 10

#endif /* SSTRACE_ITER_BPF_H */
