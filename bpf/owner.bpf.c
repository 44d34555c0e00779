// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where socket owners are written (owner.bpf.h says how they are read). Loaded only when a
 * stream asks for owners (-p, -T).
 *  - cgroup/sock_create on the cgroup2 root: every socket created on the machine (in the
 *    container, inside one), in the creating process's context. It always allows the call.
 *  - tp_btf/sys_exit: every syscall's exit; only socket(), accept() and accept4() returning a
 *    descriptor are looked at (the first test, a compare with configuration).
 */
#include "sock_read.bpf.h"

SEC("cgroup/sock_create")
int sst_owner_create(struct bpf_sock *ctx)
{
	struct sstrace_sk_owner *o;

	if (!owner_wanted(ctx->family, ctx->type, ctx->protocol))
		return 1;
	o = bpf_sk_storage_get(&owners, ctx, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return 1;
	o->cookie = bpf_get_socket_cookie(ctx);
	current_owner(&o->owner, -1);
	return 1;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sst_owner_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t;
	struct fdtable *fdt;
	struct file **fda;
	struct file *f = NULL;
	struct socket *sock;
	struct sock *sk;
	struct owner_pending_val v = {};
	__u64 key;
	long nr;

	if (ret < 0)
		return 0;
	nr = regs->orig_ax;
	if (nr != cfg_nr_socket && nr != cfg_nr_accept && nr != cfg_nr_accept4)
		return 0;
	/* the descriptor's file, through the task's fd table (probe reads) */
	t = bpf_get_current_task_btf();
	fdt = BPF_CORE_READ(t, files, fdt);
	if (!fdt || ret >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fda = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fda[ret]) || !f)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	if (!owner_wanted(BPF_CORE_READ(sk, __sk_common.skc_family), BPF_CORE_READ(sk, sk_type),
			  BPF_CORE_READ(sk, sk_protocol)))
		return 0;
	v.ino = BPF_CORE_READ(f, f_inode, i_ino);
	current_owner(&v.owner, (int)ret);
	key = (__u64)sk;
	bpf_map_update_elem(&owner_pending, &key, &v, BPF_ANY);
	return 0;
}
