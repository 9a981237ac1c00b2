"""Memory statistics and the memory monitor over libheapwise's C ABI.

get_memory_stats() is one library sample as a dict (MB figures, the headline being usage against
the limit that will actually stop this process, container-aware). MemoryMonitor wraps the
library's monitor: thresholds, hysteresis, a rolling window, level callbacks run on the monitor's
own thread, and caches it shrinks under pressure.
"""

import atexit
import ctypes
import logging
import os
import threading
import weakref
from ctypes import CFUNCTYPE, POINTER, byref, c_int, c_size_t, c_uint64, c_void_p

from . import _lib
from ._lib import lib

_MiB = float(1 << 20)
log = logging.getLogger("heapwise")

LEVELS = {"normal": 0, "warning": 1, "critical": 2}
_LEVEL_NAMES = {v: k for k, v in LEVELS.items()}
METRICS = {"container": 0, "process": 1, "system": 2}
_SOURCE_FIELDS = ("limit_source", "used_source", "system_available_source",
                  "process_rss_source", "process_pss_source", "process_uss_source",
                  "process_peak_source", "container_limit_source", "container_usage_source")


def _source_name(v):
    return lib.heapwise_source_name(v).decode()


def stats_to_dict(s):
    """A heapwise_memory_stats as the dict get_memory_stats() returns."""
    d = {
        "total_mb": s.limit / _MiB,
        "available_mb": (s.limit - min(s.used, s.limit)) / _MiB,
        "used_mb": s.used / _MiB,
        "percent": s.percent,
        "limit_bytes": s.limit,
        "used_bytes": s.used,
        "system_total_mb": s.system_total / _MiB,
        "system_available_mb": s.system_available / _MiB,
        "system_used_mb": s.system_used / _MiB,
        "system_percent": s.system_percent,
        "process_rss_mb": s.process_rss / _MiB,
        "process_pss_mb": s.process_pss / _MiB,
        "process_uss_mb": s.process_uss / _MiB,
        "process_peak_mb": s.process_peak / _MiB,
        "cgroup_version": s.cgroup_version,
        "container_limit_mb": s.container_limit / _MiB if s.container_limit else None,
        "container_usage_mb": s.container_usage / _MiB,
        "container_limit_depth": s.container_limit_depth,
    }
    d["sources"] = {f[:-len("_source")]: _source_name(getattr(s, f)) for f in _SOURCE_FIELDS}
    return d


def get_memory_stats(root=None):
    """One sample: total_mb, available_mb, used_mb, percent (against the effective limit: the
    cgroup's when it is below the machine's memory), and the system, process and container
    figures with the source of each. root: read a fixture tree instead of /proc and /sys."""
    s = _lib.MemoryStats()
    if root is None:
        _lib.check(lib.heapwise_memory_stats_get(0, byref(s)), "get_memory_stats")
    else:
        _lib.check(lib.heapwise_memory_stats_read(os.fsencode(root), 0, byref(s)),
                   "get_memory_stats")
    return stats_to_dict(s)


_LEVEL_FN = CFUNCTYPE(None, c_int, POINTER(_lib.MemoryStats), c_void_p)
_SOURCE_FN = CFUNCTYPE(None, POINTER(_lib.MemoryStats), c_void_p)
_live = weakref.WeakSet()


@atexit.register
def _close_all():
    # A monitor thread must not call into an interpreter that is shutting down.
    for m in list(_live):
        m.close()


