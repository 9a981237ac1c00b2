"""Finds and loads libheapwise.so and declares the C ABI of include/heapwise/heapwise.h for ctypes.

Lookup order: $HEAPWISE_LIB, then a libheapwise.so installed next to this package, then the build
tree (<repo>/build/api/libheapwise.so), then the system loader. Failure is one ImportError naming
every place tried. Every status the library returns goes through check(), which turns it into a
typed Python exception carrying heapwise_last_error()'s message.
"""

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_size_t,
                    c_uint, c_uint32, c_uint64, c_void_p)

_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    env = os.environ.get("HEAPWISE_LIB")
    if env:
        # An explicit choice is never silently replaced by another library.
        return [env], True
    repo = os.path.normpath(os.path.join(_HERE, "..", "..", ".."))
    return [
        os.path.join(_HERE, "libheapwise.so"),
        os.path.join(os.path.dirname(_HERE), "libheapwise.so"),
        os.path.join(repo, "build", "api", "libheapwise.so"),
        "libheapwise.so",
    ], False


def _load():
    names, explicit = _candidates()
    errors = []
    for name in names:
        if os.sep in name and not os.path.exists(name):
            errors.append(f"{name}: no such file")
            continue
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            errors.append(f"{name}: {e}")
    hint = "" if explicit else " (set HEAPWISE_LIB to its path, or build it: ninja -C build)"
    raise ImportError("heapwise: cannot load libheapwise.so" + hint + "; tried " +
                      "; ".join(errors))


lib = _load()

# ---- status codes (heapwise_status) ----
OK, NOT_FOUND, TOO_SMALL = 0, 1, 2
EINVAL, ENOMEM, EIO, ETOOBIG, ESTATE, EINTERNAL = -1, -2, -3, -4, -5, -6
SET_FORCE_DISK = 1
OVERSIZE_TO_DISK, OVERSIZE_REFUSE = 0, 1


class HeapwiseError(RuntimeError):
    """An unexpected failure inside libheapwise (status EINTERNAL or ESTATE)."""


class ValueTooLargeError(ValueError):
    """A value larger than the cache's whole memory budget, refused by option."""


def last_error():
    return lib.heapwise_last_error().decode("utf-8", "replace")


def raise_for(status, what, path=None):
    detail = last_error() or lib.heapwise_status_name(status).decode()
    msg = f"{what}: {detail}"
    if status == EINVAL:
        raise ValueError(msg)
    if status == ENOMEM:
        raise MemoryError(msg)
    if status == EIO:
        err = lib.heapwise_last_errno()
        if err:
            # OSError(errno, ...) picks the subclass: FileNotFoundError, PermissionError, ...
            if path is not None:
                raise OSError(err, msg, os.fspath(path))
            raise OSError(err, msg)
        raise OSError(msg)
    if status == ETOOBIG:
        raise ValueTooLargeError(msg)
    raise HeapwiseError(msg)


def check(status, what):
    if status < 0:
        raise_for(status, what)
    return status


# ---- structures (field order and types mirror heapwise.h exactly; checked at load) ----
class EvictionEvent(Structure):
    _fields_ = [("key", c_void_p), ("key_len", c_size_t), ("cause", c_int), ("to_disk", c_int),
                ("bytes", c_uint64), ("reason", c_void_p), ("reason_len", c_size_t)]


EVICTION_FN = CFUNCTYPE(None, POINTER(EvictionEvent), c_void_p)


class CacheOptions(Structure):
    _fields_ = [("max_memory", c_uint64), ("max_disk", c_uint64), ("spill_dir", c_char_p),
                ("name", c_char_p), ("persistent", c_int), ("oversize", c_int),
                ("shards", c_uint32), ("system_allocator", c_int), ("default_ttl_ms", c_uint64),
                ("listener", c_void_p), ("listener_user", c_void_p),
                ("reserved_", c_uint64 * 4)]


class CacheStats(Structure):
    _fields_ = [(name, c_uint64) for name in (
        "items", "memory_items", "memory_bytes", "disk_items", "disk_bytes", "memory_limit",
        "max_memory", "max_disk", "hits", "misses", "disk_hits", "evictions", "spills",
        "disk_evictions", "promotions", "expirations", "corrupt", "missing", "disk_errors")] + [
        ("spill_enabled", c_int), ("reserved_", c_int)]


