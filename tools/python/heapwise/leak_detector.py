"""The in-process leak detector for Python programs, over libheapwise's C ABI
(include/heapwise/leak_detector.h): tracemalloc's take_snapshot / compare_to / statistics for
the process's native allocations, as the heapwise tracer sees them live (run Python under
LD_PRELOAD=libheapwise_preload.so, with PYTHONMALLOC=malloc to see every object). Rows print
exactly like tracemalloc's. See docs/api-detector.md.

    det = LeakDetector()                  # DetectorError(kind="no_tracer") without the tracer
    base = det.take_snapshot("before")
    work()
    for row in det.take_snapshot("after").compare_to(base, "lineno")[:10]:
        print(row)
"""

import ctypes
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_char_p, c_int, c_int64, c_size_t,
                    c_uint32, c_uint64, c_void_p)

from . import _lib
from ._lib import HeapwiseError, lib

KEY_TYPES = {"lineno": 0, "function": 1, "file": 2, "module": 3, "traceback": 4}
_KINDS = {1: "no_tracer", 2: "no_live_view", 3: "foreign_snapshot", 4: "other_process",
          5: "same_snapshot", 6: "empty_snapshot", 7: "bad_argument"}


class DetectorError(HeapwiseError):
    """A misuse of the detector or a tracer that cannot serve it. `kind` names which:
    no_tracer, no_live_view, foreign_snapshot, other_process, same_snapshot, empty_snapshot,
    bad_argument (or None for any other failure)."""

    def __init__(self, message, kind=None):
        super().__init__(message)
        self.kind = kind


# ---- structures (mirror leak_detector.h; sizes checked at import) ----
class _DetectorInfo(Structure):
    _fields_ = [("pid", c_uint32), ("started_late", c_uint32), ("since_ns", c_uint64),
                ("sample_interval", c_uint64), ("reserved_", c_uint64 * 2)]


class _SnapshotInfo(Structure):
    _fields_ = [("label", c_char_p), ("pid", c_uint32), ("estimated", c_uint32),
                ("time_ns", c_uint64), ("live_bytes", c_uint64), ("live_count", c_uint64),
                ("sites", c_uint64), ("sample_interval", c_uint64), ("lost_events", c_uint64)]


class _Query(Structure):
    _fields_ = [("by", c_int), ("reserved_", c_uint32), ("top", c_size_t),
                ("min_growth", c_uint64), ("include", POINTER(c_char_p)),
                ("include_count", c_size_t), ("exclude", POINTER(c_char_p)),
                ("exclude_count", c_size_t)]


class _StatRow(Structure):
    _fields_ = [("key", c_char_p), ("function", c_char_p), ("file", c_char_p),
                ("module", c_char_p), ("site", c_char_p), ("line", c_uint32),
                ("estimated", c_uint32), ("size", c_uint64), ("size_diff", c_int64),
                ("count", c_uint64), ("count_diff", c_int64), ("traceback_count", c_size_t)]


class _WatchEvent(Structure):
    _fields_ = [("growth", c_int64), ("live_bytes", c_uint64), ("raised", c_int),
                ("estimated", c_int), ("top", c_void_p), ("snapshot", c_void_p)]


class _WatchOptions(Structure):
    _fields_ = [("min_growth", c_uint64), ("every_ms", c_uint64), ("hysteresis", c_uint64),
                ("repeat_ms", c_uint64), ("notify_fall", c_int), ("reserved_", c_uint32),
                ("query", _Query), ("base", c_void_p)]


_WATCH_FN = CFUNCTYPE(None, POINTER(_WatchEvent), c_void_p)
_P = POINTER


def _proto(name, restype, *argtypes):
    fn = getattr(lib, name)  # AttributeError: libheapwise built without the detector
    fn.restype = restype
    fn.argtypes = list(argtypes)


