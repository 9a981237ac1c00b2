"""Tests of the compatibility names a scraper already uses (MemoryManager, stream_large_file,
chunked_iterator, memory_efficient_context) over the real libheapwise.so, with real files in real
temp directories: overflow to disk and reload, the stats dict, streaming exact bytes, bad input,
and context managers that leave no spill files behind.
"""

import os
import tempfile
import unittest

from heapwise import (MemoryManager, chunked_iterator, get_memory_stats,
                      memory_efficient_context, stream_large_file)

KiB = 1024
MiB = 1024 * KiB


def page(i, size):
    return (f"<html>{i}</html>".encode() * (size // 10 + 1))[:size]


class MemoryManagerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hw-compat-")
        self.addCleanup(self.tmp.cleanup)

    def manager(self, **kw):
        # A warning threshold no machine reaches keeps the attached monitor from spilling
        # behind the test's back; one shard keeps LRU order exact.
        opts = dict(max_cache_size_mb=1, temp_dir=self.tmp.name, warning_threshold=99.999)
        opts.update(kw)
        mm = MemoryManager(**opts)
        self.addCleanup(mm.close)
        return mm

    def test_set_get_delete_clear(self):
        mm = self.manager()
        mm.set("url1", b"<html>1</html>")
        mm.set("parsed", {"title": "One", "links": ["a", "b"]})
        self.assertEqual(mm.get("url1"), b"<html>1</html>")
        self.assertEqual(mm.get("parsed"), {"title": "One", "links": ["a", "b"]})
        self.assertIsNone(mm.get("absent"))
        self.assertEqual(mm.get("absent", "fallback"), "fallback")
        self.assertTrue(mm.delete("url1"))
        self.assertFalse(mm.delete("url1"))
        self.assertIsNone(mm.get("url1"))
        self.assertIn("parsed", mm)
        mm.clear()
        self.assertEqual(len(mm), 0)

    def test_overflow_to_disk_and_reload(self):
        mm = self.manager(max_cache_size_mb=0.25)
        pages = {f"https://example.com/{i}": page(i, 32 * KiB) for i in range(48)}  # 1.5 MiB
        for url, body in pages.items():
            mm.set(url, body)
        s = mm.get_cache_stats()
        self.assertEqual(s["cache_items"], 48)
        self.assertLessEqual(s["cache_size_mb"], 0.25)
        self.assertGreater(s["disk_items"], 0)
        self.assertGreater(s["disk_size_mb"], 0.5)
        spill_dirs = os.listdir(self.tmp.name)
        self.assertEqual(len(spill_dirs), 1)  # the private directory inside temp_dir
        for url, body in pages.items():
            self.assertEqual(mm.get(url), body, url)
        s = mm.get_cache_stats()
        self.assertEqual(s["hits"], 48)
        self.assertGreater(s["disk_hits"], 0)
        self.assertEqual(s["misses"], 0)

    def test_force_disk(self):
        mm = self.manager()
        mm.set("big", page(1, 200 * KiB), force_disk=True)
        s = mm.get_cache_stats()
        self.assertEqual((s["disk_items"], s["memory_items"]), (1, 0))
        self.assertEqual(mm.get("big"), page(1, 200 * KiB))

    def test_stats_dict(self):
        mm = self.manager(max_cache_size_mb=2)
        mm.set("a", b"x" * 1000)
        mm.get("a")
        mm.get("b")
        s = mm.get_cache_stats()
        for key in ("cache_items", "cache_size_mb", "max_cache_size_mb", "hits", "misses",
                    "hit_rate", "evictions", "spills", "disk_items", "disk_size_mb",
                    "disk_hits"):
            self.assertIn(key, s)
        self.assertEqual(s["cache_items"], 1)
        self.assertEqual((s["hits"], s["misses"]), (1, 1))
        self.assertEqual(s["hit_rate"], 0.5)
        self.assertEqual(s["max_cache_size_mb"], 2.0)
        self.assertGreater(s["cache_size_mb"], 1000 / MiB)
        self.assertEqual((s["evictions"], s["disk_items"], s["disk_size_mb"]), (0, 0, 0.0))

    def test_without_overflow_entries_are_evicted(self):
        mm = self.manager(max_cache_size_mb=0.125, overflow_to_disk=False)
        for i in range(32):
            mm.set(f"k{i}", page(i, 16 * KiB))
        s = mm.get_cache_stats()
        self.assertEqual(s["disk_items"], 0)
        self.assertGreater(s["evictions"], 0)
        self.assertLess(s["cache_items"], 32)
        self.assertLessEqual(s["cache_size_mb"], 0.125)

    def test_cleanup(self):
        mm = self.manager(max_cache_size_mb=0.125)
        for i in range(32):
            mm.set(f"k{i}", page(i, 16 * KiB))
        self.assertEqual(len(os.listdir(self.tmp.name)), 1)
        r = mm.cleanup(force_gc=True)
        self.assertGreaterEqual(r["gc_collected"], 0)
        self.assertEqual(list(r["steps"]["steps"]), ["shrink_caches", "malloc_trim",
                                                     "mi_collect"])
        self.assertEqual(os.listdir(self.tmp.name), [])
        self.assertEqual(mm.get_cache_stats()["cache_items"], 0)
        mm.set("after", b"still works")
        self.assertEqual(mm.get("after"), b"still works")
        self.assertEqual(mm.cleanup(force_gc=False), {})

    def test_context_manager_removes_spill_files(self):
        with MemoryManager(max_cache_size_mb=0.125, temp_dir=self.tmp.name,
                           warning_threshold=99.999) as mm:
            for i in range(32):
                mm.set(f"k{i}", page(i, 16 * KiB))
            self.assertGreater(mm.get_cache_stats()["disk_items"], 0)
            self.assertTrue(mm.monitor.running)
        self.assertEqual(os.listdir(self.tmp.name), [])
        with self.assertRaises(ValueError):
            mm.get("k1")

    def test_defaults_match_the_familiar_signature(self):
        with MemoryManager() as mm:
            self.assertEqual(mm.get_cache_stats()["max_cache_size_mb"], 500.0)
            self.assertTrue(mm.overflow_to_disk)
            mm.set("k", [1, 2, 3])
            self.assertEqual(mm.get("k"), [1, 2, 3])
            self.assertEqual(set(mm.get_memory_stats()) >= {"total_mb", "available_mb",
                                                            "used_mb", "percent"}, True)

    def test_bad_input(self):
        for kw in ({"max_cache_size_mb": -1}, {"max_cache_size_mb": 0},
                   {"max_disk_size_mb": -5}, {"warning_threshold": -3},
                   {"warning_threshold": 0}):
            with self.assertRaises(ValueError, msg=kw):
                MemoryManager(temp_dir=self.tmp.name, **kw)
        with self.assertRaises(TypeError):
            MemoryManager(max_cache_size_mb="500")
        with tempfile.NamedTemporaryFile(dir=self.tmp.name) as f:
            with self.assertRaises(OSError):
                MemoryManager(temp_dir=os.path.join(f.name, "sub"), warning_threshold=99.999)


class StreamTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hw-stream-")
        self.addCleanup(self.tmp.cleanup)

    def write(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_exact_bytes_in_chunks(self):
        data = os.urandom(100_000)
        path = self.write("big.bin", data)
        chunks = list(stream_large_file(path))
        self.assertEqual([len(c) for c in chunks], [8192] * 12 + [100_000 - 12 * 8192])
        self.assertEqual(b"".join(chunks), data)
        chunks = list(stream_large_file(path, chunk_size=1_000_000))
        self.assertEqual(chunks, [data])
        chunks = list(MemoryManager.stream_large_file(path, chunk_size=25_000))
        self.assertEqual(chunks, [data[i:i + 25_000] for i in range(0, 100_000, 25_000)])

    def test_empty_file_and_pathlike(self):
        import pathlib
        path = self.write("empty", b"")
        self.assertEqual(list(stream_large_file(pathlib.Path(path))), [])

    def test_bad_input(self):
        path = self.write("f", b"abc")
        with self.assertRaises(ValueError):
            stream_large_file(path, chunk_size=0)
        with self.assertRaises(ValueError):
            stream_large_file(path, chunk_size=-8192)
        with self.assertRaises(TypeError):
            stream_large_file(path, chunk_size=1.5)
        with self.assertRaises(FileNotFoundError) as ctx:
            stream_large_file(os.path.join(self.tmp.name, "missing.csv"))
        self.assertIn("missing.csv", str(ctx.exception))
        with self.assertRaises(OSError):
            stream_large_file(self.tmp.name)  # a directory

    def test_abandoned_stream_closes_the_file(self):
        path = self.write("g", b"x" * 10_000)
        fds = len(os.listdir("/proc/self/fd"))
        gen = stream_large_file(path, chunk_size=100)
        self.assertEqual(next(gen), b"x" * 100)
        self.assertEqual(len(os.listdir("/proc/self/fd")), fds + 1)
        gen.close()
        self.assertEqual(len(os.listdir("/proc/self/fd")), fds)


class ChunkedIteratorTest(unittest.TestCase):
    def test_batches(self):
        self.assertEqual(list(chunked_iterator(range(250))),
                         [list(range(100)), list(range(100, 200)), list(range(200, 250))])
        self.assertEqual(list(chunked_iterator((x * x for x in range(5)), chunk_size=2)),
                         [[0, 1], [4, 9], [16]])
        self.assertEqual(list(chunked_iterator([], 3)), [])
        self.assertEqual(list(MemoryManager.chunked_iterator("abcd", 3)), [["a", "b", "c"],
                                                                          ["d"]])

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            chunked_iterator([1], 0)
        with self.assertRaises(ValueError):
            chunked_iterator([1], -1)
        with self.assertRaises(TypeError):
            chunked_iterator([1], "10")


class MemoryEfficientContextTest(unittest.TestCase):
    def test_leaves_nothing_behind(self):
        with tempfile.TemporaryDirectory() as tmp:
            with memory_efficient_context(max_cache_size_mb=0.125, temp_dir=tmp,
                                          warning_threshold=99.999) as mm:
                self.assertIsInstance(mm, MemoryManager)
                for i in range(32):
                    mm.set(f"k{i}", page(i, 16 * KiB))
                self.assertEqual(len(os.listdir(tmp)), 1)
                self.assertEqual(mm.get("k3"), page(3, 16 * KiB))
            self.assertEqual(os.listdir(tmp), [])
            with self.assertRaises(ValueError):
                mm.get("k3")

    def test_cleans_up_when_the_block_raises(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(KeyError):
                with memory_efficient_context(max_cache_size_mb=0.125, temp_dir=tmp,
                                              warning_threshold=99.999) as mm:
                    mm.set("k", page(0, 200 * KiB), force_disk=True)
                    raise KeyError("scraper bug")
            self.assertEqual(os.listdir(tmp), [])

    def test_get_memory_stats_keys(self):
        s = get_memory_stats()
        self.assertTrue({"total_mb", "available_mb", "used_mb", "percent"} <= set(s))


if __name__ == "__main__":
    unittest.main()
