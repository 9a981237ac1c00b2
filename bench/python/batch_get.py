#!/usr/bin/python3
"""Per-item cost of heapwise.Cache.get_many (one ctypes crossing per batch) against a loop of
Cache.get (one crossing per key), for batches of 1, 100 and 1000 keys, all hits.

The machine's speed drifts, so the two methods alternate round by round (A B A B ...) and the
ratio of each pair is what gets quoted: median with min-max (see shared BENCHMARKING.md).
A plain dict loop is printed beside them as the floor a Python lookup cannot beat.

Run: HEAPWISE_LIB=build/api/libheapwise.so /usr/bin/python3 bench/python/batch_get.py
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "python"))
from heapwise import Cache  # noqa: E402


def per_item_ns(fn, n_items, min_time):
    """Runs fn() until min_time seconds have passed; returns ns per item of the fastest run
    batch (fastest of 5 timing batches, each of enough calls to last min_time / 5)."""
    calls = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        dt = time.perf_counter_ns() - t0
        if dt >= min_time * 1e9 / 5:
            break
        calls *= 2
    best = dt
    for _ in range(4):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter_ns() - t0)
    return best / (calls * n_items)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--value-size", type=int, default=100, help="bytes per value (default 100)")
    ap.add_argument("--rounds", type=int, default=7, help="A/B pairs per batch size (default 7)")
    ap.add_argument("--min-time", type=float, default=0.2,
                    help="seconds per measurement (default 0.2)")
    ap.add_argument("--sizes", default="1,100,1000", help="batch sizes (default 1,100,1000)")
    args = ap.parse_args()
    if args.value_size < 0 or args.rounds <= 0 or args.min_time <= 0:
        ap.error("--value-size must be >= 0, --rounds and --min-time > 0")
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(s <= 0 for s in sizes):
        ap.error("--sizes must be positive integers")

    n_keys = max(sizes)
    keys = [f"https://example.com/page/{i}" for i in range(n_keys)]
    value = os.urandom(args.value_size)
    plain = {k: value for k in keys}
    with Cache(max_memory=256 << 20, max_disk=0) as cache:
        cache.set_many({k: value for k in keys})
        assert cache.get_many(keys) == plain, "get_many returned wrong values"

        print(f"# Python {sys.version.split()[0]}, values of {args.value_size} B, all hits, "
              f"{args.rounds} A/B rounds of {args.min_time} s")
        print("| keys per call | get loop (ns/key) | get_many (ns/key) | get_many speedup "
              "(median, min-max) | dict loop (ns/key) |")
        print("| --- | --- | --- | --- | --- |")
        for n in sizes:
            batch = keys[:n]
            get = cache.get

            def loop():
                for k in batch:
                    get(k)

            def many():
                cache.get_many(batch)

            def dict_loop():
                for k in batch:
                    plain.get(k)

            a, b, ratios = [], [], []
            for _ in range(args.rounds):
                ta = per_item_ns(loop, n, args.min_time)
                tb = per_item_ns(many, n, args.min_time)
                a.append(ta)
                b.append(tb)
                ratios.append(ta / tb)
            d = per_item_ns(dict_loop, n, args.min_time)
            print(f"| {n} | {statistics.median(a):.0f} | {statistics.median(b):.0f} | "
                  f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | "
                  f"{d:.0f} |")


if __name__ == "__main__":
    main()