_proto("heapwise_detector_last_error_kind", c_int)
_proto("heapwise_detector_struct_size", c_size_t, c_char_p)
_proto("heapwise_detector_create", c_int, _P(c_void_p))
_proto("heapwise_detector_destroy", None, c_void_p)
_proto("heapwise_detector_info_get", c_int, c_void_p, _P(_DetectorInfo))
_proto("heapwise_snapshot_take", c_int, c_void_p, c_char_p, _P(c_void_p))
_proto("heapwise_detector_baseline", c_int, c_void_p, _P(c_void_p))
_proto("heapwise_snapshot_free", None, c_void_p)
_proto("heapwise_snapshot_info_get", c_int, c_void_p, _P(_SnapshotInfo))
_proto("heapwise_query_init", None, _P(_Query))
_proto("heapwise_snapshot_compare", c_int, c_void_p, c_void_p, _P(_Query), _P(c_void_p))
_proto("heapwise_snapshot_statistics", c_int, c_void_p, _P(_Query), _P(c_void_p))
_proto("heapwise_stats_count", c_size_t, c_void_p)
_proto("heapwise_stats_row", c_int, c_void_p, c_size_t, _P(_StatRow))
_proto("heapwise_stats_frame", c_int, c_void_p, c_size_t, c_size_t, _P(c_char_p))
_proto("heapwise_stats_format", c_int, c_void_p, c_size_t, c_char_p, c_size_t, _P(c_size_t))
_proto("heapwise_stats_free", None, c_void_p)
_proto("heapwise_detector_report", c_int, c_void_p, _P(_Query), c_void_p, c_char_p, c_size_t,
       _P(c_size_t))
_proto("heapwise_watch_options_init", None, _P(_WatchOptions))
_proto("heapwise_detector_watch", c_int, c_void_p, _P(_WatchOptions), _WATCH_FN, c_void_p,
       _P(c_void_p))
_proto("heapwise_watch_counts", c_int, c_void_p, _P(c_uint64), _P(c_uint64))
_proto("heapwise_watch_stop", None, c_void_p)

for _name, _cls in (("heapwise_detector_info", _DetectorInfo),
                    ("heapwise_snapshot_info", _SnapshotInfo), ("heapwise_query", _Query),
                    ("heapwise_stat_row", _StatRow), ("heapwise_watch_event", _WatchEvent),
                    ("heapwise_watch_options", _WatchOptions)):
    if lib.heapwise_detector_struct_size(_name.encode()) != ctypes.sizeof(_cls):
        raise ImportError(f"heapwise: {_name} differs between this module and libheapwise.so")


def _check(status, what):
    if status >= 0:
        return status
    kind = _KINDS.get(lib.heapwise_detector_last_error_kind())
    if kind is None:
        _lib.raise_for(status, what)
    raise DetectorError(f"{what}: {_lib.last_error()}", kind)


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


class _QueryHolder:
    """A heapwise_query plus the byte strings its pointers point at (kept alive with it)."""

    def __init__(self, key_type="lineno", top=0, min_growth=0, include=(), exclude=()):
        if key_type not in KEY_TYPES:
            raise ValueError(f"heapwise: unknown key_type {key_type!r} (expected one of "
                             f"{', '.join(KEY_TYPES)})")
        self.q = _Query()
        lib.heapwise_query_init(byref(self.q))
        self.q.by = KEY_TYPES[key_type]
        self.q.top = int(top)
        self.q.min_growth = int(min_growth)
        self._inc = (c_char_p * max(len(include), 1))(*[s.encode() for s in include])
        self._exc = (c_char_p * max(len(exclude), 1))(*[s.encode() for s in exclude])
        self.q.include = ctypes.cast(self._inc, POINTER(c_char_p))
        self.q.include_count = len(include)
        self.q.exclude = ctypes.cast(self._exc, POINTER(c_char_p))
        self.q.exclude_count = len(exclude)