class MemoryMonitor:
    """MemoryMonitor(warning_threshold=80.0, critical_threshold=90.0, callback=None, ...)

    callback(level, stats) runs on the monitor's thread when the level changes ('normal',
    'warning', 'critical'; stats as get_memory_stats() returns them) and again every `repeat`
    seconds while above normal. The library samples from construction; start() connects the
    callbacks and attached caches, stop() disconnects them, close() ends the monitor.
    Thresholds are percent of the metric's limit ('container' (default), 'process', 'system'),
    or bytes with warning_bytes/critical_bytes. source (tests): a callable returning a dict of
    heapwise_memory_stats fields, replacing the real sampler; manual_clock=True makes time move
    only through advance(seconds)."""

    def __init__(self, warning_threshold=80.0, critical_threshold=90.0, callback=None,
                 interval=1.0, metric="container", hysteresis=5.0, repeat=60.0, window=60,
                 psi=True, warning_bytes=None, critical_bytes=None, source=None,
                 manual_clock=False):
        self._h = None
        self._lock = threading.Lock()
        self._callbacks = [] if callback is None else [callback]
        self._caches = {}  # id(cache) -> (cache, options) to attach while started
        self._sub = None
        self._started = False
        o = _lib.MonitorOptions()
        lib.heapwise_monitor_options_init(byref(o))
        o.warning = float(warning_threshold)
        o.critical = float(critical_threshold)
        o.warning_bytes = _nonneg("warning_bytes", warning_bytes or 0)
        o.critical_bytes = _nonneg("critical_bytes", critical_bytes or 0)
        o.interval_ms = _ms("interval", interval, positive=True)
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
        o.metric = METRICS[metric]
        o.hysteresis = float(hysteresis)
        o.repeat_ms = _ms("repeat", repeat)
        o.window = _nonneg("window", window)
        o.psi = 1 if psi else 0
        o.manual_clock = 1 if manual_clock else 0
        self._source_fn = None
        if source is not None:
            self._source_fn = _SOURCE_FN(lambda out, _u: _fill_stats(out.contents, source()))
            o.source = ctypes.cast(self._source_fn, c_void_p)
        self._level_fn = _LEVEL_FN(self._dispatch)
        h = c_void_p()
        _lib.check(lib.heapwise_monitor_create(byref(o), byref(h)), "MemoryMonitor")
        self._h = h.value
        _live.add(self)

    # ---- lifetime ----
    def start(self):
        with self._lock:
            h = self._handle()
            if self._started:
                return self
            sub = c_uint64()
            _lib.check(lib.heapwise_monitor_subscribe(h, self._level_fn, None, byref(sub)),
                       "MemoryMonitor.start")
            self._sub = sub.value
            for cache, opts in self._caches.values():
                _attach(h, cache, opts)
            self._started = True
        return self

    def stop(self):
        with self._lock:
            if not self._h or not self._started:
                return
            for cache, _ in self._caches.values():
                if not cache.closed:
                    _lib.check(lib.heapwise_monitor_detach(self._h, cache._handle()),
                               "MemoryMonitor.stop")
            lib.heapwise_monitor_unsubscribe(self._h, self._sub)
            self._sub = None
            self._started = False

    def close(self):
        """Stops the monitor's thread (waiting for a running callback) and frees it."""
        with self._lock:
            h, self._h = self._h, None
            self._started = False
        if h:
            lib.heapwise_monitor_destroy(h)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def running(self):
        return bool(self._h) and self._started

    def _handle(self):
        if not self._h:
            raise ValueError("heapwise.MemoryMonitor is closed")
        return self._h

    # ---- callbacks and caches ----
    def add_callback(self, callback):
        self._callbacks.append(callback)

    def _dispatch(self, level, stats, _user):
        name = _LEVEL_NAMES.get(level, str(level))
        d = stats_to_dict(stats.contents)
        for cb in list(self._callbacks):
            try:
                cb(name, d)
            except Exception:  # a callback's bug must not kill the monitor thread
                log.exception("heapwise.MemoryMonitor callback %r failed", cb)

    def attach(self, cache, spill_fraction=0.25, trim=True, regrow_step=0.25,
               regrow_interval=10.0):
        """Makes cache shrink while the monitor runs: at warning the coldest spill_fraction of
        its memory goes to disk, at critical all of it (and the allocators are trimmed)."""
        o = _lib.AttachOptions()
        lib.heapwise_attach_options_init(byref(o))
        o.spill_fraction = float(spill_fraction)
        o.trim = 1 if trim else 0
        o.regrow_step = float(regrow_step)
        o.regrow_interval_ms = _ms("regrow_interval", regrow_interval)
        with self._lock:
            h = self._handle()
            if self._started:
                _attach(h, cache, o)
            self._caches[id(cache)] = (cache, o)

    def detach(self, cache):
        with self._lock:
            if self._caches.pop(id(cache), None) and self._started and not cache.closed:
                _lib.check(lib.heapwise_monitor_detach(self._handle(), cache._handle()),
                           "MemoryMonitor.detach")

    # ---- readings ----
    def check(self):
        """A fresh reading on this thread: level (of this reading alone), percent, bytes,
        limit, and the full stats."""
        r = _lib.Reading()
        _lib.check(lib.heapwise_monitor_check(self._handle(), byref(r)), "MemoryMonitor.check")
        return {"level": _LEVEL_NAMES[r.level], "percent": r.percent, "bytes": r.bytes,
                "limit": r.limit, "stats": stats_to_dict(r.stats)}

    def check_threshold(self, level="warning"):
        """True when a fresh reading is at or above the 'warning' (or 'critical') threshold."""
        if level not in ("warning", "critical"):
            raise ValueError(f"level must be 'warning' or 'critical', got {level!r}")
        return LEVELS[self.check()["level"]] >= LEVELS[level]

    @property
    def level(self):
        """The current level with hysteresis, as the monitor's thread last decided it."""
        v = lib.heapwise_monitor_level(self._handle())
        _lib.check(v, "MemoryMonitor.level")
        return _LEVEL_NAMES[v]

    def window(self):
        w = _lib.WindowStats()
        _lib.check(lib.heapwise_monitor_window(self._handle(), byref(w)), "MemoryMonitor.window")
        return {name: getattr(w, name) for name, _ in w._fields_}

    @property
    def mode(self):
        """('psi' or 'polling', detail: the pressure file armed or why polling is used)."""
        buf = ctypes.create_string_buffer(512)
        m = lib.heapwise_monitor_mode(self._handle(), buf, len(buf))
        _lib.check(m, "MemoryMonitor.mode")
        return ("psi" if m == 1 else "polling", buf.value.decode("utf-8", "replace"))

    def get_stats(self):
        """The current memory stats, plus level, the rolling window's min/max/mean/percentiles,
        trend (bytes/s) and growth, the monitor's mode and sample count."""
        d = self.check()["stats"]
        d["level"] = self.level
        w = self.window()
        d["window"] = w
        d["min_mb"], d["max_mb"], d["avg_mb"] = w["min"] / _MiB, w["max"] / _MiB, w["mean"] / _MiB
        d["trend_mb_per_s"] = w["slope"] / _MiB
        d["growth_mb"] = w["growth"] / _MiB
        d["mode"] = self.mode[0]
        d["samples"] = lib.heapwise_monitor_samples(self._handle())
        return d

    def stats_line(self):
        n = c_size_t()
        buf = ctypes.create_string_buffer(1024)
        st = lib.heapwise_monitor_stats_line(self._handle(), buf, len(buf), byref(n))
        if st == _lib.TOO_SMALL:
            buf = ctypes.create_string_buffer(n.value)
            st = lib.heapwise_monitor_stats_line(self._handle(), buf, len(buf), byref(n))
        _lib.check(st, "MemoryMonitor.stats_line")
        return buf.value.decode("utf-8", "replace")

    def log_stats(self):
        """Logs the library's one-line summary to the 'heapwise' logger and returns it."""
        line = self.stats_line()
        log.info("%s", line)
        return line

    def advance(self, seconds):
        """manual_clock only: moves the monitor's time and returns once it handled every
        sample due (callbacks included)."""
        _lib.check(lib.heapwise_monitor_advance(self._handle(), _ms("seconds", seconds)),
                   "MemoryMonitor.advance")


