"""Tests of get_memory_stats, force_cleanup and MemoryMonitor over the real libheapwise.so: exact
figures from fixture /proc and cgroup trees (v1 and v2) written to a temp dir, threshold crossings
with hysteresis and repeats driven by an injected source and the library's manual clock, a cache
shrinking under pressure, and a real monitor crossing real thresholds.
"""

import logging
import os
import tempfile
import threading
import time
import unittest

from heapwise import Cache, HeapwiseError, MemoryMonitor, force_cleanup, get_memory_stats

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


MEMINFO = "MemTotal:       16384000 kB\nMemFree:         1000000 kB\nMemAvailable:    4096000 kB\n"
STATUS = "Name:\tscraper\nVmHWM:\t  512000 kB\nVmRSS:\t  256000 kB\n"


class MemoryStatsTest(unittest.TestCase):
    def test_real_sample(self):
        s = get_memory_stats()
        for key in ("total_mb", "available_mb", "used_mb", "percent", "system_total_mb",
                    "process_rss_mb", "process_peak_mb", "cgroup_version", "sources"):
            self.assertIn(key, s)
        self.assertGreater(s["total_mb"], 0)
        self.assertGreater(s["used_mb"], 0)
        self.assertAlmostEqual(s["used_mb"] + s["available_mb"], s["total_mb"], places=6)
        self.assertGreater(s["percent"], 0)
        self.assertLessEqual(s["percent"], 100)
        self.assertAlmostEqual(s["percent"], 100 * s["used_bytes"] / s["limit_bytes"], places=6)
        self.assertGreater(s["process_rss_mb"], 1)  # a Python interpreter is several MB
        self.assertGreaterEqual(s["process_peak_mb"], s["process_rss_mb"])
        self.assertEqual(s["sources"]["process_rss"], "status_vmrss")
        self.assertIn(s["cgroup_version"], (0, 1, 2))

    def test_system_figures_from_a_fixture(self):
        with tempfile.TemporaryDirectory() as root:
            write_tree(root, {"proc/meminfo": MEMINFO, "proc/self/status": STATUS})
            s = get_memory_stats(root=root)
        self.assertEqual(s["system_total_mb"], 16384000 / 1024)
        self.assertEqual(s["system_available_mb"], 4096000 / 1024)
        self.assertEqual(s["system_used_mb"], (16384000 - 4096000) / 1024)
        self.assertEqual(s["system_percent"], 75.0)
        self.assertEqual(s["total_mb"], 16000.0)  # no cgroup: the limit is MemTotal
        self.assertEqual(s["percent"], 75.0)
        self.assertEqual(s["process_rss_mb"], 250.0)
        self.assertEqual(s["process_peak_mb"], 500.0)
        self.assertIsNone(s["container_limit_mb"])
        self.assertEqual(s["sources"]["limit"], "meminfo_total")
        self.assertEqual(s["sources"]["system_available"], "meminfo_available")

    def test_cgroup_v2_limit_is_the_headline(self):
        with tempfile.TemporaryDirectory() as root:
            write_tree(root, {
                "proc/meminfo": MEMINFO,
                "proc/self/status": STATUS,
                "proc/self/cgroup": "0::/app\n",
                "proc/self/mountinfo": "27 21 0:26 / /sys/fs/cgroup rw,relatime shared:4 - "
                                       "cgroup2 cgroup2 rw\n",
                "sys/fs/cgroup/app/memory.max": "536870912\n",
                "sys/fs/cgroup/app/memory.high": "max\n",
                "sys/fs/cgroup/app/memory.current": "301989888\n",
                "sys/fs/cgroup/app/memory.stat": "anon 250000000\ninactive_file 33554432\n",
            })
            s = get_memory_stats(root=root)
        self.assertEqual(s["cgroup_version"], 2)
        self.assertEqual(s["container_limit_mb"], 512.0)
        self.assertEqual(s["total_mb"], 512.0)
        self.assertEqual(s["used_mb"], 256.0)  # 288 MiB charged minus 32 MiB inactive file
        self.assertEqual(s["available_mb"], 256.0)
        self.assertEqual(s["percent"], 50.0)
        self.assertEqual(s["container_limit_depth"], 0)
        self.assertEqual(s["sources"]["limit"], "cgroup_v2_max")
        self.assertEqual(s["sources"]["used"], "cgroup_v2_current")

    def test_cgroup_v1_limit_from_a_parent(self):
        with tempfile.TemporaryDirectory() as root:
            unlimited = "9223372036854771712\n"
            write_tree(root, {
                "proc/meminfo": MEMINFO,
                "proc/self/status": STATUS,
                "proc/self/cgroup": "4:memory:/jobs/one\n0::/\n",
                "proc/self/mountinfo": "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - "
                                       "cgroup cgroup rw,memory\n",
                "sys/fs/cgroup/memory/memory.limit_in_bytes": unlimited,
                "sys/fs/cgroup/memory/jobs/memory.limit_in_bytes": "1073741824\n",
                "sys/fs/cgroup/memory/jobs/memory.usage_in_bytes": "1073741824\n",
                "sys/fs/cgroup/memory/jobs/memory.stat": "total_inactive_file 268435456\n",
                "sys/fs/cgroup/memory/jobs/one/memory.limit_in_bytes": unlimited,
                "sys/fs/cgroup/memory/jobs/one/memory.usage_in_bytes": "104857600\n",
                "sys/fs/cgroup/memory/jobs/one/memory.stat": "total_inactive_file 0\n",
            })
            s = get_memory_stats(root=root)
        self.assertEqual(s["cgroup_version"], 1)
        self.assertEqual(s["container_limit_mb"], 1024.0)
        self.assertEqual(s["container_limit_depth"], 1)
        self.assertEqual(s["total_mb"], 1024.0)
        self.assertEqual(s["used_mb"], 768.0)  # usage of the limiting cgroup, minus inactive file
        self.assertEqual(s["percent"], 75.0)
        self.assertEqual(s["sources"]["limit"], "cgroup_v1_limit")


