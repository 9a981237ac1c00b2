#!/usr/bin/env python3
"""Reads bench/cache/compare.sh output; prints per build the median (min-max) over rounds of:
baseline CPU ns/op / heapwise CPU ns/op per case, and 2-thread / 1-thread items/s."""
import re, statistics, sys
from collections import defaultdict
rows = defaultdict(lambda: defaultdict(list))  # build -> (case) -> [(round, cpu, ips)]
build = None; rnd = None; loads = defaultdict(list)
def ips(v):
    m = re.match(r"([0-9.]+)([kMG]?)/s", v); return float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]
for line in open(sys.argv[1]):
    m = re.match(r"== round (\d+) (\S+) load (\S+)", line)
    if m: rnd, build = int(m.group(1)), m.group(2); loads[build].append(float(m.group(3))); continue
    p = line.split()
    if len(p) >= 7 and p[0].startswith("BM_"):
        rows[build][p[0]].append((rnd, float(p[4]), ips(p[6])))
def fmt(xs): return f"{statistics.median(xs):.2f}x ({min(xs):.2f}-{max(xs):.2f}, n={len(xs)})"
for b, cases in rows.items():
    print(f"# {b}  load avg (1 min) at each run: {', '.join(f'{x:.1f}' for x in loads[b])}")
    for c in sorted(cases):
        if "Heapwise" not in c: continue
        base = cases[c.replace("Heapwise", "Baseline")]
        hw = cases[c]
        r = [bb[1] / h[1] for h, bb in zip(hw, base)]
        print(f"  {c.replace('_Heapwise',''):42s} baseline/heapwise CPU per op: {fmt(r)}")
    for c in sorted(cases):
        if "threads:2" not in c: continue
        one = cases[c.replace("threads:2", "threads:1")]; two = cases[c]
        r = [t[2] / o[2] for o, t in zip(one, two)]
        rc = [o[1] / t[1] for o, t in zip(one, two)]
        print(f"  {c:50s} 2T/1T items/s: {fmt(r)}   1T/2T CPU per op: {fmt(rc)}")
