"""heapwise.Cache: a dict-like, byte-bounded LRU cache that spills to disk, over libheapwise's C ABI.

Keys are str (stored as UTF-8) or bytes; "a" and b"a" are the same key. A value is stored with a
one-byte tag: exact bytes go in raw, anything else is pickled, so get() returns the type that was
set. get_many/set_many cross into the library once per batch. Values come back as new objects;
nothing returned aliases the library's memory. An eviction listener hears why entries leave
memory or the cache (EvictionEvent), never under a library lock.
"""

import ctypes
import os
import pickle
import sys
import threading
from array import array
from collections import namedtuple
from ctypes import byref, c_int, c_size_t, c_void_p

from . import _lib
from ._lib import lib

_TAG_BYTES = b"\x00"
_TAG_PICKLE = b"\x01"
_MISSING = object()
_MiB = 1 << 20
_MAX_BUFFER = 16 * _MiB
_SIZE_BYTES = ctypes.sizeof(c_size_t)
_SIZE_T = next(t for t in "LQI" if array(t).itemsize == _SIZE_BYTES)
assert ctypes.sizeof(c_void_p) == _SIZE_BYTES


# Why an entry left memory or the cache, by the C ABI's cause number.
CAUSES = ("evicted", "spilled", "expired", "removed", "replaced", "pressure")

EvictionEvent = namedtuple("EvictionEvent", "key cause bytes to_disk reason")
EvictionEvent.__doc__ = """One entry leaving memory or the cache, as the listener sees it.
key: the key's bytes (a str key arrives UTF-8 encoded); cause: one of CAUSES; bytes: its memory
charge, or what spilling it freed, or its file size for a disk entry; to_disk: its value is still
on disk; reason: for 'pressure', why (e.g. 'spilled 12.0 MiB because container usage crossed
85 % (86.1 % now)'), else ''."""


def _trampoline(listener):
    """The C callback for listener. It runs on the thread of the operation that caused the
    event (or the monitor's), with the GIL taken by ctypes; an exception it raises goes to
    sys.unraisablehook and the cache operation carries on."""
    def call(ev_p, _user):
        try:
            ev = ev_p.contents
            key = ctypes.string_at(ev.key, ev.key_len) if ev.key_len else b""
            cause = CAUSES[ev.cause] if 0 <= ev.cause < len(CAUSES) else str(ev.cause)
            reason = (ctypes.string_at(ev.reason, ev.reason_len).decode("utf-8", "replace")
                      if ev.reason_len else "")
            listener(EvictionEvent(key, cause, ev.bytes, bool(ev.to_disk), reason))
        except BaseException as e:  # never let it unwind into the library
            sys.unraisablehook(_Unraisable(e, listener))
    return _lib.EVICTION_FN(call)


class _Unraisable:
    def __init__(self, exc, obj):
        self.exc_type, self.exc_value, self.exc_traceback = type(exc), exc, exc.__traceback__
        self.err_msg = "Exception ignored in heapwise.Cache eviction listener"
        self.object = obj


def _addr(arr):
    return arr.buffer_info()[0]  # per-thread scratch cap; larger batches get library buffers


def _key(k):
    if isinstance(k, str):
        return k.encode("utf-8")
    if isinstance(k, (bytes, bytearray, memoryview)):
        return bytes(k)
    raise TypeError(f"heapwise.Cache keys are str or bytes, not {type(k).__name__}")


def _encode(v):
    if type(v) is bytes:
        return _TAG_BYTES + v
    return _TAG_PICKLE + pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(view):
    # view: a memoryview or bytes holding tag + payload.
    if len(view) == 0:
        raise ValueError("heapwise.Cache: empty stored value (not written by this module)")
    tag = view[0]
    if tag == 0:
        return bytes(view[1:])
    if tag == 1:
        return pickle.loads(view[1:])
    raise ValueError(f"heapwise.Cache: value with unknown encoding tag {tag}")