class ForceCleanupTest(unittest.TestCase):
    def test_steps_are_measured(self):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Cache(max_memory=8 * MiB, max_disk=64 * MiB, spill_dir=tmp)
            for i in range(64):
                cache[f"k{i}"] = bytes([i]) * (64 * KiB)
            before = cache.stats()
            r = force_cleanup()
            after = cache.stats()
            self.assertEqual(list(r["steps"]), ["shrink_caches", "malloc_trim", "mi_collect"])
            self.assertEqual(r["total"], r["rss_before"] - r["rss_after"])
            self.assertGreater(r["rss_before"], 0)
            # The cache's memory went to disk, and the library reported how much it moved.
            self.assertEqual(after["memory_items"], 0)
            self.assertEqual(after["items"], before["items"])
            self.assertGreaterEqual(r["reported"]["shrink_caches"], 64 * 64 * KiB)
            self.assertEqual(cache["k5"], bytes([5]) * (64 * KiB))
            cache.close()


class ScriptedSource:
    """Memory readings chosen by the test: percent of a 1 GiB limit."""

    def __init__(self, percent):
        self.percent = percent

    def bytes(self, percent=None):
        return int((self.percent if percent is None else percent) / 100 * GiB)

    def __call__(self):
        used = self.bytes()
        return {"limit": GiB, "used": used, "percent": self.percent, "system_total": GiB,
                "system_used": used, "system_available": GiB - used,
                "system_percent": self.percent}