class StatisticDiff:
    """One row (tracemalloc's StatisticDiff; size_diff == size for statistics()). str() is the
    library's text, identical to tracemalloc's."""

    __slots__ = ("key", "function", "file", "line", "module", "site", "size", "size_diff",
                 "count", "count_diff", "estimated", "traceback", "_text")

    def __str__(self):
        return self._text

    def __repr__(self):
        return (f"<StatisticDiff {self.key!r} size={self.size} ({self.size_diff:+d}) "
                f"count={self.count} ({self.count_diff:+d})>")


def _rows(handle):
    out = []
    row = _StatRow()
    buf = ctypes.create_string_buffer(1024)
    n = lib.heapwise_stats_count(handle)
    for i in range(n):
        _check(lib.heapwise_stats_row(handle, i, byref(row)), "heapwise_stats_row")
        r = StatisticDiff()
        r.key, r.function, r.file = _text(row.key), _text(row.function), _text(row.file)
        r.module, r.site, r.line = _text(row.module), _text(row.site), row.line
        r.size, r.size_diff, r.count, r.count_diff = row.size, row.size_diff, row.count, row.count_diff
        r.estimated = bool(row.estimated)
        frame = c_char_p()
        r.traceback = []
        for j in range(row.traceback_count):
            _check(lib.heapwise_stats_frame(handle, i, j, byref(frame)), "heapwise_stats_frame")
            r.traceback.append(_text(frame.value))
        needed = c_size_t()
        st = lib.heapwise_stats_format(handle, i, buf, len(buf), byref(needed))
        if st == _lib.TOO_SMALL:
            buf = ctypes.create_string_buffer(needed.value + 1)
            st = lib.heapwise_stats_format(handle, i, buf, len(buf), byref(needed))
        _check(st, "heapwise_stats_format")
        r._text = _text(buf.value)
        out.append(r)
    return out


def _collect(call, what):
    handle = c_void_p()
    _check(call(byref(handle)), what)
    try:
        return _rows(handle)
    finally:
        lib.heapwise_stats_free(handle)


class Snapshot:
    """The live native heap per allocation stack at one moment (and a marker in the trace)."""

    def __init__(self, handle):
        self._h = handle
        info = _SnapshotInfo()
        _check(lib.heapwise_snapshot_info_get(handle, byref(info)), "heapwise_snapshot_info_get")
        self.label = _text(info.label)
        self.pid = info.pid
        self.time_ns = info.time_ns
        self.live_bytes = info.live_bytes
        self.live_count = info.live_count
        self.sites = info.sites
        self.estimated = bool(info.estimated)
        self.sample_interval = info.sample_interval
        self.lost_events = info.lost_events

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            lib.heapwise_snapshot_free(h)

    def compare_to(self, old_snapshot, key_type="lineno", *, top=0, min_growth=0, include=(),
                   exclude=()):
        """Rows of this snapshot against old_snapshot, largest |size_diff| first."""
        if not isinstance(old_snapshot, Snapshot):
            raise TypeError("compare_to() needs a heapwise Snapshot")
        q = _QueryHolder(key_type, top, min_growth, include, exclude)
        return _collect(lambda out: lib.heapwise_snapshot_compare(self._h, old_snapshot._h,
                                                                  byref(q.q), out),
                        "heapwise_snapshot_compare")

    def statistics(self, key_type="lineno", *, top=0, include=(), exclude=()):
        q = _QueryHolder(key_type, top, 0, include, exclude)
        return _collect(lambda out: lib.heapwise_snapshot_statistics(self._h, byref(q.q), out),
                        "heapwise_snapshot_statistics")