def _size_arg(name, v, allow_zero=False):
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"{name} must be an int, not {type(v).__name__}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v}")
    return v


def _ttl_ms(ttl):
    if ttl is None:
        return 0
    if ttl <= 0:
        raise ValueError(f"ttl must be > 0 seconds, got {ttl}")
    return max(1, int(round(ttl * 1000)))


class _Scratch:
    """Scratch buffers for one call at a time (see _Buffers)."""

    def __init__(self):
        self.busy = False
        self.grow(64 * 1024)
        self.out_len = c_size_t()
        self.out_alloc = c_void_p()
        self.out_value = c_void_p()  # heapwise_value_t*: a reference on a large cached value
        self.out_data = c_void_p()
        # Made once: building byref() objects and converting arrays costs more per call than
        # the lookup itself.
        self.p_len = byref(self.out_len)
        self.p_alloc = byref(self.out_alloc)
        self.p_value = byref(self.out_value)
        self.p_data = byref(self.out_data)

    def grow(self, cap):
        self.raw = bytearray(cap)
        self.view = memoryview(self.raw)
        self.cbuf = (ctypes.c_char * cap).from_buffer(self.raw)
        self.addr = ctypes.addressof(self.cbuf)
        self.cap = cap


class _Buffers(_Scratch, threading.local):
    """Per-thread scratch buffers: ctypes releases the GIL during calls, so threads can't share.
    A get_many marks its thread's buffers busy: a listener it triggers that reads the cache gets
    fresh buffers instead of overwriting the batch's results."""


