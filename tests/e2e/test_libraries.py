#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The shared libraries only some modes use (issue 13): sstrace links none of them (nor
libstdc++, spdlog, fmt, which are compiled in), so a listing runs with every one of them made
unloadable (/dev/null bind-mounted over the file in a private mount namespace) and prints what
ss prints, while the mode that opens one stops with one line naming the library and its package,
exit 1, before it writes anything."""
import os
import re
import subprocess
import tempfile
import unittest

from e2e_support import SSTRACE, Netns, main, need_root

# soname: the package the error line names (libtinfo comes with libncurses)
OPENED = {"libncurses.so.6": "libncurses6", "libtinfo.so.6": None, "libzstd.so.1": "libzstd1",
          "libisal.so.2": "libisal2", "libmicrohttpd.so.12": "libmicrohttpd12"}
COMPILED_IN = ("libstdc++", "libspdlog", "libfmt", "libgcc_s")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def lib_path(soname):
    """The file the dynamic loader opens for `soname` (ld.so.cache), symlinks resolved."""
    for line in run(["ldconfig", "-p"]).stdout.splitlines():
        m = re.match(r"^\s*(\S+) \(libc6,x86-64\) => (\S+)$", line)
        if m and m.group(1) == soname:
            return os.path.realpath(m.group(2))
    raise AssertionError("%s is not installed" % soname)


def hidden(sonames, argv):
    """`argv` in a new mount namespace where each library of `sonames` is /dev/null."""
    binds = " && ".join("mount --bind /dev/null %s" % lib_path(s) for s in sonames)
    script = binds + ' && exec "$@"'
    return run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"] + argv)


class LibrariesTest(unittest.TestCase):
    def setUp(self):
        need_root(self)

    def assert_one_line(self, r, soname, package):
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("%s does not load" % soname, lines[0])
        self.assertTrue(lines[0].endswith("(install the package %s)" % package), lines[0])

    def test_none_of_them_is_linked(self):
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]",
                            run(["readelf", "-d", SSTRACE]).stdout)
        self.assertIn("libc.so.6", needed)
        for lib in needed:
            self.assertNotIn(lib, OPENED)
            self.assertFalse(lib.startswith(COMPILED_IN), lib)

    def test_listing_without_them(self):
        with Netns("sstrace-libs") as ns:
            enter = ["nsenter", "--net=/run/netns/" + ns.name]
            ss = run(enter + ["ss", "-tan"])
            r = hidden(OPENED, enter + [SSTRACE, "-tan"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual((r.stdout, r.stderr), (ss.stdout, ss.stderr))

    def test_write_without_zstd(self):
        with tempfile.TemporaryDirectory() as d:
            cap = os.path.join(d, "c.sstrace")
            r = hidden(["libzstd.so.1"], [SSTRACE, "-E", "--duration", "1",
                                          "--write", cap])
            self.assert_one_line(r, "libzstd.so.1", "libzstd1")
            self.assertEqual(os.listdir(d), [])

    def test_read_without_isal(self):
        with tempfile.TemporaryDirectory() as d:
            cap = os.path.join(d, "c.sstrace")
            w = run([SSTRACE, "-E", "--duration", "0.3", "--write", cap])
            self.assertEqual(w.returncode, 0, w.stderr)
            self.assertEqual(run([SSTRACE, "--read", cap]).returncode, 0)
            r = hidden(["libisal.so.2"], [SSTRACE, "--read", cap])
            self.assert_one_line(r, "libisal.so.2", "libisal2")
            self.assertEqual(r.stdout, "")

    def test_top_without_ncurses(self):
        # a terminal of its own (script), as --top's full screen needs one
        r = hidden(["libncurses.so.6"], ["script", "-qec", SSTRACE + " --top --duration 1",
                                         "/dev/null"])
        # script merges the terminal's output; its exit status is sstrace's (-e)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertEqual(len(r.stdout.strip().splitlines()), 1, r.stdout)
        self.assertIn("--top: libncurses.so.6 does not load", r.stdout)
        self.assertIn("(install the package libncurses6)", r.stdout)

    def test_metrics_without_microhttpd(self):
        with Netns("sstrace-libs") as ns:
            r = hidden(["libmicrohttpd.so.12"],
                       ["nsenter", "--net=/run/netns/" + ns.name, SSTRACE, "--metrics",
                        "127.0.0.1:9464", "--duration", "1"])
        self.assert_one_line(r, "libmicrohttpd.so.12", "libmicrohttpd12")


if __name__ == "__main__":
    main([LibrariesTest])