class MonitorTest(unittest.TestCase):
    def make(self, source, **kw):
        events = []
        opts = dict(warning_threshold=80.0, critical_threshold=90.0, hysteresis=5.0, repeat=0,
                    interval=1.0, psi=False, source=source, manual_clock=True,
                    callback=lambda level, stats: events.append((level, stats["percent"])))
        opts.update(kw)
        m = MemoryMonitor(**opts)
        self.addCleanup(m.close)
        return m, events

    def test_thresholds_with_hysteresis(self):
        src = ScriptedSource(50.0)
        m, events = self.make(src)
        m.start()
        seen = []
        for pct in (50, 85, 95, 88, 84, 80, 70):
            src.percent = float(pct)
            m.advance(1.0)
            seen.append(m.level)
        self.assertEqual(seen, ["normal", "warning", "critical", "critical", "warning",
                                "warning", "normal"])
        self.assertEqual([e[0] for e in events], ["warning", "critical", "warning", "normal"])
        # The callback saw the figures of the reading that changed the level.
        self.assertAlmostEqual(events[0][1], 85.0, places=5)
        self.assertAlmostEqual(events[1][1], 95.0, places=5)

    def test_repeat_interval(self):
        src = ScriptedSource(85.0)
        m, events = self.make(src, repeat=2.0)
        m.start()
        for _ in range(6):
            m.advance(1.0)
        # Already warning at t=0; the subscriber hears it at its first sample (t=1), then again
        # at t=3 and t=5: never more often than every 2 s.
        self.assertEqual([e[0] for e in events], ["warning"] * 3)

    def test_check_threshold_and_window(self):
        series = [50.0, 60.0, 70.0, 85.0]
        src = ScriptedSource(series[0])
        m, _ = self.make(src)  # the monitor samples once at t=0 when it starts
        m.start()
        for pct in series[1:]:
            src.percent = pct
            m.advance(1.0)
        self.assertTrue(m.check_threshold("warning"))
        self.assertFalse(m.check_threshold("critical"))
        src.percent = 91.0
        self.assertTrue(m.check_threshold("critical"))
        self.assertEqual(m.level, "warning")  # check() changes no monitor state
        with self.assertRaises(ValueError):
            m.check_threshold("severe")
        w = m.window()
        b = [src.bytes(p) for p in series]
        self.assertEqual(w["count"], 4)
        self.assertEqual((w["min"], w["max"]), (min(b), max(b)))
        self.assertEqual(w["growth"], b[-1] - b[0])
        self.assertEqual(w["p50"], sorted(b)[1])  # nearest rank: ceil(0.5 * 4) = 2nd
        self.assertEqual(w["seconds"], 3.0)
        t = [0.0, 1.0, 2.0, 3.0]
        tm, bm = sum(t) / 4, sum(b) / 4
        slope = sum((x - tm) * (y - bm) for x, y in zip(t, b)) / sum((x - tm) ** 2 for x in t)
        self.assertAlmostEqual(w["slope"], slope, delta=abs(slope) * 1e-9)
        stats = m.get_stats()
        self.assertEqual(stats["samples"], 4)
        self.assertEqual(stats["level"], "warning")
        self.assertEqual(stats["max_mb"], max(b) / MiB)
        self.assertEqual(stats["mode"], "polling")
        with self.assertLogs("heapwise", level="INFO") as logs:
            line = m.log_stats()
        self.assertIn("warning", line)
        self.assertIn(line, logs.output[0])

    def test_attached_cache_spills_under_pressure_and_regrows(self):
        src = ScriptedSource(50.0)
        m, _ = self.make(src)
        with tempfile.TemporaryDirectory() as tmp:
            cache = Cache(max_memory=2 * MiB, max_disk=64 * MiB, spill_dir=tmp, shards=1)
            self.addCleanup(cache.close)
            for i in range(16):
                cache[f"k{i}"] = bytes([i]) * (64 * KiB)
            m.attach(cache, spill_fraction=0.5, regrow_step=0.5, regrow_interval=10.0)
            m.start()
            m.advance(1.0)
            self.assertEqual(cache.stats()["disk_items"], 0)
            src.percent = 85.0
            m.advance(1.0)
            s = cache.stats()
            # At least the colder half of the bytes went to disk (a spilled entry's index stays
            # charged to memory, so the library may spill one more to get there).
            self.assertGreaterEqual(s["disk_items"], 8)
            self.assertLess(s["disk_items"], 16)
            self.assertEqual(s["memory_items"] + s["disk_items"], 16)
            self.assertIn("k15", cache)
            self.assertIsNone(cache.get("nothing"))
            self.assertIn("k0", cache)
            src.percent = 95.0
            m.advance(1.0)
            self.assertEqual(cache.stats()["memory_items"], 0)
            self.assertLess(cache.stats()["memory_limit"], 2 * MiB)
            src.percent = 50.0
            for _ in range(30):
                m.advance(1.0)
            self.assertEqual(cache.stats()["memory_limit"], 2 * MiB)
            for i in range(16):
                self.assertEqual(cache[f"k{i}"], bytes([i]) * (64 * KiB))

    def test_a_failing_callback_is_logged_and_the_monitor_goes_on(self):
        src = ScriptedSource(95.0)
        m, events = self.make(src)

        def bad(level, stats):
            if level == "critical":
                raise RuntimeError("callback bug")

        m.add_callback(bad)
        m.start()
        with self.assertLogs("heapwise", level="ERROR") as logs:
            m.advance(1.0)
        self.assertIn("callback bug", "\n".join(logs.output))
        self.assertEqual(events[0][0], "critical")
        src.percent = 10.0
        m.advance(1.0)
        self.assertEqual(m.level, "normal")

    def test_bad_input(self):
        for kw in ({"warning_threshold": -1}, {"warning_threshold": 0},
                   {"warning_threshold": 95, "critical_threshold": 90},
                   {"critical_threshold": 150}, {"interval": 0}, {"interval": -1},
                   {"metric": "swap"}, {"window": 0}, {"window": -5}):
            with self.assertRaises(ValueError, msg=kw):
                MemoryMonitor(**kw)
        m = MemoryMonitor(psi=False)
        with self.assertRaises(HeapwiseError):
            m.advance(1.0)  # no manual clock
        m.close()
        m.close()
        with self.assertRaises(ValueError):
            m.check()

    def test_real_monitor_crosses_real_thresholds(self):
        crossed = threading.Event()
        levels = []

        def cb(level, stats):
            levels.append(level)
            if level == "critical":
                crossed.set()

        # Any machine uses more than 0.002 % of its memory.
        with MemoryMonitor(warning_threshold=0.001, critical_threshold=0.002, interval=0.05,
                           callback=cb) as m:
            self.assertTrue(crossed.wait(10), "no critical callback within 10 s")
            self.assertTrue(m.check_threshold("critical"))
            self.assertTrue(m.running)
            self.assertIn(m.mode[0], ("psi", "polling"))
        self.assertEqual(levels[0], "critical")
        with MemoryMonitor(warning_threshold=99.998, critical_threshold=99.999) as m:
            self.assertFalse(m.check_threshold("warning"))
            self.assertEqual(m.level, "normal")


if __name__ == "__main__":
    logging.basicConfig()
    unittest.main()