class MemoryStats(Structure):
    _fields_ = [
        ("limit", c_uint64), ("used", c_uint64), ("percent", c_double),
        ("limit_source", c_int), ("used_source", c_int),
        ("system_total", c_uint64), ("system_available", c_uint64), ("system_used", c_uint64),
        ("system_percent", c_double), ("system_available_source", c_int),
        ("process_rss", c_uint64), ("process_pss", c_uint64), ("process_uss", c_uint64),
        ("process_peak", c_uint64), ("process_rss_source", c_int),
        ("process_pss_source", c_int), ("process_uss_source", c_int),
        ("process_peak_source", c_int), ("cgroup_version", c_int),
        ("container_limit", c_uint64), ("container_usage", c_uint64),
        ("container_usage_raw", c_uint64), ("container_limit_source", c_int),
        ("container_limit_depth", c_int), ("container_usage_source", c_int),
        ("reserved_", c_int * 5)]


class MonitorOptions(Structure):
    _fields_ = [("warning", c_double), ("critical", c_double), ("warning_bytes", c_uint64),
                ("critical_bytes", c_uint64), ("interval_ms", c_uint64), ("metric", c_int),
                ("psi", c_int), ("hysteresis", c_double), ("hysteresis_bytes", c_uint64),
                ("repeat_ms", c_uint64), ("window", c_uint64), ("psi_trigger", c_char_p),
                ("manual_clock", c_int), ("reserved_i_", c_int), ("source", c_void_p),
                ("source_user", c_void_p), ("reserved_", c_uint64 * 4)]


class Reading(Structure):
    _fields_ = [("stats", MemoryStats), ("bytes", c_uint64), ("limit", c_uint64),
                ("percent", c_double), ("level", c_int), ("reserved_", c_int)]


class WindowStats(Structure):
    _fields_ = [("count", c_uint64), ("min", c_uint64), ("max", c_uint64), ("mean", c_double),
                ("p50", c_uint64), ("p90", c_uint64), ("p99", c_uint64), ("slope", c_double),
                ("growth", ctypes.c_int64), ("seconds", c_double), ("mean_percent", c_double),
                ("last_percent", c_double)]


class AttachOptions(Structure):
    _fields_ = [("spill_fraction", c_double), ("trim", c_int), ("reserved_i_", c_int),
                ("regrow_step", c_double), ("regrow_interval_ms", c_uint64)]


class CleanupStep(Structure):
    _fields_ = [("name", ctypes.c_char * 32), ("bytes", ctypes.c_int64), ("reported", c_uint64)]


class CleanupSummary(Structure):
    _fields_ = [("total", ctypes.c_int64), ("rss_before", c_uint64), ("rss_after", c_uint64),
                ("steps", c_uint64)]


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_st = c_int
_proto("heapwise_last_error", c_char_p)
_proto("heapwise_last_errno", c_int)
_proto("heapwise_status_name", c_char_p, c_int)
_proto("heapwise_free", None, c_void_p)
_proto("heapwise_abi_version", c_int)
_proto("heapwise_struct_size", c_size_t, c_char_p)

_P = POINTER
_proto("heapwise_cache_options_init", None, _P(CacheOptions))
_proto("heapwise_cache_create", _st, _P(CacheOptions), _P(c_void_p))
_proto("heapwise_cache_destroy", None, c_void_p)
_proto("heapwise_cache_set", _st, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t, c_uint,
       c_uint64)
_proto("heapwise_cache_get_into", _st, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t,
       _P(c_void_p), _P(c_size_t))
_proto("heapwise_cache_get_shared", _st, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t,
       _P(c_size_t), _P(c_void_p), _P(c_void_p))
_proto("heapwise_value_release", None, c_void_p)
_proto("heapwise_cache_get_alloc", _st, c_void_p, c_void_p, c_size_t, _P(c_void_p),
       _P(c_size_t))
