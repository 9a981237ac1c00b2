"""Tests of heapwise.Cache's eviction listener over the real libheapwise.so: every cause with the
exact keys in LRU order, spills to a real temp directory, the monitor's measured action text,
a listener that uses the cache (also from inside get_many) and one that raises.
Run: cd tools/python && HEAPWISE_LIB=<repo>/build/api/libheapwise.so python3 -m unittest -v
"""

import re
import sys
import tempfile
import threading
import unittest

from heapwise import Cache, MemoryMonitor
from heapwise.cache import CAUSES, EvictionEvent

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


class ListenerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hw-pylistener-")
        self.addCleanup(self.tmp.cleanup)
        self.events = []

    def cache(self, **kw):
        opts = dict(max_memory=64 * KiB, max_disk=0, shards=1, listener=self.events.append)
        opts.update(kw)
        c = Cache(**opts)
        self.addCleanup(c.close)
        return c

    def test_causes_replaced_removed_evicted_in_lru_order(self):
        c = self.cache()
        c["a"] = b"1" * 100
        c["a"] = b"2" * 100
        self.assertEqual([(e.key, e.cause, e.to_disk, e.reason) for e in self.events],
                         [(b"a", "replaced", False, "")])
        self.assertGreater(self.events[0].bytes, 100)
        del c["a"]
        self.assertEqual(self.events[-1][:2], (b"a", "removed"))
        self.events.clear()
        for i in range(30):  # 30 x 4 KiB into 64 KiB: the oldest go first
            c[f"k{i}"] = bytes([i]) * (4 * KiB)
            if i == 10:
                c.get("k0")  # k0 becomes the most recent
        evicted = [e.key for e in self.events]
        self.assertTrue(all(e.cause == "evicted" and not e.to_disk for e in self.events))
        self.assertGreater(len(evicted), 10)
        self.assertEqual(evicted[:3], [b"k1", b"k2", b"k3"])
        for k in evicted:
            self.assertNotIn(k, c)
        self.assertEqual(len(evicted), c.stats()["evictions"])
        self.events.clear()
        n = c.stats()["items"]
        c.clear()
        self.assertEqual(len(self.events), n)
        self.assertTrue(all(e.cause == "removed" for e in self.events))

    def test_spilled_entries_report_to_disk_and_pressure_its_reason(self):
        c = self.cache(max_disk=16 * MiB, spill_dir=self.tmp.name)
        for i in range(20):
            c[f"k{i}"] = bytes([i]) * (8 * KiB)
        spilled = [e for e in self.events if e.cause == "spilled"]
        self.assertGreater(len(spilled), 0)
        self.assertTrue(all(e.to_disk for e in spilled))
        self.assertEqual(spilled[0].key, b"k0")
        self.assertEqual(c["k0"], bytes([0]) * (8 * KiB))  # still there, from disk
        self.events.clear()
        c.spill(1.0)
        self.assertGreater(len(self.events), 0)
        for e in self.events:
            self.assertEqual((e.cause, e.to_disk, e.reason), ("pressure", True, "heapwise_cache_spill"))
        self.assertEqual(c.stats()["memory_items"], 0)

    def test_monitor_actions_reach_the_listener_as_measured_text(self):
        class Source:
            percent = 50.0

            def __call__(self):
                used = int(self.percent / 100 * GiB)
                return {"limit": GiB, "used": used, "percent": self.percent,
                        "system_total": GiB, "system_used": used, "system_available": GiB - used,
                        "system_percent": self.percent}

        src = Source()
        m = MemoryMonitor(warning_threshold=80.0, critical_threshold=90.0, hysteresis=5.0,
                          repeat=0, interval=1.0, psi=False, source=src, manual_clock=True)
        self.addCleanup(m.close)
        c = self.cache(max_memory=2 * MiB, max_disk=64 * MiB, spill_dir=self.tmp.name)
        for i in range(16):
            c[f"k{i}"] = bytes([i]) * (64 * KiB)
        m.attach(c, spill_fraction=0.5)
        m.start()
        m.advance(1.0)
        self.assertEqual(self.events, [])
        src.percent = 85.0
        before = c.stats()["memory_bytes"]
        m.advance(1.0)
        freed = before - c.stats()["memory_bytes"]
        self.assertGreater(len(self.events), 0)
        reasons = {e.reason for e in self.events}
        self.assertEqual(len(reasons), 1)  # one action, one text
        reason = reasons.pop()
        self.assertRegex(reason, r"^spilled [0-9.]+ [KM]iB because .* crossed 80 % \(85\.0 % now\)$")
        self.assertEqual(sum(e.bytes for e in self.events), freed)  # the text's measured bytes
        amount, unit = re.match(r"spilled ([0-9.]+) ([KM]iB)", reason).groups()
        self.assertAlmostEqual(float(amount) * (KiB if unit == "KiB" else MiB), freed,
                               delta=0.06 * freed)
        self.assertTrue(all(e.cause == "pressure" and e.to_disk for e in self.events))

    def test_listener_may_use_the_cache_even_inside_get_many(self):
        seen = []
        c = None

        def listener(e):
            seen.append((e.key, e.cause, c.get("anchor")))  # re-enters the cache

        c = Cache(max_memory=256 * KiB, max_disk=16 * MiB, spill_dir=self.tmp.name, shards=1,
                  listener=listener)
        self.addCleanup(c.close)
        c["anchor"] = b"A" * 10
        for i in range(16):
            c[f"k{i}"] = bytes([i + 1]) * (30 * KiB)
        self.assertGreater(c.stats()["disk_items"], 0)
        seen.clear()
        # Reloading the spilled ones promotes them and spills others: events fire inside the
        # batch call, and the listener's own get must not overwrite the batch's results.
        keys = [f"k{i}" for i in range(16)]
        got = c.get_many(keys)
        self.assertEqual(got, {f"k{i}": bytes([i + 1]) * (30 * KiB) for i in range(16)})
        self.assertGreater(len(seen), 0)
        self.assertTrue(all(a == b"A" * 10 for _, _, a in seen))

    def test_a_raising_listener_is_reported_and_the_cache_goes_on(self):
        caught = []
        old = sys.unraisablehook
        sys.unraisablehook = caught.append
        self.addCleanup(setattr, sys, "unraisablehook", old)

        def listener(e):
            raise RuntimeError(f"boom {e.key!r}")

        c = Cache(max_memory=16 * KiB, max_disk=0, shards=1, listener=listener)
        self.addCleanup(c.close)
        for i in range(10):
            c[f"k{i}"] = b"x" * (4 * KiB)
        self.assertGreater(len(caught), 0)
        self.assertIsInstance(caught[0].exc_value, RuntimeError)
        self.assertIn("boom b'k0'", str(caught[0].exc_value))
        self.assertEqual(c["k9"], b"x" * (4 * KiB))

    def test_events_from_other_threads(self):
        c = self.cache(max_memory=32 * KiB)
        threads = [threading.Thread(target=lambda t=t: [c.set(f"t{t}-{i}", b"v" * KiB)
                                                         for i in range(200)])
                   for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s = c.stats()
        self.assertEqual(len([e for e in self.events if e.cause == "evicted"]), s["evictions"])
        self.assertEqual(s["items"] + s["evictions"], 800)

    def test_bad_listener_and_event_shape(self):
        with self.assertRaises(TypeError):
            Cache(max_memory=MiB, max_disk=0, listener=42)
        self.assertEqual(CAUSES, ("evicted", "spilled", "expired", "removed", "replaced",
                                  "pressure"))
        self.assertEqual(EvictionEvent._fields, ("key", "cause", "bytes", "to_disk", "reason"))


if __name__ == "__main__":
    unittest.main()
