/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The iterator programs' light skeletons (generated C, which C++ cannot include) behind a small
 * C interface for IterSession. Internal to src/sources. Every function that can fail returns
 * NULL or a negative errno.
 */
#ifndef SSTRACE_ITER_LOAD_H
#define SSTRACE_ITER_LOAD_H

#include <linux/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sst_tcp_config {
	__u32 states;       /* cfg_states */
	__u32 fields;       /* cfg_fields: SSTRACE_ITER_F_* */
	__u32 filter_len;   /* at most SSTRACE_FILTER_MAX */
	const __u8 *filter; /* inet_diag bytecode */
	/* its necessary condition on the ports (cfg_pf_*): pf_on = 0, none */
	__u32 pf_on;
	__u32 pf_sport_min, pf_sport_max, pf_dport_min, pf_dport_max;
};

struct sstrace_tcp_iter;
struct sstrace_files_iter;

/* Opens, configures and loads iter/tcp, and attaches it (an iterator link). */
struct sstrace_tcp_iter *sst_tcp_iter_load(const struct sst_tcp_config *cfg, int *err);
int sst_tcp_iter_link(const struct sstrace_tcp_iter *it);
/* The walk_families, walk_skipped, walk_rejected and walk_prefiltered globals, shared with the program
 * (mmap'ed). */
void sst_tcp_iter_set_families(struct sstrace_tcp_iter *it, __u32 families);
__u64 sst_tcp_iter_take_skipped(struct sstrace_tcp_iter *it);
__u64 sst_tcp_iter_take_rejected(struct sstrace_tcp_iter *it);
__u64 sst_tcp_iter_take_prefiltered(struct sstrace_tcp_iter *it);
void sst_tcp_iter_destroy(struct sstrace_tcp_iter *it);

struct sstrace_files_iter *sst_files_iter_load(int *err);
int sst_files_iter_link(const struct sstrace_files_iter *it);
void sst_files_iter_destroy(struct sstrace_files_iter *it);

#ifdef __cplusplus
}
#endif

#endif /* SSTRACE_ITER_LOAD_H */
