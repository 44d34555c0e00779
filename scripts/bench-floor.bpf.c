// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-floor.bpf.c: empty tp_btf programs on the tracepoints sstrace hooks, for
 * scripts/bench-events.sh --floor. What the kernel's statistics report for them per run is the
 * cost of running any program there (the dispatch, the recursion guard and the statistics' own
 * clock reads), before any work of sstrace's: the floor its programs' run time is measured from.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_state, struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(floor_destroy, struct sock *sk)
{
	return 0;
}

SEC("tp_btf/timer_start")
int BPF_PROG(floor_timer, struct timer_list *timer)
{
	return 0;
}