def _attach(h, cache, opts):
    _lib.check(lib.heapwise_monitor_attach(h, cache._handle(), byref(opts)),
               "MemoryMonitor.attach")


def _nonneg(name, v):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, not {type(v).__name__}")
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def _ms(name, seconds, positive=False):
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(seconds).__name__}")
    if seconds < 0 or (positive and seconds <= 0) or seconds != seconds:
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'} seconds, got {seconds}")
    return int(round(seconds * 1000))


def _fill_stats(out, values):
    """Copies a dict of heapwise_memory_stats field values (test input) into the library's
    struct; unknown names are an error so a typo cannot pass silently."""
    names = {n for n, _ in out._fields_}
    for k, v in values.items():
        if k not in names or k == "reserved_":
            raise KeyError(f"heapwise_memory_stats has no field {k!r}")
        setattr(out, k, v)


def force_cleanup():
    """Shrinks every live cache (spilling to disk where it can), trims malloc and mimalloc.
    Returns {'steps': {name: bytes}, 'total': bytes, 'rss_before': .., 'rss_after': ..}, each
    step measured by the library as RSS before minus RSS after (negative if RSS grew meanwhile);
    'reported' holds a step's own figure (bytes the caches moved out of memory)."""
    cap = 16
    steps = (_lib.CleanupStep * cap)()
    summary = _lib.CleanupSummary()
    _lib.check(lib.heapwise_force_cleanup(steps, cap, byref(summary)), "force_cleanup")
    n = min(summary.steps, cap)
    return {
        "steps": {steps[i].name.decode(): steps[i].bytes for i in range(n)},
        "reported": {steps[i].name.decode(): steps[i].reported for i in range(n)},
        "total": summary.total,
        "rss_before": summary.rss_before,
        "rss_after": summary.rss_after,
    }
