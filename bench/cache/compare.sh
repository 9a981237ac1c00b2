#!/bin/bash
# Wall and CPU time of cache_bench for one or more builds, alternated round by round (the
# machine drifts), with the 1-minute load average before each run. Feed the output to
# bench/cache/ratios.py for per-round ratios against the baseline and 2-thread scaling.
# usage: bash bench/cache/compare.sh ROUNDS BUILD_DIR... > out.txt
#   HITS_ONLY=1   only the get-hit cases (copy and shared handle), 1 and 2 threads: a quick run
#   FILTER=REGEX  any other benchmark filter; MIN_TIME=SECONDS per benchmark (default 0.2)
rounds=$1; shift
filter=${FILTER:-'GetHit|GetSharedHit|GetMiss|SetEvict'}
[ "${HITS_ONLY:-0}" = 1 ] && filter='GetHit|GetSharedHit'
for r in $(seq 1 $rounds); do for b in "$@"; do
  echo "== round $r $b load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
  $b/bench/cache/cache_bench --benchmark_filter="$filter" --benchmark_min_time=${MIN_TIME:-0.2} 2>/dev/null \
    | grep '^BM_' | awk '{ips=$NF; sub("items_per_second=","",ips); printf "%-50s wall %8s cpu %8s items/s %s\n", $1, $2, $4, ips}'
done; done
