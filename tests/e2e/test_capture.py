#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Captures and JSON lines through the real binary and the real kernel (issue 11).

Each test runs a loopback churn in a private network namespace while sstrace writes a capture
(--write) and, at the same time, live streams print rows; the capture read back (--read) with
the live streams' options must print the rows they printed. Damaged files (truncated, a flipped
byte, kill -9 mid-capture, a full tmpfs) must give every record before the damage and the
documented exit status (6 for a damaged file; 1 for a full disk while writing). JSON lines
(--json) must parse with Python's json and carry the values the rows show.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from e2e_support import SSTRACE, Netns, Tracer, main, need_root, rows, slurp, summary

HERE = os.path.dirname(os.path.abspath(__file__))
CHURN = os.environ.get("CHURN_BIN", os.path.join(HERE, "..", "..", "build", "tests", "e2e", "churn"))
PORT = 6000
EXIT_DAMAGED = 6
DAMAGE_RE = re.compile(r"^sstrace: (.+): damaged at byte (\d+): (.+) \(every record before it was read\)$")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def read_back(*args):
    return run([SSTRACE] + list(args))


def row_set(output):
    """The data rows as sorted token lists: the order of events on different CPUs may differ
    between two ring buffers, the rows may not."""
    return sorted(rows(output))


class CaptureBase(unittest.TestCase):
    def setUp(self):
        need_root(self)
        if not os.access(CHURN, os.X_OK):
            self.fail("churn not built: %s (cmake --build build)" % CHURN)
        self.dir = tempfile.mkdtemp(prefix="sstrace-capture-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def tracer(self, ns, *args):
        # -v for the "following" line: printed once every program is attached
        return Tracer(ns.cmd(SSTRACE, "-v", "-n", *args))

    def churn(self, ns, conns=1500, port=PORT):
        r = ns.run(CHURN, "--seconds", "5", "--max-conns", str(conns), "--threads", "2",
                   "--servers", "1", "--mode", "mix", "--family", "46", "--port", str(port),
                   "--ports", "2", timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def assert_no_loss(self, t):
        seen, _, lost = summary(t.stderr.replace(" written,", " printed,"))
        self.assertGreater(seen, 0, t.stderr)
        self.assertEqual(lost, 0, t.stderr)


class ReadBackTest(CaptureBase):
    def test_read_back_gives_the_live_rows_for_several_filters(self):
        live_filters = [
            ["state", "all"],
            ["-4", "state", "time-wait"],
            ["-6", "state", "syn-recv", "state", "established"],
            ["state", "all", "dport = :%d" % (PORT + 1)],
            ["exclude", "established", "src [::1]"],
        ]
        cap = self.path("churn.cap")
        with Netns() as ns:
            writer = self.tracer(ns, "-E", "state", "all", "--write", cap)
            lives = [self.tracer(ns, "-E", *f) for f in live_filters]
            self.churn(ns)
            for t in lives + [writer]:
                t.stop(settle=0.5)
        self.assertEqual(writer.rc, 0, writer.stderr)
        self.assertEqual(writer.stdout, "")
        self.assert_no_loss(writer)
        self.assertRegex(writer.stderr, r"capture: \d+ events in 1 file")
        for f, live in zip(live_filters, lives):
            self.assert_no_loss(live)
            back = read_back("--read", cap, "-n", *f)
            self.assertEqual(back.returncode, 0, (f, back.stderr))
            self.assertGreater(len(rows(live.stdout)), 10, f)
            self.assertEqual(row_set(back.stdout), row_set(live.stdout), f)
        # without state words the capture is read with those it was written with
        back = read_back("--read", cap, "-n")
        self.assertEqual(row_set(back.stdout), row_set(lives[0].stdout))

    def test_rows_printed_while_writing_are_read_back_byte_for_byte(self):
        # one process, one clock offset: the times and the column widths must match exactly
        cap = self.path("print.cap")
        args = ["--timestamp", "--transitions", "state", "all"]
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", cap, "--print", *args)
            self.churn(ns, conns=600)
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        self.assert_no_loss(t)
        back = read_back("--read", cap, "-n", *args)
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertGreater(len(rows(t.stdout)), 600)
        self.assertEqual(back.stdout, t.stdout)
        # -c stops after N rows, as live
        first = read_back("--read", cap, "-n", "-c", "5", *args)
        self.assertEqual(first.stdout.splitlines(), t.stdout.splitlines()[:6])

    def test_time_wait_ends_are_read_back(self):
        """--transitions rows of TIME-WAIT ends (ss -K kills the timewait sockets: early ends)
        come back from the capture as they were printed, with their lengths."""
        cap = self.path("tw-end.cap")
        args = ["--timestamp", "--transitions", "state", "time-wait"]
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", cap, "--print", *args)
            self.churn(ns, conns=200)
            time.sleep(0.5)
            killed = ns.run("ss", "-K", "-tan", "state", "time-wait", check=True)
            time.sleep(0.5)
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        self.assert_no_loss(t)
        ends = [r for r in rows(t.stdout) if "(gone)" in r]
        entries = [r for r in rows(t.stdout) if "TIME-WAIT" in r and "(gone)" not in r]
        # every timewait socket ss killed is an early end; the churn itself may end others early
        # (a tuple reused)
        self.assertGreaterEqual(len(ends), len(rows(killed.stdout)), killed.stdout)
        self.assertGreater(len(ends), 50, t.stdout[-2000:])
        self.assertTrue(all(any(x.startswith("ended:(early,") for x in r) for r in ends), ends[:5])
        self.assertGreater(len(entries), 50)
        back = read_back("--read", cap, "-n", *args)
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertEqual(back.stdout, t.stdout)

    def test_destroy_stream_and_netns_column(self):
        cap = self.path("destroy.cap")
        with Netns() as ns:
            t = Tracer([SSTRACE, "-v", "-n", "-E", "--all-netns", "--write", cap, "--print",
                        "src 127.0.0.1 or dst 127.0.0.1"])
            live = self.tracer(ns, "-E", "src 127.0.0.1 or dst 127.0.0.1")
            self.churn(ns, conns=300)
            live.stop(settle=0.5)
            t.stop(settle=0.5)
            name = ns.name
        self.assertEqual(t.rc, 0, t.stderr)
        back = read_back("--read", cap, "-n", "--all-netns", "src 127.0.0.1 or dst 127.0.0.1")
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertEqual(back.stdout, t.stdout)
        # -N NAME selects the namespace by the name the capture's header recorded
        mine = read_back("--read", cap, "-n", "-N", name, "src 127.0.0.1 or dst 127.0.0.1")
        self.assertEqual(mine.returncode, 0, mine.stderr)
        self.assertGreater(len(rows(live.stdout)), 300)
        self.assertEqual(row_set(mine.stdout), row_set(live.stdout))
        bad = read_back("--read", cap, "-N", "no-such-ns-%d" % os.getpid())
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(len(bad.stderr.splitlines()), 1, bad.stderr)

    def test_since_and_until_select_a_wall_clock_window(self):
        cap = self.path("window.cap")
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", cap, "--print", "--timestamp", "state", "all")
            self.churn(ns, conns=200, port=PORT)
            time.sleep(1.2)
            middle = time.time()
            time.sleep(1.2)
            self.churn(ns, conns=200, port=PORT + 10)
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        all_rows = rows(t.stdout)
        at = "@%.3f" % middle
        # the live rows' own times split them (a close of the first churn may come late on a
        # loaded machine); each churn must still fall on its side
        day = time.localtime(float(at[1:]))
        if time.localtime(time.time()).tm_yday != day.tm_yday:
            self.skipTest("the run crossed midnight")
        boundary = day.tm_hour * 3600 + day.tm_min * 60 + day.tm_sec + float(at[1:]) % 1

        def seconds(r):
            h, m, sec = r[0].split(":")
            return int(h) * 3600 + int(m) * 60 + float(sec)

        first = [r for r in all_rows if seconds(r) < boundary]
        second = [r for r in all_rows if seconds(r) >= boundary]
        self.assertTrue(first and second)
        # the port exactly: a client's ephemeral port such as 60100 contains ":6010"
        on_second_port = [r for r in first if any(x.endswith(":%d" % (PORT + 10)) for x in r)]
        self.assertEqual(on_second_port, [], "rows of the second churn before the middle")
        before = read_back("--read", cap, "-n", "--timestamp", "--until", at, "state", "all")
        after = read_back("--read", cap, "-n", "--timestamp", "--since", at, "state", "all")
        self.assertEqual((before.returncode, after.returncode), (0, 0), before.stderr + after.stderr)
        self.assertEqual(sorted(rows(before.stdout)), sorted(first))
        self.assertEqual(sorted(rows(after.stdout)), sorted(second))
        # RFC 3339, as the JSON lines print it
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(middle)) + ".%03dZ" % (int(middle * 1000) % 1000)
        again = read_back("--read", cap, "-n", "--timestamp", "--since", iso, "state", "all")
        self.assertEqual(again.stdout, after.stdout)


class LossTest(CaptureBase):
    def test_ring_buffer_loss_is_recorded_in_the_capture_and_the_json(self):
        # a stopped reader and a 1 MiB ring (about 9000 records): the churn must overflow it
        cap = self.path("loss.cap")
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--ring-size", "1", "--write", cap, "--print", "state", "all")
            t.send(signal.SIGSTOP)
            try:
                self.churn(ns, conns=3000)
            finally:
                t.send(signal.SIGCONT)
            t.stop(settle=1.5)
        self.assertEqual(t.rc, 0, t.stderr)
        seen, printed, lost = summary(t.stderr)
        self.assertGreater(lost, 0, t.stderr)
        self.assertEqual(seen, printed + lost)
        back = read_back("--read", cap, "-n", "state", "all")
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertEqual(rows(back.stdout), rows(t.stdout))
        m = re.search(r"the capture recorded (\d+) lost events \(ring buffer full: (\d+)", back.stderr)
        self.assertTrue(m, back.stderr)
        self.assertEqual(int(m.group(1)), lost, back.stderr + t.stderr)
        js = read_back("--read", cap, "--json", "state", "all")
        objs = [json.loads(l) for l in js.stdout.splitlines()]
        losses = [o for o in objs if o["type"] == "loss"]
        self.assertTrue(losses)
        self.assertEqual(sum(o["lost"] for o in losses), lost)
        self.assertEqual(sum(o["ring_buffer_full"] + o["skipped_by_kernel"] + o["time_wait_map_full"]
                             + o["not_written"] for o in losses), lost)
        self.assertEqual(len([o for o in objs if o["type"] == "event"]), printed)


class JsonTest(CaptureBase):
    def check_object_against_row(self, obj, row):
        # row: Netid State Recv-Q Send-Q Local Peer (all columns, -n)
        self.assertEqual(obj["netid"], row[0])
        self.assertEqual(obj["state"], row[1])
        self.assertEqual(obj["recv_q"], int(row[2]))
        self.assertEqual(obj["send_q"], int(row[3]))
        for side, text in (("local", row[4]), ("peer", row[5])):
            addr, _, port = text.rpartition(":")
            self.assertEqual(obj[side]["port"], 0 if port == "*" else int(port), (obj, row))
            want = addr.strip("[]")
            if want not in ("*", "0.0.0.0", "::"):
                self.assertEqual(obj[side]["addr"], want, (obj, row))

    def test_json_stream_and_read_back_match_the_rows(self):
        cap = self.path("json.cap")
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", cap, "--print", "state", "all")
            live_json = self.tracer(ns, "-E", "--json", "state", "all")
            self.churn(ns, conns=300)
            live_json.stop(settle=0.5)
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        back = read_back("--read", cap, "--json", "state", "all")
        self.assertEqual(back.returncode, 0, back.stderr)
        objs = [json.loads(l) for l in back.stdout.splitlines()]
        events = [o for o in objs if o["type"] == "event"]
        data = rows(t.stdout)
        self.assertEqual(len(events), len(data))
        for o, r in zip(events, data):
            self.check_object_against_row(o, r)
            self.assertIsInstance(o["cookie"], int)
            self.assertIsInstance(o["time_ns"], int)
            self.assertTrue(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", o["time"]), o["time"])
            self.assertEqual(o["new_state"], o["state"])
        # the live JSON stream holds the same events (each session reads its own kernel time),
        # in any CPU order
        live = [json.loads(l) for l in live_json.stdout.splitlines()]
        key = lambda o: (o["cookie"], o["old_state"], o["new_state"], o["local"]["port"],
                         o["peer"]["port"])
        a = sorted(map(key, [o for o in live if o["type"] == "event"]))
        b = sorted(map(key, events))
        self.assertTrue(a == b, "live %d events, read back %d; first differences: %r" % (
            len(a), len(b), [x for x in zip(a, b) if x[0] != x[1]][:3]))

    def test_json_listing_has_the_rows_values(self):
        with Netns() as ns:
            server = subprocess.Popen(ns.cmd("python3", "-c", """
import socket, sys, time
l = socket.socket(socket.AF_INET6); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("::1", 7000)); l.listen(8)
l4 = socket.socket(); l4.bind(("127.0.0.1", 7001)); l4.listen(8)
cs = [socket.create_connection(("127.0.0.1", 7001)) for _ in range(3)]
acc = [l4.accept()[0] for _ in range(3)]
print("ready", flush=True); time.sleep(30)
"""), stdout=subprocess.PIPE, text=True)
            try:
                self.assertEqual(server.stdout.readline().strip(), "ready")
                text = ns.run(SSTRACE, "-tan")
                js = ns.run(SSTRACE, "-tan", "--json")
                ss = ns.run("ss", "-tanH")
            finally:
                server.kill()
                server.wait()
        self.assertEqual((text.returncode, js.returncode), (0, 0), js.stderr)
        objs = [json.loads(l) for l in js.stdout.splitlines()]
        data = rows(text.stdout)
        self.assertEqual(len(objs), len(data))
        self.assertEqual(len(objs), len(ss.stdout.splitlines()))
        self.assertEqual(len(objs), 8)
        for o, r in zip(objs, data):
            self.assertEqual(o["type"], "socket")
            self.check_object_against_row(o, ["tcp"] + r)


class DamageTest(CaptureBase):
    def capture(self, conns=600):
        cap = self.path("d.cap")
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", cap, "--print", "state", "all")
            self.churn(ns, conns=conns)
            t.stop(settle=0.5)
        self.assertEqual(t.rc, 0, t.stderr)
        return cap, t.stdout

    def assert_prefix(self, result, full_rows, name):
        self.assertEqual(result.returncode, EXIT_DAMAGED, result.stderr)
        last = result.stderr.splitlines()[-1]
        m = DAMAGE_RE.match(last)
        self.assertTrue(m, result.stderr)
        self.assertEqual(m.group(1), name)
        got = rows(result.stdout)
        self.assertEqual(got, full_rows[:len(got)])
        return int(m.group(2)), got

    def test_truncated_and_corrupt_files(self):
        cap, printed = self.capture()
        full = rows(printed)
        with open(cap, "rb") as f:
            data = f.read()
        size = len(data)
        cut = self.path("cut.cap")
        counts = []
        for at in (size - 1, size * 3 // 4, size // 2, size // 4):
            with open(cut, "wb") as f:
                f.write(data[:at])
            offset, got = self.assert_prefix(read_back("--read", cut, "-n", "state", "all"), full, cut)
            self.assertLessEqual(offset, at)
            counts.append(len(got))
        # each cut reads no more than a longer one, and the records of the cut zstd frame
        # that were flushed (one block per batch) are decoded too
        self.assertEqual(counts, sorted(counts, reverse=True))
        self.assertGreater(counts[0], len(full) * 9 // 10)
        # a flipped byte in the middle
        bad = self.path("bad.cap")
        corrupt = bytearray(data)
        corrupt[size // 2] ^= 0x5a
        with open(bad, "wb") as f:
            f.write(corrupt)
        offset, got = self.assert_prefix(read_back("--read", bad, "-n", "state", "all"), full, bad)
        self.assertLess(len(got), len(full))
        # a damaged header, and not a capture at all
        head = self.path("head.cap")
        with open(head, "wb") as f:
            f.write(data[:40])
        r = read_back("--read", head)
        self.assertEqual((r.returncode, r.stdout), (EXIT_DAMAGED, ""))
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        r = read_back("--read", "/etc/passwd")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        r = read_back("--read", self.path("missing.cap"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_kill_9_mid_capture_keeps_every_flushed_record(self):
        cap = self.path("k.cap")
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", cap, "state", "all")
            live = self.tracer(ns, "-E", "state", "all")
            self.churn(ns, conns=800)
            # every batch ends a zstd block at once; give the writer thread a tick or two
            time.sleep(1.5)
            t.send(signal.SIGKILL)
            t.proc.wait(timeout=10)
            t.stop(settle=0)
            self.assertEqual(t.rc, -signal.SIGKILL)
            live.stop(settle=0.2)
        back = read_back("--read", cap, "-n", "state", "all")
        # the frame was open when the writer died: the reader says where the file ends
        self.assertIn(back.returncode, (0, EXIT_DAMAGED), back.stderr)
        if back.returncode == EXIT_DAMAGED:
            self.assertTrue(DAMAGE_RE.match(back.stderr.splitlines()[-1]), back.stderr)
        self.assertGreater(len(rows(live.stdout)), 800 * 3)
        self.assertEqual(row_set(back.stdout), row_set(live.stdout))

    def test_full_disk_stops_with_a_valid_file_and_the_loss_counted(self):
        mnt = self.path("small")
        os.mkdir(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt], check=True)
        try:
            cap = os.path.join(mnt, "full.cap")
            with Netns() as ns:
                t = self.tracer(ns, "-E", "--write", cap, "--print", "state", "all")
                self.churn(ns, conns=6000)
                deadline = time.time() + 10
                while t.proc.poll() is None and time.time() < deadline:
                    time.sleep(0.1)
                t.stop(settle=0)
            self.assertEqual(t.rc, 1, t.stderr)
            last = t.stderr.strip().splitlines()[-1]
            self.assertRegex(last, r"^sstrace: writing to %s: No space left on device \(" % re.escape(cap))
            self.assertRegex(t.stderr, r"sstrace: \d+ events not written to ")
            back = read_back("--read", cap, "-n", "state", "all")
            self.assertEqual(back.returncode, 0, back.stderr)
            got = rows(back.stdout)
            printed = rows(t.stdout)
            self.assertGreater(len(got), 100)
            self.assertEqual(got, printed[:len(got)])
            self.assertLess(len(got), len(printed))
            # the file says that events were lost, and the reading says how many
            self.assertRegex(back.stderr, r"the capture recorded \d+ lost events .*not written to "
                                          r"the capture: [1-9]")
        finally:
            subprocess.run(["umount", mnt], check=False)


class RotationTest(CaptureBase):
    def read_each(self, files):
        out = []
        for f in files:
            r = read_back("--read", f, "-n", "-H", "state", "all")
            self.assertEqual(r.returncode, 0, (f, r.stderr))
            out += rows(r.stdout)
        return out

    def test_rotation_by_size_with_a_ring_and_post_rotate(self):
        base = self.path("ring.cap")
        log = self.path("rotated.log")
        hook = self.path("hook.sh")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\necho \"$1\" >> %s\n" % log)
        os.chmod(hook, 0o755)
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", base, "--rotate-size", "8k", "--print",
                            "--post-rotate", hook, "state", "all")
            self.churn(ns, conns=600)
            t.stop(settle=0.5)
            ring = self.tracer(ns, "-E", "--write", self.path("r3.cap"), "--rotate-size", "4k",
                               "--rotate-count", "3", "state", "all")
            self.churn(ns, conns=600, port=PORT + 10)
            ring.stop(settle=0.5)
        self.assertEqual((t.rc, ring.rc), (0, 0), t.stderr + ring.stderr)
        files = sorted(glob.glob(base + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
        self.assertGreater(len(files), 2)
        # each closed file went to the hook (the last one too, at the stop); the hooks run
        # side by side, so their lines may come in any order
        self.assertEqual(sorted(slurp(log).split()), sorted(files))
        # each file reads alone; together they are the rows printed
        self.assertEqual(self.read_each(files), rows(t.stdout))
        together = read_back("--read", base, "-n", "-H", "state", "all")
        self.assertEqual(together.returncode, 0, together.stderr)
        self.assertEqual(rows(together.stdout), rows(t.stdout))
        # a file cut short in the middle of the set (a crash), another with a broken header:
        # every other file is still read, each damage is one line, and the status is 6
        cut, broken = files[1], files[-2]
        with open(cut, "rb") as f:
            data = f.read()
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        with open(broken, "r+b") as f:
            f.truncate(20)
        damaged = read_back("--read", base, "-n", "-H", "state", "all")
        self.assertEqual(damaged.returncode, EXIT_DAMAGED, damaged.stderr)
        lines = [l for l in damaged.stderr.splitlines() if ": damaged at byte " in l]
        self.assertEqual(len(lines), 2, damaged.stderr)
        self.assertTrue(lines[0].startswith("sstrace: %s: damaged at byte " % broken), lines[0])
        self.assertTrue(lines[0].endswith(" (not read)"), lines[0])
        self.assertRegex(lines[1], DAMAGE_RE)
        self.assertEqual(DAMAGE_RE.match(lines[1]).group(1), cut)
        got = rows(damaged.stdout)
        whole = [f for f in files if f not in (cut, broken)]
        cut_rows = rows(read_back("--read", cut, "-n", "-H", "state", "all").stdout)
        self.assertGreater(len(cut_rows), 0)
        self.assertEqual(sorted(map(tuple, got)),
                         sorted(map(tuple, self.read_each(whole) + cut_rows)))
        # a ring of 3: the last three files only
        kept = sorted(glob.glob(self.path("r3.cap.*")), key=lambda p: int(p.rsplit(".", 1)[1]))
        self.assertEqual(len(kept), 3, kept)
        self.assertGreater(int(kept[0].rsplit(".", 1)[1]), 0)
        self.read_each(kept)

    def test_rotation_by_time_with_a_strftime_name(self):
        pattern = self.path("t-%H%M%S.cap")
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", pattern, "--rotate-seconds", "1", "--print",
                            "state", "all")
            # 1.5 s apart: a batch's rows reach the writer up to a drain tick (100 ms) after
            # their time, so batches 1.1 s apart could land less than a second apart and share
            # a file
            for k in range(3):
                self.churn(ns, conns=100, port=PORT + 10 * k)
                time.sleep(1.5)
            t.stop(settle=0.2)
        self.assertEqual(t.rc, 0, t.stderr)
        files = sorted(glob.glob(self.path("t-*.cap*")))
        self.assertGreaterEqual(len(files), 3, files)
        for f in files:
            self.assertRegex(os.path.basename(f), r"^t-\d{6}\.cap(\.\d+)?$")
        got = self.read_each(sorted(files, key=os.path.getmtime))
        self.assertEqual(got, rows(t.stdout))


def tw_tuple(tokens):
    return (tokens[-2], tokens[-1])


class WatchCaptureTest(CaptureBase):
    """--watch --write: each file starts with the live table, so that it stands alone."""

    def split(self, output):
        """(listed tuples, changed tuples) of `--watch -H state time-wait` rows: the listing's
        rows have no Netid column, the stream's start with it."""
        listed, changed = [], []
        for r in rows(output):
            (changed if r[0] == "tcp" else listed).append(tw_tuple(r))
        return listed, changed

    def assert_once_each(self, listed, changed, what):
        both = listed + changed
        self.assertEqual(len(both), len(set(both)), "%s: a tuple twice" % what)

    def test_watch_capture_reads_back_as_printed_and_each_file_stands_alone(self):
        base = self.path("watch.cap")
        args = ["-n", "state", "time-wait"]
        with Netns() as ns:
            # no TIME-WAIT tuple is entered twice, and none ends within the test's seconds
            ns.sysctl("net.ipv4.tcp_tw_reuse", 0)
            ns.sysctl("net.ipv4.ip_local_port_range", "20000 65535")
            self.churn(ns, conns=600, port=PORT)  # TIME-WAIT sockets before the start
            t = self.tracer(ns, "-E", "--watch", "--write", base, "--rotate-size", "16k",
                            "--print", *args)
            for k in range(1, 4):
                self.churn(ns, conns=500, port=PORT + 10 * k)
            time.sleep(0.3)
            t.stop(settle=0.5)
            now = ns.run("ss", "-Htn", "state", "time-wait", check=True).stdout
        final = {tw_tuple(l.split()) for l in now.splitlines() if l.strip()}
        self.assertEqual(t.rc, 0, t.stderr)
        self.assert_no_loss(t)
        listed, changed = self.split(t.stdout)
        self.assertGreater(len(listed), 100)
        self.assertGreater(len(changed), 300)
        self.assert_once_each(listed, changed, "live")
        self.assertEqual(set(listed) | set(changed), final)

        # the set read back: the listing, then the changes, byte for byte as printed
        back = read_back("--read", base, "--watch", *args)
        self.assertEqual(back.returncode, 0, back.stderr)
        self.assertEqual(back.stdout, t.stdout)

        # each file alone: its table (the sockets when it started), then its changes; no
        # tuple twice, nothing the kernel did not have; the last one ends at the kernel's set
        files = sorted(glob.glob(base + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
        self.assertGreaterEqual(len(files), 3, files)
        previous = set()
        for f in files:
            r = read_back("--read", f, "--watch", "-H", *args)
            self.assertEqual(r.returncode, 0, (f, r.stderr))
            f_listed, f_changed = self.split(r.stdout)
            self.assert_once_each(f_listed, f_changed, f)
            self.assertLessEqual(set(f_listed) | set(f_changed), final, f)
            # TIME-WAIT only grows here: a later file's table holds every earlier one's
            self.assertLessEqual(previous, set(f_listed), f)
            previous = set(f_listed)
        self.assertEqual(set(f_listed) | set(f_changed), final, files[-1])
        # JSON lines of the same: the listing's sockets, then the events
        js = read_back("--read", files[-1], "--watch", "--json", *args)
        objs = [json.loads(l) for l in js.stdout.splitlines()]
        self.assertEqual(sum(o["type"] == "socket" for o in objs), len(f_listed))
        self.assertEqual(sum(o["type"] == "event" for o in objs), len(f_changed))

    def test_watch_read_back_errors(self):
        plain = self.path("plain.cap")
        with Netns() as ns:
            t = self.tracer(ns, "-E", "--write", plain, "state", "time-wait")
            t.stop(settle=0.2)
        self.assertEqual(t.rc, 0, t.stderr)
        r = read_back("--read", plain, "--watch")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "sstrace: --read %s --watch: this capture holds no table of "
                         "sockets (it was written without --watch; read it without "
                         "--watch)\n" % plain)
        r = read_back("--read", plain, "--watch", "--since", "03:00")
        self.assertEqual(r.returncode, 255)
        self.assertIn("--watch with --since", r.stderr)
        with open(plain, "rb") as f:
            r = subprocess.run([SSTRACE, "--read", "-", "--watch"], stdin=f, capture_output=True,
                               text=True, timeout=60)
        self.assertEqual(r.returncode, 255)
        self.assertIn("cannot be read twice", r.stderr)


if __name__ == "__main__":
    main([ReadBackTest, LossTest, JsonTest, DamageTest, RotationTest, WatchCaptureTest])