_proto("heapwise_cache_erase", _st, c_void_p, c_void_p, c_size_t)
_proto("heapwise_cache_contains", _st, c_void_p, c_void_p, c_size_t)
_proto("heapwise_cache_clear", _st, c_void_p)
_proto("heapwise_cache_stats_get", _st, c_void_p, _P(CacheStats))
_proto("heapwise_cache_cleanup", _st, c_void_p)
_proto("heapwise_cache_set_memory_limit", _st, c_void_p, c_uint64, _P(c_uint64))
_proto("heapwise_cache_spill", _st, c_void_p, c_double, _P(c_uint64))
_proto("heapwise_cache_spill_path", _st, c_void_p, c_char_p, c_size_t, _P(c_size_t))
_proto("heapwise_cache_get_many", _st, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p,
       c_size_t, c_void_p, c_void_p, c_void_p, c_void_p, _P(c_size_t))
_proto("heapwise_cache_set_many", _st, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p,
       c_void_p, c_uint, c_uint64, c_void_p)

_proto("heapwise_memory_stats_get", _st, c_uint, _P(MemoryStats))
_proto("heapwise_memory_stats_read", _st, c_char_p, c_uint, _P(MemoryStats))
_proto("heapwise_source_name", c_char_p, c_int)

_proto("heapwise_monitor_options_init", None, _P(MonitorOptions))
_proto("heapwise_attach_options_init", None, _P(AttachOptions))
_proto("heapwise_monitor_create", _st, _P(MonitorOptions), _P(c_void_p))
_proto("heapwise_monitor_destroy", None, c_void_p)
_proto("heapwise_monitor_subscribe", _st, c_void_p, c_void_p, c_void_p, _P(c_uint64))
_proto("heapwise_monitor_unsubscribe", _st, c_void_p, c_uint64)
_proto("heapwise_monitor_attach", _st, c_void_p, c_void_p, _P(AttachOptions))
_proto("heapwise_monitor_detach", _st, c_void_p, c_void_p)
_proto("heapwise_monitor_check", _st, c_void_p, _P(Reading))
_proto("heapwise_monitor_level", c_int, c_void_p)
_proto("heapwise_monitor_window", _st, c_void_p, _P(WindowStats))
_proto("heapwise_monitor_mode", c_int, c_void_p, c_char_p, c_size_t)
_proto("heapwise_monitor_samples", c_uint64, c_void_p)
_proto("heapwise_monitor_stats_line", _st, c_void_p, c_char_p, c_size_t, _P(c_size_t))
_proto("heapwise_monitor_log_stats", _st, c_void_p)
_proto("heapwise_monitor_advance", _st, c_void_p, c_uint64)
_proto("heapwise_level_name", c_char_p, c_int)

_proto("heapwise_force_cleanup", _st, _P(CleanupStep), c_size_t, _P(CleanupSummary))
_proto("heapwise_reader_open", _st, c_char_p, c_size_t, _P(c_void_p))
_proto("heapwise_reader_next", _st, c_void_p, _P(c_void_p), _P(c_size_t))
_proto("heapwise_reader_progress", _st, c_void_p, _P(c_uint64), _P(c_uint64))
_proto("heapwise_reader_close", None, c_void_p)

ABI_VERSION = 1


def _check_layout():
    """A library built from another heapwise.h would corrupt memory through ctypes: refuse it."""
    if lib.heapwise_abi_version() != ABI_VERSION:
        raise ImportError(f"heapwise: libheapwise ABI version {lib.heapwise_abi_version()}, "
                          f"this module speaks {ABI_VERSION}")
    for name, cls in (("heapwise_cache_options", CacheOptions),
                      ("heapwise_cache_stats", CacheStats),
                      ("heapwise_eviction_event", EvictionEvent),
                      ("heapwise_memory_stats", MemoryStats),
                      ("heapwise_monitor_options", MonitorOptions),
                      ("heapwise_reading", Reading), ("heapwise_window_stats", WindowStats),
                      ("heapwise_attach_options", AttachOptions),
                      ("heapwise_cleanup_step", CleanupStep),
                      ("heapwise_cleanup_summary", CleanupSummary)):
        theirs = lib.heapwise_struct_size(name.encode())
        if theirs != ctypes.sizeof(cls):
            raise ImportError(f"heapwise: {name} is {theirs} bytes in libheapwise, "
                              f"{ctypes.sizeof(cls)} in this module")


_check_layout()
