#!/bin/bash
# Wall and CPU time of cache_bench for one or more builds, alternated round by round (the
# machine drifts), with the 1-minute load average before each run. Feed the output to
# bench/cache/ratios.py for per-round ratios against the baseline and 2-thread scaling.
# usage: bash bench/cache/compare.sh ROUNDS BUILD_DIR... > out.txt
rounds=$1; shift
for r in $(seq 1 $rounds); do for b in "$@"; do
  echo "== round $r $b load $(cut -d' ' -f1-3 /proc/loadavg)"
  $b/bench/cache/cache_bench --benchmark_filter='GetHit|GetMiss|SetEvict' --benchmark_min_time=0.2 2>/dev/null \
    | grep '^BM_' | awk '{ips=$NF; sub("items_per_second=","",ips); printf "%-50s wall %8s cpu %8s items/s %s\n", $1, $2, $4, ips}'
done; done
