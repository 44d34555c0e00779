// SPDX-License-Identifier: GPL-2.0-only
/* TCP socket destruction: the tcp_destroy_sock tracepoint (sstrace -E, as ss -E shows it).
 * A tp_btf pair (see sock_read.bpf.h) and a classic tracepoint program. */
#include "sock_read.bpf.h"

static __always_inline void on_destroy(struct sock *sk, bool btf)
{
	const struct tcp_sock *tp;
	struct sstrace_owner owner;
	bool owned = false;
	__u16 family;
	__u64 cookie;

	if (!(cfg_destroy & SSTRACE_DESTROY_TCP))
		return;
	tp = tcp_of(sk, btf);
	if (!tp || !tp_wanted(tp, &family, btf))
		return;
	cookie = cookie_of(sk, btf);
	if (btf && cfg_owners)
		owned = owner_of(sk, cookie, &owner);
	emit(tp, cookie, SSTRACE_REC_DESTROY, family,
	     KREAD(btf, tp, inet_conn.icsk_inet.sk.__sk_common.skc_state), SSTRACE_TCP_CLOSE, 0,
	     btf, sk, owned ? &owner : NULL);
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(sst_destroy, struct sock *sk)
{
	nest_first(ctx, SSTRACE_HOOK_DESTROY, sk, 0);
	on_destroy(sk, true);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(sst_destroy_2nd, struct sock *sk)
{
	if (!nest_second_takes(ctx, SSTRACE_HOOK_DESTROY, sk, 0))
		return 0;
	count(SSTRACE_CNT_NESTED_DESTROY);
	on_destroy(sk, true);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int sst_destroy_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	count(SSTRACE_CNT_RUNS_DESTROY);
	on_destroy((struct sock *)ctx->skaddr, false);
	/* 1: the kernel then hands the hit to the tracepoint's perf events (perf stat, perf record,
	 * sstrace's own hit counter); 0 would hide it from every one of them while sstrace runs */
	return 1;
}
