# Python Cache.get time per call by value size, bytes and pickled values, best of 5 runs each:
# shows the copies a get makes (values over the module's 64 KiB buffer are read in place through
# heapwise_cache_get_shared, docs/api-cache.md).
#   HEAPWISE_LIB=BUILD/api/libheapwise.so /usr/bin/python3 bench/python/get_sizes.py tools/python
import sys, time, pickle
sys.path.insert(0, sys.argv[1])
from heapwise import Cache
c = Cache(max_memory=1 << 30, max_disk=0)
sizes = [100, 60_000, 100_000, 1 << 20]
for n in sizes:
    c.set(f"b{n}", b"x" * n)
    c.set(f"p{n}", {"payload": b"y" * n})
for n in sizes:
    for kind in "bp":
        key = f"{kind}{n}"
        reps = max(20, 2_000_000 // max(n, 1000))
        best = 1e9
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(reps):
                v = c.get(key)
            best = min(best, (time.perf_counter() - t) / reps)
        assert (v == b"x" * n) if kind == "b" else (v == {"payload": b"y" * n})
        print(f"{'bytes ' if kind == 'b' else 'pickle'} {n:8d}: {best * 1e6:9.2f} us per get")
