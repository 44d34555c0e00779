#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The kernel features sstrace depends on (issue 12): `--check-kernel` against the kernel's own
word (tracefs lists its tracepoints, bpftool probes its map types), and a feature missing for
real: in a private mount namespace where the kernel's BTF file is hidden, a stream stops before
loading anything with one line naming the feature and its first release (exit 4), while a
listing, which needs no BPF, still works."""
import os
import re
import subprocess
import unittest

from e2e_support import SSTRACE, main, need_root


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, **kw)


def table(stdout):
    """{feature name: (state, since)} from --check-kernel's output."""
    out = {}
    for line in stdout.splitlines()[1:]:
        m = re.match(r"^(.+?)\s{2,}(yes|no|unknown)\s+since (\S+)\s", line)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


def in_private_mounts(script):
    """`script` (sh) in a new mount namespace: its mounts vanish with it."""
    return run(["unshare", "-m", "--propagation", "private", "sh", "-c", script])


class KernelFeaturesTest(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def test_check_kernel_agrees_with_the_kernel(self):
        r = run([SSTRACE, "--check-kernel"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0], "kernel " + os.uname().release)
        t = table(r.stdout)
        self.assertEqual(len(t), len(r.stdout.splitlines()) - 1, r.stdout)
        # every line parsed, and every release looks like one
        for name, (_, since) in t.items():
            self.assertRegex(since, r"^\d+\.\d+(\.\d+)?$", name)
        # tracefs, mounted in a private mount namespace, is the kernel's list of tracepoints
        events = in_private_mounts(
            "mount -t tracefs none /sys/kernel/tracing 2>/dev/null || true; "
            "cd /sys/kernel/tracing/events && ls -d sock/inet_sock_set_state "
            "tcp/tcp_destroy_sock timer/timer_start timer/timer_cancel timer/timer_expire_entry")
        self.assertEqual(events.returncode, 0, events.stderr)
        for name in ("tracepoint sock:inet_sock_set_state", "tracepoint tcp:tcp_destroy_sock",
                     "tracepoint timer:timer_start",
                     "tracepoints timer:timer_cancel, timer_expire_entry"):
            self.assertEqual(t[name][0], "yes", name)
        # bpftool's probe loads a ring buffer map for real
        probe = run(["bpftool", "feature", "probe", "kernel"])
        self.assertIn("eBPF map_type ringbuf is available", probe.stdout)
        self.assertEqual(t["BPF ring buffer"][0], "yes")
        # this kernel (6.18) is newer than every minimum: everything is there
        self.assertEqual({s for s, _ in t.values()}, {"yes"}, r.stdout)

    def test_hidden_btf_is_named_with_its_release(self):
        # the kernel's BTF file hidden from sstrace (libbpf's other places hold none here)
        for other in ("/boot/vmlinux-" + os.uname().release,
                      "/lib/modules/%s/vmlinux-%s" % (os.uname().release, os.uname().release),
                      "/usr/lib/debug/boot/vmlinux-" + os.uname().release):
            if os.path.exists(other):
                self.skipTest("libbpf would find the BTF in " + other)
        hide = "mount --bind /dev/null /sys/kernel/btf/vmlinux && "
        r = in_private_mounts(hide + SSTRACE + " -E state time-wait --duration 1")
        self.assertEqual(r.returncode, 4, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("kernel BTF (/sys/kernel/btf/vmlinux) is missing", lines[0])
        self.assertIn("Linux 5.4 or later has it", lines[0])
        # nothing was attached on the way out
        self.assertNotIn("sst_", run(["bpftool", "prog", "show"]).stdout)

        r = in_private_mounts(hide + SSTRACE + " --check-kernel")
        self.assertEqual(r.returncode, 4, r.stdout)
        t = table(r.stdout)
        self.assertEqual(t["kernel BTF (/sys/kernel/btf/vmlinux)"][0], "no")
        self.assertEqual({s for n, (s, _) in t.items() if not n.startswith("kernel BTF")},
                         {"unknown"}, r.stdout)

        # a listing needs no BPF from the stream side: it still runs, as ss does
        r = in_private_mounts(hide + SSTRACE + " -tan")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("State"), r.stdout)


if __name__ == "__main__":
    main([KernelFeaturesTest])
