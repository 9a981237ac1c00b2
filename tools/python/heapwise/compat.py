"""The names scraper code already uses (MemoryManager, stream_large_file, chunked_iterator,
memory_efficient_context), so an existing scraper switches to heapwise by changing one import.
Pure Python over heapwise.Cache, heapwise.MemoryMonitor and the library's chunked file reader;
every figure comes from libheapwise.
"""

import ctypes
import gc
import itertools
import logging
import os
from contextlib import contextmanager
from ctypes import byref, c_size_t, c_void_p

from . import _lib
from ._lib import lib
from .cache import Cache
from .memory import MemoryMonitor, force_cleanup

_MiB = 1 << 20
log = logging.getLogger("heapwise")


def _positive(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(v).__name__}")
    if not v > 0:  # also rejects NaN
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


class MemoryManager:
    """MemoryManager(max_cache_size_mb=500, overflow_to_disk=True, temp_dir=None,
    warning_threshold=80.0): an LRU cache bounded in MB that overflows to temp_dir, watched by a
    MemoryMonitor that spills the coldest entries when memory use crosses warning_threshold %.
    max_disk_size_mb caps the overflow files (oldest removed first); monitor=False skips the
    background monitor."""

    def __init__(self, max_cache_size_mb=500, overflow_to_disk=True, temp_dir=None,
                 warning_threshold=80.0, max_disk_size_mb=4096, critical_threshold=None,
                 monitor=True):
        _positive("max_cache_size_mb", max_cache_size_mb)
        _positive("max_disk_size_mb", max_disk_size_mb)
        if critical_threshold is None:
            critical_threshold = max(float(warning_threshold), min(95.0, warning_threshold + 10))
        self.max_cache_size_mb = max_cache_size_mb
        self.overflow_to_disk = bool(overflow_to_disk)
        self.cache = Cache(max_memory=int(max_cache_size_mb * _MiB),
                           max_disk=int(max_disk_size_mb * _MiB) if overflow_to_disk else 0,
                           spill_dir=temp_dir)
        self.monitor = None
        if monitor:
            self.monitor = MemoryMonitor(warning_threshold=warning_threshold,
                                         critical_threshold=critical_threshold)
            self.monitor.attach(self.cache)
            self.monitor.start()

    # ---- cache ----
    def set(self, key, value, force_disk=False):
        self.cache.set(key, value, force_disk=force_disk)

    def get(self, key, default=None):
        return self.cache.get(key, default)

    def delete(self, key):
        return self.cache.delete(key)

    def clear(self):
        self.cache.clear()

    def __contains__(self, key):
        return key in self.cache

    def __len__(self):
        return len(self.cache)

    def get_cache_stats(self):
        s = self.cache.stats()
        lookups = s["hits"] + s["misses"]
        return {
            "cache_items": s["items"],
            "cache_size_mb": s["memory_bytes"] / _MiB,
            "max_cache_size_mb": s["max_memory"] / _MiB,
            "memory_items": s["memory_items"],
            "hits": s["hits"],
            "misses": s["misses"],
            "hit_rate": s["hits"] / lookups if lookups else 0.0,
            "evictions": s["evictions"],
            "spills": s["spills"],
            "disk_items": s["disk_items"],
            "disk_size_mb": s["disk_bytes"] / _MiB,
            "disk_hits": s["disk_hits"],
            "overflow_to_disk": self.overflow_to_disk,
        }

    def cleanup(self, force_gc=True):
        """Drops every cached entry and its overflow files; with force_gc also runs Python's
        garbage collector and the library's force_cleanup(). Returns what each step recovered."""
        self.cache.cleanup()
        result = {}
        if force_gc:
            result["gc_collected"] = gc.collect()
            result["steps"] = force_cleanup()
        return result

    def get_memory_stats(self):
        from .memory import get_memory_stats
        return get_memory_stats()

    # ---- streaming ----
    @staticmethod
    def stream_large_file(path, chunk_size=8192):
        return stream_large_file(path, chunk_size)

    @staticmethod
    def chunked_iterator(iterable, chunk_size=100):
        return chunked_iterator(iterable, chunk_size)

    # ---- lifetime ----
    def close(self):
        if self.monitor is not None:
            self.monitor.close()
            self.monitor = None
        self.cache.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def stream_large_file(path, chunk_size=8192):
    """Yields the file's bytes in chunks of chunk_size (the last may be shorter), read by the
    library with bounded memory and page-cache advice. Raises at once (not on first next()):
    ValueError for chunk_size <= 0, OSError when the file cannot be opened."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError(f"chunk_size must be an int, not {type(chunk_size).__name__}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be > 0, got {chunk_size}")
    handle = c_void_p()
    st = lib.heapwise_reader_open(os.fsencode(path), chunk_size, byref(handle))
    if st != _lib.OK:
        _lib.raise_for(st, f"stream_large_file {os.fspath(path)!r}", path=path)
    return _chunks(handle.value, path)


def _chunks(h, path):
    data = c_void_p()
    n = c_size_t()
    try:
        while True:
            st = lib.heapwise_reader_next(h, byref(data), byref(n))
            if st != _lib.OK:
                _lib.raise_for(st, f"stream_large_file {os.fspath(path)!r}", path=path)
            if n.value == 0:
                return
            yield ctypes.string_at(data.value, n.value)
    finally:
        lib.heapwise_reader_close(h)


def chunked_iterator(iterable, chunk_size=100):
    """Yields lists of up to chunk_size items from any iterable (the last may be shorter)."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError(f"chunk_size must be an int, not {type(chunk_size).__name__}")
    if chunk_size <= 0:
        raise ValueError(f"chunk_size must be > 0, got {chunk_size}")
    return _batches(iter(iterable), chunk_size)


def _batches(it, n):
    while True:
        batch = list(itertools.islice(it, n))
        if not batch:
            return
        yield batch


@contextmanager
def memory_efficient_context(max_cache_size_mb=100, **kwargs):
    """with memory_efficient_context() as mm: ... — a MemoryManager for the block; on exit its
    cache and overflow files are gone, Python's garbage is collected and the allocators trimmed."""
    mm = MemoryManager(max_cache_size_mb=max_cache_size_mb, **kwargs)
    try:
        yield mm
    finally:
        mm.close()
        gc.collect()
        force_cleanup()
