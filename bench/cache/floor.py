#!/usr/bin/env python3
"""Reads bench/cache/compare.sh output of a run that includes the floor cases
(FILTER='GetHit|Floor', one thread) and prints, per key count, the median (min-max) over rounds
of each floor case's CPU per op as a share of the baseline's whole get (BM_GetHit_Baseline, same
round, same process), the best ratio a copying get doing only that work could reach
(baseline / floor), and heapwise's own get and get_shared for comparison. "net" columns subtract
the driver loop (BM_FloorLoop) from both sides.
usage: python3 bench/cache/floor.py FILE"""
import re, statistics, sys
from collections import defaultdict

from compare_output import read_rounds

rows = defaultdict(lambda: defaultdict(dict))  # build -> case -> round -> cpu ns
for rnd, build, p in read_rounds(sys.argv, "floor.py")[1]:
    if len(p) >= 5 and "threads:1" in p[0]:
        rows[build][p[0]][rnd] = float(p[4])

def fmt(xs):
    return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f}, n={len(xs)})" if xs else "-"

for b, cases in rows.items():
    print(f"# {b}")
    for keys in ("10000", "100000"):
        base = cases.get(f"BM_GetHit_Baseline/{keys}/real_time/threads:1", {})
        loop = cases.get(f"BM_FloorLoop/{keys}/real_time/threads:1", {})
        if not base:
            continue
        print(f"  {keys} keys: baseline get CPU ns/op {fmt(list(base.values()))}, "
              f"driver loop {fmt(list(loop.values()))}")
        print(f"    {'case':38s} {'CPU ns/op':24s} {'share of baseline':24s} "
              f"{'best ratio':24s} {'net share':24s} net best ratio")
        pat = rf"BM_(Floor|GetHit_Heapwise|GetSharedHit_Heapwise)\w*/{keys}/real_time/threads:1$"
        names = sorted(c for c in cases if re.match(pat, c))
        for c in names:
            r = cases[c]
            common = [k for k in r if k in base]
            share = [r[k] / base[k] for k in common]
            best = [base[k] / r[k] for k in common]
            lc = [k for k in common if k in loop]
            nshare = [(r[k] - loop[k]) / (base[k] - loop[k]) for k in lc
                      if not c.startswith("BM_FloorLoop/")]
            nbest = [(base[k] - loop[k]) / (r[k] - loop[k]) for k in lc if r[k] > loop[k]]
            print(f"    {c.split('/')[0]:38s} {fmt(list(r.values())):24s} {fmt(share):24s} "
                  f"{fmt(best):24s} {fmt(nshare):24s} {fmt(nbest)}")
