#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The command line through the real binary (issue 9, items 6-8): bad values and misplaced
stream options are one line on stderr with exit 255, usage errors name the program as it was
invoked and print the one usage text, and a duration with a unit times a real stream."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from e2e_support import SSTRACE, main, need_root

# sstrace's own options, all of which the usage text lists
OWN_OPTIONS = ("--all-netns", "--timestamp", "--transitions", "--count=N", "--duration=TIME",
               "--ring-size=MiB", "--bpf-variant=V", "--verbose")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=20, **kw)


class CommandLineTest(unittest.TestCase):
    def test_bad_values_and_misplaced_options_are_one_line(self):
        for args, message in (
                (["-E", "-c", "abc"], "sstrace: -c: expected a positive count, got 'abc'"),
                (["-E", "-c", "1", "-c", "2"], "sstrace: -c: given more than once ('1', then '2')"),
                (["-E", "--duration", "0"], "sstrace: --duration: expected a positive time, got '0'"),
                (["-E", "--ring-size", "3"],
                 "sstrace: --ring-size: expected a power of two in MiB from 1 to 1024, got '3'"),
                (["--timestamp", "-tan"], "sstrace: --timestamp applies only to event streams (-E)"),
                (["-c", "1", "-tan"], "sstrace: -c applies only to event streams (-E)"),
                (["--all-netns", "-tan"], "sstrace: --all-netns applies only to event streams (-E)"),
                (["-N", "ns1", "-E", "--all-netns"],
                 "sstrace: -N and --all-netns conflict (one namespace, or every one): give one "
                 "of them"),
                (["-E", "--transitions"],
                 "sstrace: --transitions needs state words (-E state STATE ...): the destroy "
                 "stream shows no state changes")):
            r = run([SSTRACE] + args)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (255, "", message + "\n"), args)

    def test_usage_errors_name_the_program_as_invoked(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "ss-copy")
            shutil.copy(SSTRACE, copy)
            asked = run([copy, "-f", "help"])
            self.assertEqual((asked.returncode, asked.stderr), (0, ""))
            usage = asked.stdout
            self.assertTrue(usage.startswith("Usage: ss-copy [ OPTIONS ]\n"
                                             "       ss-copy [ OPTIONS ] [ FILTER ]\n"), usage)
            self.assertIn("       ss-copy -E [ OPTIONS ]", usage)
            for option in OWN_OPTIONS:
                self.assertIn(option, usage)
            for args, first in ((["--bogus"], "ss-copy: unrecognized option '--bogus'\n"),
                                (["-E", "--transitions=yes"],
                                 "ss-copy: option '--transitions' doesn't allow an argument\n"),
                                (["-E", "-c"], "ss-copy: option requires an argument -- 'c'\n"),
                                (["-f", "bogus"], 'ss-copy: "bogus" is invalid family\n'),
                                (["-tan", "sport", "="], 'ss-copy: bison bellows (while parsing '
                                 'filter): "syntax error!" Sorry.\n')):
                r = run([copy] + args)
                self.assertEqual((r.returncode, r.stdout, r.stderr), (255, "", first + usage),
                                 args)
            r = run([copy, "-h"])
            self.assertEqual(r.returncode, 0)
            self.assertTrue(r.stdout.startswith(usage))

    def test_duration_with_a_unit_times_the_stream(self):
        need_root(self)
        start = time.monotonic()
        r = run([SSTRACE, "-E", "--duration", "300ms", "state", "time-wait"])
        elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(elapsed, 0.3)
        self.assertLess(elapsed, 10)


if __name__ == "__main__":
    main((CommandLineTest,))