class Watch:
    """A running watch; stop() (or leaving a with-block) ends it."""

    def __init__(self, handle, fn):
        self._h = handle
        self._fn = fn  # the ctypes callback must outlive the watch

    @property
    def checks(self):
        c, a = c_uint64(), c_uint64()
        if self._h:
            lib.heapwise_watch_counts(self._h, byref(c), byref(a))
        return c.value

    @property
    def alerts(self):
        c, a = c_uint64(), c_uint64()
        if self._h:
            lib.heapwise_watch_counts(self._h, byref(c), byref(a))
        return a.value

    def stop(self):
        h, self._h = self._h, None
        if h:
            lib.heapwise_watch_stop(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __del__(self):
        self.stop()


class LeakDetector:
    """tracemalloc for the process's native heap, fed by the heapwise tracer."""

    def __init__(self):
        h = c_void_p()
        _check(lib.heapwise_detector_create(byref(h)), "heapwise_detector_create")
        self._h = h
        info = _DetectorInfo()
        _check(lib.heapwise_detector_info_get(h, byref(info)), "heapwise_detector_info_get")
        self.started_late = bool(info.started_late)
        self.since_ns = info.since_ns
        self.sample_interval = info.sample_interval
        self.estimated = info.sample_interval != 0

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            lib.heapwise_detector_destroy(h)

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def take_snapshot(self, label=None):
        out = c_void_p()
        _check(lib.heapwise_snapshot_take(self._h, label.encode() if label else None, byref(out)),
               "heapwise_snapshot_take")
        return Snapshot(out)

    @property
    def baseline(self):
        out = c_void_p()
        _check(lib.heapwise_detector_baseline(self._h, byref(out)), "heapwise_detector_baseline")
        return Snapshot(out)

    def report(self, top=10, min_growth=0, key_type="lineno", include=(), exclude=(), since=None):
        """Sites that grew since `since` (default: the baseline), with their code lines."""
        q = _QueryHolder(key_type, top, min_growth, include, exclude)
        since_h = since._h if since is not None else None
        needed = c_size_t()
        buf = ctypes.create_string_buffer(8192)
        while True:
            st = lib.heapwise_detector_report(self._h, byref(q.q), since_h, buf, len(buf),
                                              byref(needed))
            if st != _lib.TOO_SMALL:
                _check(st, "heapwise_detector_report")
                return _text(buf.value)
            buf = ctypes.create_string_buffer(needed.value + 4096)

    def print_report(self, top=10, min_growth=0, key_type="lineno", include=(), exclude=(),
                     since=None, file=None):
        import sys
        print(self.report(top, min_growth, key_type, include, exclude, since), end="",
              file=file or sys.stdout)

    def watch(self, callback, min_growth, every=30.0, hysteresis=0, repeat=0.0, top=10,
              key_type="lineno", include=(), exclude=(), notify_fall=False, base=None):
        """Calls callback(event) on the watch's own thread when live bytes grew by min_growth over
        base (default: a snapshot taken now). event is a dict: growth, live_bytes, raised,
        estimated, top (list of StatisticDiff)."""
        o = _WatchOptions()
        lib.heapwise_watch_options_init(byref(o))
        q = _QueryHolder(key_type, top, 0, include, exclude)
        o.min_growth = int(min_growth)
        o.every_ms = int(round(every * 1000))
        o.hysteresis = int(hysteresis)
        o.repeat_ms = int(round(repeat * 1000))
        o.notify_fall = 1 if notify_fall else 0
        o.query = q.q
        o.base = base._h if base is not None else None

        def trampoline(ev, _user):
            e = ev.contents
            try:
                callback({"growth": e.growth, "live_bytes": e.live_bytes,
                          "raised": bool(e.raised), "estimated": bool(e.estimated),
                          "top": _rows(e.top)})
            except Exception:  # noqa: BLE001 - a callback's error must not cross into C
                import traceback
                traceback.print_exc()

        fn = _WATCH_FN(trampoline)
        out = c_void_p()
        _check(lib.heapwise_detector_watch(self._h, byref(o), fn, None, byref(out)),
               "heapwise_detector_watch")
        w = Watch(out, fn)
        w._query = q
        return w
