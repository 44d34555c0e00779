// SPDX-License-Identifier: GPL-2.0-only
#include "iter_load.h"

/* before the skeletons: libbpf 1.1's skel_internal.h uses errno and E* without including it */
#include <errno.h>
#include <string.h>

#include "sstrace/sstrace_files_iter.lskel.h"
#include "sstrace/sstrace_tcp_iter.lskel.h"

struct sstrace_tcp_iter *sst_tcp_iter_load(const struct sst_tcp_config *cfg, int *err)
{
	struct sstrace_tcp_iter *it = sstrace_tcp_iter__open();

	if (!it) {
		*err = -ENOMEM;
		return NULL;
	}
	it->rodata->cfg_states = cfg->states;
	it->rodata->cfg_fields = cfg->fields;
	if (cfg->filter_len > 0 && cfg->filter_len <= sizeof(it->rodata->cfg_filter)) {
		memcpy(it->rodata->cfg_filter, cfg->filter, cfg->filter_len);
		it->rodata->cfg_filter_len = cfg->filter_len;
	}
	if (cfg->pf_on) {
		it->rodata->cfg_pf_on = 1;
		it->rodata->cfg_pf_sport_min = cfg->pf_sport_min;
		it->rodata->cfg_pf_sport_max = cfg->pf_sport_max;
		it->rodata->cfg_pf_dport_min = cfg->pf_dport_min;
		it->rodata->cfg_pf_dport_max = cfg->pf_dport_max;
	}
	*err = sstrace_tcp_iter__load(it);
	if (*err == 0) {
		const int link = sstrace_tcp_iter__sst_iter_tcp__attach(it);

		*err = link < 0 ? link : 0;
	}
	if (*err != 0) {
		sstrace_tcp_iter__destroy(it);
		return NULL;
	}
	return it;
}

int sst_tcp_iter_link(const struct sstrace_tcp_iter *it)
{
	return it->links.sst_iter_tcp_fd;
}

void sst_tcp_iter_set_families(struct sstrace_tcp_iter *it, __u32 families)
{
	/* the program reads it on every socket: a change takes effect during a walk */
	__atomic_store_n(&it->bss->walk_families, families, __ATOMIC_RELAXED);
}

__u64 sst_tcp_iter_take_skipped(struct sstrace_tcp_iter *it)
{
	return __atomic_exchange_n(&it->bss->walk_skipped, 0, __ATOMIC_RELAXED);
}

__u64 sst_tcp_iter_take_rejected(struct sstrace_tcp_iter *it)
{
	return __atomic_exchange_n(&it->bss->walk_rejected, 0, __ATOMIC_RELAXED);
}

__u64 sst_tcp_iter_take_prefiltered(struct sstrace_tcp_iter *it)
{
	return __atomic_exchange_n(&it->bss->walk_prefiltered, 0, __ATOMIC_RELAXED);
}

void sst_tcp_iter_destroy(struct sstrace_tcp_iter *it)
{
	sstrace_tcp_iter__destroy(it);
}

struct sstrace_files_iter *sst_files_iter_load(int *err)
{
	struct sstrace_files_iter *it = sstrace_files_iter__open();

	if (!it) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = sstrace_files_iter__load(it);
	if (*err == 0) {
		const int link = sstrace_files_iter__sst_iter_files__attach(it);

		*err = link < 0 ? link : 0;
	}
	if (*err != 0) {
		sstrace_files_iter__destroy(it);
		return NULL;
	}
	return it;
}

int sst_files_iter_link(const struct sstrace_files_iter *it)
{
	return it->links.sst_iter_files_fd;
}

void sst_files_iter_destroy(struct sstrace_files_iter *it)
{
	sstrace_files_iter__destroy(it);
}
