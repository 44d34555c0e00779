// SPDX-License-Identifier: GPL-2.0-only
/*
 * The owners of sockets (ss -p), from the kernel's task_file iterator: one struct
 * sstrace_iter_file per socket file of every process, where ss reads every /proc/PID/fd link.
 * The walk goes through the tasks in pid order and through each file table in fd order, the
 * order of ss's readdir(); it visits a thread only when its file table differs from its
 * leader's, and such a table is not in /proc/PID/fd, so only leaders are reported.
 */
#include "iter.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task_file")
int sst_iter_files(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct sstrace_iter_file r = {};

	if (!task || !file || task->pid != task->tgid)
		return 0;
	/* a socket's file: its inode is the one /proc/PID/fd/N names as socket:[N] */
	if (!bpf_sock_from_file(file))
		return 0;
	r.inode = file->f_inode->i_ino;
	r.pid = task->tgid;
	r.fd = ctx->fd;
	__builtin_memcpy(r.comm, task->comm, sizeof(r.comm));
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
