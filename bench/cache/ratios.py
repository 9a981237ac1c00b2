#!/usr/bin/env python3
"""Reads bench/cache/compare.sh output; prints per build the median (min-max) over rounds of
baseline CPU ns/op / heapwise CPU ns/op per case, and 2-thread / 1-thread items/s. The get-hit
cases are compared three ways: heapwise's copy (get) against the baseline's copy, heapwise's
handle (get_shared) against the baseline's copy, and the handle against the baseline storing
shared_ptr values. With two or more builds, also each build's heapwise CPU against the first's.
usage: python3 bench/cache/ratios.py FILE"""
import re, statistics, sys
from collections import defaultdict
from compare_output import read_rounds
rows = defaultdict(lambda: defaultdict(list))  # build -> case -> [(round, cpu, ips)]
loads = defaultdict(list); order = []
def ips(v):
    m = re.match(r"([0-9.]+)([kMG]?)/s", v); return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]
headers, bench_rows = read_rounds(sys.argv, "ratios.py")
for rnd, build, load in headers:
    loads[build].append(load)
    if build not in order: order.append(build)
for rnd, build, p in bench_rows:
    if len(p) >= 7:
        rows[build][p[0]].append((rnd, float(p[4]), ips(p[6])))
def fmt(xs): return f"{statistics.median(xs):.2f}x ({min(xs):.2f}-{max(xs):.2f}, n={len(xs)})"
def ratio(num, den):  # num CPU / den CPU, paired by round
    d = {r: c for r, c, _ in den}
    return [d[r] and n / d[r] for r, n, _ in num if r in d]
# (label, heapwise case prefix, baseline case prefix)
pairs = [("copy vs baseline copy", "BM_GetHit_Heapwise", "BM_GetHit_Baseline"),
         ("handle vs baseline copy", "BM_GetSharedHit_Heapwise", "BM_GetHit_Baseline"),
         ("handle vs baseline shared_ptr", "BM_GetSharedHit_Heapwise", "BM_GetSharedHit_Baseline"),
         ("get miss", "BM_GetMiss_Heapwise", "BM_GetMiss_Baseline"),
         ("set with eviction", "BM_SetEvict_Heapwise", "BM_SetEvict_Baseline")]
for b in order:
    cases = rows[b]
    print(f"# {b}  load avg (1 min) at each run: {', '.join(f'{x:.1f}' for x in loads[b])}")
    print("  baseline CPU per op / heapwise CPU per op:")
    for label, hw, base in pairs:
        for c in sorted(k for k in cases if k.startswith(hw + "/")):
            bc = base + c[len(hw):]
            if bc in cases and cases[c]:
                print(f"    {label:30s} {c[len(hw) + 1:]:28s} {fmt(ratio(cases[bc], cases[c]))}")
    print("  2 threads / 1 thread, items/s (both threads) and 1T CPU per op / 2T CPU per op:")
    for c in sorted(cases):
        if "threads:2" not in c: continue
        one = cases.get(c.replace("threads:2", "threads:1")); two = cases[c]
        if not one: continue
        r = [t[2] / o[2] for o, t in zip(one, two)]
        rc = [o[1] / t[1] for o, t in zip(one, two)]
        print(f"    {c:50s} {fmt(r)}   CPU {fmt(rc)}")
if len(order) > 1:
    first = order[0]
    for b in order[1:]:
        print(f"# {first} heapwise CPU per op / {b} heapwise CPU per op, same round:")
        for c in sorted(rows[b]):
            if "Heapwise" in c and c in rows[first]:
                print(f"    {c:50s} {fmt(ratio(rows[first][c], rows[b][c]))}")
