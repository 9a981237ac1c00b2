"""Tests of heapwise.Cache over the real libheapwise.so: every public call, value encodings, spill to
a real temp directory and reload, the batch calls, statistics and bad input.
Run: cd tools/python && HEAPWISE_LIB=<repo>/build/api/libheapwise.so python3 -m unittest -v
"""

import os
import stat
import tempfile
import threading
import time
import unittest

from heapwise import Cache, ValueTooLargeError

KiB = 1024
MiB = 1024 * KiB


def payload(i, size):
    """Distinct, non-repeating bytes per (i, size) so a mix-up between entries shows."""
    seed = i.to_bytes(4, "little")
    block = bytes((b * 31 + i) & 0xFF for b in range(256))
    return (seed + block * (size // 256 + 1))[:size]


class CacheBasics(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hw-pytest-")
        self.cache = Cache(max_memory=4 * MiB, max_disk=16 * MiB, spill_dir=self.tmp.name)

    def tearDown(self):
        self.cache.close()
        self.tmp.cleanup()

    def test_bytes_round_trip_and_dict_protocol(self):
        c = self.cache
        c["a"] = b"alpha"
        c.set("b", b"beta")
        self.assertEqual(c["a"], b"alpha")
        self.assertEqual(c.get("b"), b"beta")
        self.assertIs(type(c["a"]), bytes)
        self.assertIn("a", c)
        self.assertNotIn("zzz", c)
        self.assertEqual(len(c), 2)
        self.assertIsNone(c.get("zzz"))
        self.assertEqual(c.get("zzz", 7), 7)
        with self.assertRaises(KeyError):
            c["zzz"]
        self.assertTrue(c.delete("a"))
        self.assertFalse(c.delete("a"))
        del c["b"]
        with self.assertRaises(KeyError):
            del c["b"]
        self.assertEqual(len(c), 0)

    def test_replacing_a_value(self):
        self.cache["k"] = b"one"
        self.cache["k"] = b"two!"
        self.assertEqual(self.cache["k"], b"two!")
        self.assertEqual(len(self.cache), 1)

    def test_non_bytes_values_are_pickled_and_come_back_as_the_same_type(self):
        values = {
            "str": "héllo wörld",
            "int": 12345678901234567890,
            "float": 2.5,
            "none": None,
            "list": [1, "two", 3.0, b"four"],
            "tuple": (1, 2),
            "dict": {"url": "https://example.com", "status": 200, "tags": {"a", "b"}},
            "bytearray": bytearray(b"\x00\x01mutable"),
            "bool": True,
        }
        for k, v in values.items():
            self.cache.set(k, v)
        for k, v in values.items():
            got = self.cache[k]
            self.assertEqual(got, v, k)
            self.assertIs(type(got), type(v), k)

    def test_keys_are_any_bytes_and_str_is_utf8(self):
        weird = [b"", b"\x00", b"\xff\xfe\x00tail", b"../../etc/passwd", b"a/b\\c", "ключ"]
        for i, k in enumerate(weird):
            self.cache[k] = i.to_bytes(2, "little")
        for i, k in enumerate(weird):
            self.assertEqual(self.cache[k], i.to_bytes(2, "little"), k)
        self.assertEqual(self.cache["ключ".encode("utf-8")], (5).to_bytes(2, "little"))
        with self.assertRaises(TypeError):
            self.cache[42] = b"x"

    def test_empty_and_large_values(self):
        self.cache["empty"] = b""
        self.assertEqual(self.cache["empty"], b"")
        big = payload(1, 300 * KiB)  # larger than the per-thread scratch buffer
        self.cache["big"] = big
        self.assertEqual(self.cache["big"], big)

    def test_values_around_the_scratch_size_from_memory_and_disk(self):
        # Up to 64 KiB (tag byte included) a value is copied into the scratch buffer; above it,
        # read through a reference on the cached value (heapwise_cache_get_shared).
        c = self.cache
        sizes = [64 * KiB - 2, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, MiB + 3]
        for i, n in enumerate(sizes):
            c.set(f"b{n}", payload(i, n))
            c.set(f"p{n}", {"n": n, "data": payload(i + 100, n)})
        c.set("disk", payload(7, 200 * KiB), force_disk=True)
        for i, n in enumerate(sizes):
            self.assertEqual(c.get(f"b{n}"), payload(i, n))
            self.assertEqual(c.get(f"p{n}"), {"n": n, "data": payload(i + 100, n)})
        self.assertEqual(c.get("disk"), payload(7, 200 * KiB))
        self.assertEqual(c.stats()["disk_hits"], 1)

    def test_a_shared_reference_outlives_erase_clear_and_the_cache(self):
        import ctypes
        from heapwise._lib import lib
        big = payload(3, 100 * KiB)
        c = Cache(max_memory=4 * MiB, max_disk=0)
        c.set(b"k", big)  # stored with this module's one-byte tag in front
        n, value, data = ctypes.c_size_t(), ctypes.c_void_p(), ctypes.c_void_p()
        small = ctypes.create_string_buffer(16)
        st = lib.heapwise_cache_get_shared(c._handle(), b"k", 1, small, 16, ctypes.byref(n),
                                           ctypes.byref(value), ctypes.byref(data))
        self.assertEqual(st, 0)
        self.assertEqual(n.value, len(big) + 1)
        self.assertTrue(value.value)  # did not fit 16 bytes: a reference
        self.assertTrue(c.delete(b"k"))
        c.clear()
        c.close()
        self.assertEqual(ctypes.string_at(data.value + 1, n.value - 1), big)
        lib.heapwise_value_release(value.value)
        lib.heapwise_value_release(None)
        # A value that fits is copied and hands out no reference.
        with Cache(max_memory=MiB, max_disk=0) as c2:
            c2.set(b"s", b"tiny")
            st = lib.heapwise_cache_get_shared(c2._handle(), b"s", 1, small, 16, ctypes.byref(n),
                                               ctypes.byref(value), ctypes.byref(data))
            self.assertEqual(st, 0)
            self.assertIsNone(value.value)
            self.assertEqual(data.value, ctypes.addressof(small))
            self.assertEqual(small.raw[:n.value], b"\x00tiny")

    def test_stats_counts_hits_misses_and_bytes(self):
        c = self.cache
        c["x"] = payload(1, 1000)
        c["y"] = payload(2, 2000)
        c.get("x")
        c.get("x")
        c.get("nope")
        s = c.stats()
        for key in ("items", "memory_items", "memory_bytes", "disk_items", "disk_bytes",
                    "max_memory", "max_disk", "hits", "misses", "disk_hits", "evictions",
                    "spills", "expirations", "corrupt", "disk_errors", "spill_enabled"):
            self.assertIn(key, s)
        self.assertEqual(s["items"], 2)
        self.assertEqual(s["memory_items"], 2)
        self.assertEqual(s["hits"], 2)
        self.assertEqual(s["misses"], 1)
        self.assertEqual(s["max_memory"], 4 * MiB)
        self.assertEqual(s["max_disk"], 16 * MiB)
        # Both values plus keys and tags, counted with per-entry overhead: at least the raw bytes.
        self.assertGreaterEqual(s["memory_bytes"], 3000 + 2 + 2)
        self.assertLess(s["memory_bytes"], 3000 + 4 * KiB)
        self.assertEqual(s["disk_items"], 0)
        self.assertTrue(s["spill_enabled"])
        c.clear()
        s = c.stats()
        self.assertEqual((s["items"], s["memory_bytes"]), (0, 0))

    def test_get_many_and_set_many(self):
        c = self.cache
        c.set_many({f"k{i}": payload(i, 100 + i) for i in range(50)})
        c.set_many([("obj", {"a": 1}), ("big", payload(99, 200 * KiB))])
        keys = [f"k{i}" for i in range(0, 60, 3)] + ["obj", "big", "absent"]
        got = c.get_many(keys)
        expected = {f"k{i}": payload(i, 100 + i) for i in range(0, 50, 3)}
        expected["obj"] = {"a": 1}
        expected["big"] = payload(99, 200 * KiB)
        self.assertEqual(got, expected)
        self.assertEqual(c.get_many([]), {})
        # A second batch after the scratch buffer grew returns the same values.
        self.assertEqual(c.get_many(keys), expected)
        s = c.stats()
        self.assertEqual(s["hits"], 2 * len(expected))
        self.assertEqual(s["misses"], 2 * (len(keys) - len(expected)))

    def test_ttl_expires_entries(self):
        start = time.monotonic()
        self.cache.set("short", b"v", ttl=0.5)
        self.cache.set("long", b"w", ttl=60)
        got = self.cache.get("short")
        # A machine that stalled past the ttl may rightly have expired it already.
        if time.monotonic() - start < 0.5:
            self.assertEqual(got, b"v")
        time.sleep(max(0.0, start + 0.6 - time.monotonic()))
        self.assertIsNone(self.cache.get("short"))
        self.assertEqual(self.cache["long"], b"w")
        self.assertGreaterEqual(self.cache.stats()["expirations"], 1)

    def test_threads_share_one_cache(self):
        errors = []

        def work(t):
            try:
                for i in range(300):
                    k = f"t{t}-{i}"
                    v = payload(t * 1000 + i, 64 + i)
                    self.cache[k] = v
                    if self.cache[k] != v:
                        errors.append(k)
                    got = self.cache.get_many([k, "absent"])
                    if got != {k: v}:
                        errors.append(("many", k))
            except Exception as e:  # reported by the main thread
                errors.append(repr(e))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(self.cache), 1200)


class CacheSpill(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hw-pytest-")

    def tearDown(self):
        self.tmp.cleanup()

    def spill_dirs(self):
        return [os.path.join(self.tmp.name, d) for d in os.listdir(self.tmp.name)]

    def test_overflow_to_disk_and_reload(self):
        with Cache(max_memory=256 * KiB, max_disk=64 * MiB, spill_dir=self.tmp.name) as c:
            values = {f"page{i}": payload(i, 16 * KiB) for i in range(64)}  # 1 MiB in all
            for k, v in values.items():
                c[k] = v
            s = c.stats()
            self.assertLessEqual(s["memory_bytes"], 256 * KiB)
            self.assertEqual(s["items"], 64)
            self.assertGreater(s["disk_items"], 0)
            self.assertGreater(s["spills"], 0)
            self.assertEqual(s["spills"], s["disk_items"])  # every entry pushed out was kept
            dirs = self.spill_dirs()
            self.assertEqual(len(dirs), 1)
            self.assertEqual(stat.S_IMODE(os.stat(dirs[0]).st_mode), 0o700)
            self.assertGreater(len(os.listdir(dirs[0])), 0)
            for k, v in values.items():
                self.assertEqual(c[k], v, k)
            self.assertGreater(c.stats()["disk_hits"], 0)
            self.assertLessEqual(c.stats()["memory_bytes"], 256 * KiB)
        # Closing (here: leaving the with block) removes the spill directory.
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_force_disk(self):
        with Cache(max_memory=1 * MiB, max_disk=8 * MiB, spill_dir=self.tmp.name) as c:
            blob = payload(7, 100 * KiB)
            c.set("blob", blob, force_disk=True)
            s = c.stats()
            self.assertEqual((s["disk_items"], s["memory_items"]), (1, 0))
            self.assertGreaterEqual(s["disk_bytes"], 100 * KiB)
            self.assertEqual(c["blob"], blob)
            c.set_many({"d1": b"one", "d2": [2]}, force_disk=True)
            self.assertEqual(c.get_many(["d1", "d2"]), {"d1": b"one", "d2": [2]})

    def test_cleanup_removes_directory_and_cache_stays_usable(self):
        c = Cache(max_memory=64 * KiB, max_disk=8 * MiB, spill_dir=self.tmp.name)
        for i in range(20):
            c[f"k{i}"] = payload(i, 8 * KiB)
        self.assertEqual(len(self.spill_dirs()), 1)
        c.cleanup()
        self.assertEqual(os.listdir(self.tmp.name), [])
        self.assertEqual(len(c), 0)
        c["again"] = b"fine"
        self.assertEqual(c["again"], b"fine")
        c.close()
        self.assertTrue(c.closed)
        c.close()  # twice is harmless
        with self.assertRaises(ValueError):
            c.get("again")

    def test_persistent_cache_survives_reopen(self):
        blob = payload(5, 20 * KiB)
        with Cache(max_memory=MiB, max_disk=8 * MiB, spill_dir=self.tmp.name, persistent=True,
                   name="crawl") as c:
            c["page"] = blob
            c.set("meta", {"etag": "abc"}, force_disk=True)
        self.assertEqual(os.listdir(self.tmp.name), ["heapwise-cache.crawl"])
        with Cache(max_memory=MiB, max_disk=8 * MiB, spill_dir=self.tmp.name, persistent=True,
                   name="crawl") as c:
            self.assertEqual(len(c), 2)
            self.assertEqual(c["page"], blob)
            self.assertEqual(c["meta"], {"etag": "abc"})
            c.cleanup()  # the way to remove a persistent directory
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_memory_only_cache_evicts(self):
        # One shard: exact LRU order (with several, eviction picks the fullest shard's coldest).
        with Cache(max_memory=64 * KiB, max_disk=0, shards=1) as c:
            for i in range(32):
                c[f"k{i}"] = payload(i, 8 * KiB)
            s = c.stats()
            self.assertLessEqual(s["memory_bytes"], 64 * KiB)
            self.assertGreater(s["evictions"], 0)
            self.assertEqual(s["disk_items"], 0)
            self.assertEqual(c["k31"], payload(31, 8 * KiB))  # the newest is kept
            self.assertIsNone(c.get("k0"))  # the oldest went first

    def test_set_memory_limit_shrinks(self):
        with Cache(max_memory=1 * MiB, max_disk=8 * MiB, spill_dir=self.tmp.name) as c:
            for i in range(32):
                c[f"k{i}"] = payload(i, 16 * KiB)
            self.assertEqual(c.stats()["disk_items"], 0)
            c.set_memory_limit(128 * KiB)
            s = c.stats()
            self.assertLessEqual(s["memory_bytes"], 128 * KiB)
            self.assertEqual(s["items"], 32)
            self.assertEqual(c["k0"], payload(0, 16 * KiB))


class CacheBadInput(unittest.TestCase):
    def test_sizes(self):
        for kw in ({"max_memory": -1}, {"max_memory": 0}, {"max_disk": -5}, {"shards": -1}):
            with self.assertRaises(ValueError, msg=kw):
                Cache(**kw)
        with self.assertRaises(TypeError):
            Cache(max_memory="big")
        with self.assertRaises(ValueError):
            Cache(oversize="maybe")
        with Cache(max_memory=MiB, max_disk=0) as c:
            with self.assertRaises(ValueError):
                c.set("k", b"v", ttl=-1)
            with self.assertRaises(ValueError):
                c.set_memory_limit(0)
            with self.assertRaises(ValueError):
                c.set_memory_limit(-3)

    def test_value_not_written_by_this_module(self):
        from heapwise._lib import lib
        with Cache(max_memory=MiB, max_disk=0) as c:
            # Written through the C ABI without the tag byte, as a C program sharing it could.
            self.assertEqual(lib.heapwise_cache_set(c._handle(), b"c", 1, None, 0, 0, 0), 0)
            self.assertEqual(lib.heapwise_cache_set(c._handle(), b"d", 1, b"\x07x", 2, 0, 0), 0)
            for key in ("c", "d"):
                with self.assertRaises(ValueError):
                    c.get(key)
                with self.assertRaises(ValueError):
                    c.get_many([key])

    def test_spill_dir_that_cannot_be_created(self):
        with tempfile.NamedTemporaryFile() as f:
            with self.assertRaises(OSError) as ctx:
                Cache(max_memory=MiB, max_disk=MiB, spill_dir=os.path.join(f.name, "sub"))
            self.assertIn("sub", str(ctx.exception))

    def test_oversize_value_refused_keeps_other_entries(self):
        with Cache(max_memory=64 * KiB, max_disk=0, oversize="refuse") as c:
            c["small"] = b"kept"
            with self.assertRaises(ValueTooLargeError):
                c["huge"] = payload(1, 128 * KiB)
            self.assertIsNone(c.get("huge"))
            self.assertEqual(c["small"], b"kept")

    def test_oversize_value_goes_to_disk(self):
        with tempfile.TemporaryDirectory() as tmp:
            with Cache(max_memory=64 * KiB, max_disk=MiB, spill_dir=tmp) as c:
                c["small"] = b"kept"
                huge = payload(2, 128 * KiB)
                c["huge"] = huge
                self.assertEqual(c.stats()["disk_items"], 1)
                self.assertEqual(c["huge"], huge)
                self.assertEqual(c["small"], b"kept")


if __name__ == "__main__":
    unittest.main()
