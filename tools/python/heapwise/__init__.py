"""heapwise for Python: a byte-bounded LRU cache that spills to disk, container-correct memory
statistics and a threshold monitor, all computed by libheapwise.so through ctypes (no compiled
extension). The compatibility names (MemoryManager, stream_large_file, chunked_iterator,
memory_efficient_context) let a scraper switch by changing one import. See docs/python.md.
"""

from ._lib import HeapwiseError, ValueTooLargeError
from .cache import Cache
from .compat import MemoryManager, chunked_iterator, memory_efficient_context, stream_large_file
from .memory import MemoryMonitor, force_cleanup, get_memory_stats

__all__ = [
    "Cache", "MemoryMonitor", "MemoryManager", "get_memory_stats", "force_cleanup",
    "memory_efficient_context", "stream_large_file", "chunked_iterator", "HeapwiseError",
    "ValueTooLargeError",
]

try:
    from .leak_detector import DetectorError, LeakDetector, Snapshot, StatisticDiff
    __all__ += ["LeakDetector", "Snapshot", "StatisticDiff", "DetectorError"]
except AttributeError:  # libheapwise built with -Dtracer=disabled: no detector
    pass