class Cache:
    """Cache(max_memory=64 MiB, max_disk=1 GiB, spill_dir=None, persistent=False,
    oversize='disk'|'refuse', shards=0, name='default', listener=None). max_disk=0 keeps
    everything in memory; persistent=True keeps the entries in <spill_dir>/heapwise-cache.<name>
    across runs. listener(event) is called with an EvictionEvent for every entry that leaves
    memory or the cache, after the operation that caused it and never under a library lock (it
    may use the cache), on that operation's thread or, for a monitor's actions, the monitor's."""

    def __init__(self, max_memory=64 * _MiB, max_disk=1024 * _MiB, spill_dir=None,
                 persistent=False, oversize="disk", shards=0, name="default", listener=None):
        self._h = None
        self._listener_fn = None
        o = _lib.CacheOptions()
        lib.heapwise_cache_options_init(byref(o))
        o.max_memory = _size_arg("max_memory", max_memory)
        o.max_disk = _size_arg("max_disk", max_disk, allow_zero=True)
        if spill_dir is not None:
            o.spill_dir = str(spill_dir).encode()
        o.persistent = 1 if persistent else 0
        name_b = str(name).encode()  # kept alive until create returns
        o.name = name_b
        if oversize not in ("disk", "refuse"):
            raise ValueError(f"oversize must be 'disk' or 'refuse', got {oversize!r}")
        o.oversize = _lib.OVERSIZE_TO_DISK if oversize == "disk" else _lib.OVERSIZE_REFUSE
        o.shards = _size_arg("shards", shards, allow_zero=True)
        if listener is not None:
            if not callable(listener):
                raise TypeError(f"listener must be callable, not {type(listener).__name__}")
            # Kept as long as the handle: the library calls it until the cache is destroyed.
            self._listener_fn = _trampoline(listener)
            o.listener = ctypes.cast(self._listener_fn, c_void_p)
        h = c_void_p()
        _lib.check(lib.heapwise_cache_create(byref(o), byref(h)), "heapwise.Cache")
        self._h = h.value
        self._buf = _Buffers()

    # ---- lifetime ----
    def close(self):
        """Drops every entry and removes the spill directory (unless persistent)."""
        h, self._h = self._h, None
        if h:
            lib.heapwise_cache_destroy(h)  # no listener call after it returns
        self._listener_fn = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _handle(self):
        if not self._h:
            raise ValueError("heapwise.Cache is closed")
        return self._h

    @property
    def closed(self):
        return not self._h

    # ---- single-key calls ----
    def set(self, key, value, force_disk=False, ttl=None):
        k = _key(key)
        v = _encode(value)
        flags = _lib.SET_FORCE_DISK if force_disk else 0
        _lib.check(lib.heapwise_cache_set(self._handle(), k, len(k), v, len(v), flags,
                                          _ttl_ms(ttl)), f"set {key!r}")

    def get(self, key, default=None):
        k = key.encode("utf-8") if type(key) is str else _key(key)
        b = self._buf
        if b.busy:  # called from a listener inside this thread's get_many
            b = _Scratch()
        # Values up to the scratch buffer's size are copied into it; a larger one is read in
        # place through a reference on the cached value (one copy, into the result, instead of
        # three), released at once.
        st = lib.heapwise_cache_get_shared(self._handle(), k, len(k), b.addr, b.cap, b.p_len,
                                           b.p_value, b.p_data)
        if st == _lib.NOT_FOUND:
            return default
        _lib.check(st, f"get {key!r}")
        n = b.out_len.value
        if b.out_value.value:
            try:
                p = b.out_data.value
                tag = ctypes.c_ubyte.from_address(p).value
                if tag == 0:
                    return ctypes.string_at(p + 1, n - 1)
                # Released before the reference: nothing can read through it afterwards.
                with memoryview((ctypes.c_char * n).from_address(p)) as raw, raw.cast("B") as v:
                    return _decode(v)
            finally:
                lib.heapwise_value_release(b.out_value.value)
        view = b.view
        return bytes(view[1:n]) if n and view[0] == 0 else _decode(view[:n])

    def __getitem__(self, key):
        v = self.get(key, _MISSING)
        if v is _MISSING:
            raise KeyError(key)
        return v

    def __setitem__(self, key, value):
        self.set(key, value)

    def delete(self, key):
        """Removes key; returns True when it was present."""
        k = _key(key)
        st = _lib.check(lib.heapwise_cache_erase(self._handle(), k, len(k)), f"delete {key!r}")
        return st == _lib.OK

    def __delitem__(self, key):
        if not self.delete(key):
            raise KeyError(key)

    def __contains__(self, key):
        k = _key(key)
        st = _lib.check(lib.heapwise_cache_contains(self._handle(), k, len(k)), "contains")
        return st == _lib.OK

    def __len__(self):
        return self.stats()["items"]

    def clear(self):
        _lib.check(lib.heapwise_cache_clear(self._handle()), "clear")

    def cleanup(self):
        """Drops everything and removes the spill directory; the cache stays usable."""
        _lib.check(lib.heapwise_cache_cleanup(self._handle()), "cleanup")

    def set_memory_limit(self, max_memory):
        """Lowers (or restores) the memory budget, at most the max_memory the cache was made
        with; returns the bytes moved out of memory to meet it."""
        moved = ctypes.c_uint64()
        _lib.check(lib.heapwise_cache_set_memory_limit(
            self._handle(), _size_arg("max_memory", max_memory), byref(moved)),
            "set_memory_limit")
        return moved.value

    def spill(self, fraction=1.0):
        """Moves the coldest fraction (0..1] of the in-memory bytes to disk (dropped when
        spilling is off); returns the bytes moved."""
        moved = ctypes.c_uint64()
        _lib.check(lib.heapwise_cache_spill(self._handle(), float(fraction), byref(moved)),
                   "spill")
        return moved.value

    @property
    def spill_path(self):
        """The private spill directory ("" when there is none)."""
        buf = ctypes.create_string_buffer(4096)
        n = c_size_t()
        _lib.check(lib.heapwise_cache_spill_path(self._handle(), buf, len(buf), byref(n)),
                   "spill_path")
        return os.fsdecode(buf.value)

    def stats(self):
        """A dict of the library's counters (items, memory_bytes, disk_bytes, hits, ...)."""
        s = _lib.CacheStats()
        _lib.check(lib.heapwise_cache_stats_get(self._handle(), byref(s)), "stats")
        d = {name: getattr(s, name) for name, _ in s._fields_ if name != "reserved_"}
        d["spill_enabled"] = bool(s.spill_enabled)
        return d

    # ---- batch calls: one crossing per batch ----
    def get_many(self, keys):
        """Returns {key: value} for the keys present (absent keys are left out)."""
        keys = keys if type(keys) is list else list(keys)
        n = len(keys)
        if n == 0:
            return {}
        # array.array instead of ctypes arrays: built and read back in bulk at C speed, where
        # ctypes arrays cost a Python-level conversion per element.
        enc = [k.encode("utf-8") if type(k) is str else _key(k) for k in keys]
        klens = array(_SIZE_T, map(len, enc))
        zeros = bytes(_SIZE_BYTES * n)
        offs, vlens, allocs = array(_SIZE_T, zeros), array(_SIZE_T, zeros), array(_SIZE_T, zeros)
        sts = array("i", bytes(4 * n))
        b = self._buf
        if b.busy:  # called from a listener inside this thread's get_many
            b = _Scratch()
        b.busy = True
        try:
            return self._get_many(keys, n, enc, klens, offs, vlens, allocs, sts, b)
        finally:
            b.busy = False

    def _get_many(self, keys, n, enc, klens, offs, vlens, allocs, sts, b):
        st = lib.heapwise_cache_get_many(self._handle(), n, b"".join(enc), _addr(klens), b.addr,
                                         b.cap, _addr(offs), _addr(vlens), _addr(sts),
                                         _addr(allocs), b.p_len)
        needed = b.out_len.value
        out = {}
        view = b.view
        lens = vlens.tolist()
        try:
            for i, (si, o, a) in enumerate(zip(sts.tolist(), offs.tolist(), allocs.tolist())):
                if si == 0:  # OK
                    if a:
                        out[keys[i]] = _decode(ctypes.string_at(a, lens[i]))
                    elif lens[i] and view[o] == 0:  # raw bytes, the common case: inline
                        out[keys[i]] = bytes(view[o + 1:o + lens[i]])
                    else:
                        out[keys[i]] = _decode(view[o:o + lens[i]])
                elif si != _lib.NOT_FOUND:
                    _lib.check(si if si < 0 else _lib.EINTERNAL, f"get_many {keys[i]!r}")
        finally:
            if any(allocs):
                for a in allocs:
                    if a:
                        lib.heapwise_free(a)
        _lib.check(st, "get_many")
        if b.cap < needed <= _MAX_BUFFER:
            b.grow(needed)  # the next batch of this size fits in one copy
        return out

    def set_many(self, items, force_disk=False, ttl=None):
        """Stores every (key, value) of a mapping or an iterable of pairs."""
        if hasattr(items, "items"):
            items = items.items()
        enc_k, enc_v = [], []
        for k, v in items:
            enc_k.append(_key(k))
            enc_v.append(_encode(v))
        n = len(enc_k)
        if n == 0:
            return
        klens = array(_SIZE_T, map(len, enc_k))
        vlens = array(_SIZE_T, map(len, enc_v))
        flags = _lib.SET_FORCE_DISK if force_disk else 0
        _lib.check(lib.heapwise_cache_set_many(self._handle(), n, b"".join(enc_k), _addr(klens),
                                               b"".join(enc_v), _addr(vlens), flags,
                                               _ttl_ms(ttl), None), "set_many")

    def __repr__(self):
        if not self._h:
            return "<heapwise.Cache closed>"
        s = self.stats()
        return (f"<heapwise.Cache items={s['items']} memory={s['memory_bytes']}/"
                f"{s['max_memory']} B disk={s['disk_bytes']} B>")
