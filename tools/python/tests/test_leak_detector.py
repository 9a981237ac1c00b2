"""Tests of heapwise.LeakDetector over the real libheapwise.so and the real tracer: a Python child
runs under LD_PRELOAD=libheapwise_preload.so with PYTHONMALLOC=malloc, plants native leaks
through ctypes between two snapshots and reports what the detector saw; the rows must carry the
exact bytes and blocks, print exactly as CPython's tracemalloc prints the same numbers, and match
the offline diff of the child's own trace; a watch fires on growth past its bound. Without the
tracer the detector refuses with a typed error.
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)


def _lib_path():
    lib = os.environ.get("HEAPWISE_LIB")
    if lib:
        return lib
    return os.path.join(PKG_ROOT, "..", "..", "build", "api", "libheapwise.so")


def _preload_path():
    env = os.environ.get("HEAPWISE_PRELOAD")
    if env:
        return env
    # HEAPWISE_LIB is BUILD/api/libheapwise.so; the tracer is BUILD/preload/.
    build = os.path.dirname(os.path.dirname(os.path.abspath(_lib_path())))
    return os.path.join(build, "preload", "libheapwise_preload.so")


CHILD = textwrap.dedent("""
    import ctypes, json, sys, tracemalloc
    from heapwise import DetectorError, LeakDetector

    class Key:
        def __init__(self, text):
            self.text = text
        def __str__(self):
            return self.text

    out = {}
    try:
        det = LeakDetector()
    except DetectorError as e:
        print(json.dumps({"error": e.kind, "message": str(e)}))
        sys.exit(0)
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    base = det.take_snapshot("P1")
    keep = [libc.malloc(123457) for _ in range(40)]
    now = det.take_snapshot("P2")
    rows = now.compare_to(base, "module")
    out["rows"] = [[r.key, r.size, r.size_diff, r.count, r.count_diff] for r in rows]
    out["texts"] = [str(r) for r in rows]
    out["tracemalloc"] = [str(tracemalloc.StatisticDiff(Key(r.key), r.size, r.size_diff, r.count,
                                                        r.count_diff)) for r in rows]
    stats = now.statistics("module", top=2)
    out["stats_texts"] = [str(r) for r in stats]
    out["stats_tracemalloc"] = [str(tracemalloc.Statistic(Key(r.key), r.size, r.count))
                                for r in stats]
    out["started_late"] = det.started_late
    out["estimated"] = now.estimated
    try:
        now.compare_to(now)
    except DetectorError as e:
        out["same"] = e.kind
    try:
        now.compare_to(base, "nope")
    except ValueError as e:
        out["bad_key"] = str(e)
    try:
        now.compare_to(base, include=["nope:*"])
    except DetectorError as e:
        out["bad_filter"] = e.kind
    out["report"] = det.report(top=3, min_growth=1 << 20, key_type="module", since=base)

    import threading
    fired = threading.Event()
    got = {}
    def on_growth(e):
        got.update(growth=e["growth"], raised=e["raised"],
                   top=[[r.key, r.size_diff, r.count_diff] for r in e["top"]])
        fired.set()
    watch = det.watch(on_growth, min_growth=2 << 20, every=0.01, key_type="module",
                      include=["module:libffi*"])
    big = libc.malloc(3 << 20)
    out["watch_fired"] = fired.wait(20)
    watch.stop()
    out["watch"] = got
    out["watch_checks"] = watch.checks
    print(json.dumps(out))
    sys.stdout.flush()
""")


def run_child(traced, trace_dir):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HEAPWISE_") and k not in ("LD_PRELOAD", "MALLOC_PERTURB_")}
    env["PYTHONPATH"] = PKG_ROOT
    env["HEAPWISE_LIB"] = os.path.abspath(_lib_path())
    env["PYTHONMALLOC"] = "malloc"
    if traced:
        env["LD_PRELOAD"] = os.path.abspath(_preload_path())
        env["HEAPWISE_LIVE"] = "1"
        env["HEAPWISE_OUTPUT"] = os.path.join(trace_dir, "py.%p.hwt")
    p = subprocess.run(["/usr/bin/python3", "-c", CHILD], env=env, capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"child exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


@unittest.skipUnless(os.path.exists(_preload_path()), "the tracer is not built")
class LeakDetectorTest(unittest.TestCase):
    def test_planted_native_leak_rows_match_tracemalloc_and_offline(self):
        with tempfile.TemporaryDirectory() as d:
            out = run_child(True, d)
            traces = [f for f in os.listdir(d) if f.endswith(".hwt")]
            self.assertEqual(len(traces), 1)
            trace = os.path.join(d, traces[0])
            rows = out["rows"]
            ffi = [r for r in rows if r[0].startswith("libffi.so")]
            self.assertEqual(len(ffi), 1, rows)
            self.assertEqual(ffi[0][2:], [40 * 123457, 40, 40])
            self.assertGreaterEqual(ffi[0][1], 40 * 123457)
            self.assertEqual(out["texts"], out["tracemalloc"])
            self.assertEqual(out["stats_texts"], out["stats_tracemalloc"])
            self.assertEqual(len(out["stats_texts"]), 2)
            self.assertFalse(out["started_late"])
            self.assertFalse(out["estimated"])
            self.assertEqual(out["same"], "same_snapshot")
            self.assertIn("unknown key_type 'nope'", out["bad_key"])
            self.assertEqual(out["bad_filter"], "bad_argument")
            self.assertIn(" 1 site grew by at least 1024 KiB (by module)\n", out["report"])
            self.assertIn("\n  #1 " + ffi[0][0] + ": +4823 KiB (size ", out["report"])
            self.assertTrue(out["watch_fired"])
            self.assertTrue(out["watch"]["raised"])
            self.assertGreaterEqual(out["watch"]["growth"], 2 << 20)  # the bound; others vary
            self.assertEqual(len(out["watch"]["top"]), 1)
            self.assertTrue(out["watch"]["top"][0][0].startswith("libffi.so"))
            self.assertEqual(out["watch"]["top"][0][1:], [3 << 20, 1])
            # The same figures offline: `heapwise diff` on the child's trace at its markers.
            cli = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(_lib_path()))),
                               "tools", "cli", "heapwise")
            if os.path.exists(cli):
                diff = subprocess.run([cli, "diff", trace, "--from", "P1", "--to", "P2", "--by",
                                       "module", "--top", "0"], capture_output=True, text=True,
                                      timeout=120)
                self.assertEqual(diff.returncode, 0, diff.stderr)
                for text in out["texts"]:
                    self.assertIn(text + "\n", diff.stdout)

    def test_without_the_tracer_a_typed_error(self):
        with tempfile.TemporaryDirectory() as d:
            out = run_child(False, d)
        self.assertEqual(out["error"], "no_tracer")
        self.assertIn("heapwise_detector_create: heapwise::LeakDetector: the heapwise tracer is "
                      "not recording in this process", out["message"])


if __name__ == "__main__":
    unittest.main()
