#!/usr/bin/python3
"""Per-item cost of heapwise.Cache.get_many (one ctypes crossing per batch) against a loop of
Cache.get (one crossing per key), for batches of 1, 100 and 1000 keys, all hits.

The machine's speed drifts, so the two methods alternate round by round (A B A B ...) and the
ratio of each pair is what gets quoted: median with min-max (see shared BENCHMARKING.md).
A plain dict loop is printed beside them as the floor a Python lookup cannot beat.
--callgrind counts instructions instead (valgrind --tool=callgrind, repeatable when the machine
is too loaded for wall time): each method runs in its own process, minus a process that only
sets up, divided by the keys looked up.

Run: HEAPWISE_LIB=build/api/libheapwise.so /usr/bin/python3 bench/python/batch_get.py
     [--callgrind]
"""

import argparse
import os
import re
import statistics
import subprocess
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


def make_cache(n_keys, value_size):
    keys = [f"https://example.com/page/{i}" for i in range(n_keys)]
    value = bytes(range(256)) * (value_size // 256) + bytes(value_size % 256)
    cache = Cache(max_memory=256 << 20, max_disk=0)
    cache.set_many({k: value for k in keys})
    assert cache.get_many(keys) == {k: value for k in keys}, "get_many returned wrong values"
    return cache, keys


def workload(method, n, reps, value_size):
    """One process's work for --callgrind: set up, then `reps` batches of n keys."""
    cache, keys = make_cache(n, value_size)
    if method == "loop":
        get = cache.get
        for _ in range(reps):
            for k in keys:
                get(k)
    elif method == "many":
        for _ in range(reps):
            cache.get_many(keys)
    cache.close()


def instructions(method, n, reps, value_size):
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
           os.path.abspath(__file__), "--workload", method, "--sizes", str(n), "--rounds",
           str(reps), "--value-size", str(value_size)]
    env = dict(os.environ, PYTHONHASHSEED="0")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if not m:
        sys.exit("batch_get: no instruction count in valgrind's output:\n" + r.stderr[-2000:])
    return int(m.group(1))


def callgrind_table(sizes, value_size):
    print(f"# instructions per key (valgrind --tool=callgrind), values of {value_size} B, "
          "all hits")
    print("| keys per call | get loop (instr/key) | get_many (instr/key) | ratio |")
    print("| --- | --- | --- | --- |")
    for n in sizes:
        reps = max(1, 20000 // n)
        base = instructions("none", n, reps, value_size)
        loop = (instructions("loop", n, reps, value_size) - base) / (reps * n)
        many = (instructions("many", n, reps, value_size) - base) / (reps * n)
        print(f"| {n} | {loop:.0f} | {many:.0f} | {loop / many:.2f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--value-size", type=int, default=100, help="bytes per value (default 100)")
    ap.add_argument("--rounds", type=int, default=7, help="A/B pairs per batch size (default 7)")
    ap.add_argument("--min-time", type=float, default=0.2,
                    help="seconds per measurement (default 0.2)")
    ap.add_argument("--sizes", default="1,100,1000", help="batch sizes (default 1,100,1000)")
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions under valgrind instead of timing")
    ap.add_argument("--workload", choices=("none", "loop", "many"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.value_size < 0 or args.rounds <= 0 or args.min_time <= 0:
        ap.error("--value-size must be >= 0, --rounds and --min-time > 0")
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(s <= 0 for s in sizes):
        ap.error("--sizes must be positive integers")

    if args.workload:
        workload(args.workload, sizes[0], args.rounds, args.value_size)
        return
    if args.callgrind:
        callgrind_table(sizes, args.value_size)
        return

    cache, keys = make_cache(max(sizes), args.value_size)
    plain = {k: cache.get(k) for k in keys}
    with cache:
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
