#!/usr/bin/env bash
# Whole-process speed of the analyzer against heaptrack_print, on traces of the same program:
# churn (bench/analyzer/churn.c) runs once under the heapwise shim and once under heaptrack
# (default mode, so heaptrack_interpret writes the file heaptrack_print reads; both record the
# same N heap events). Then, in paired rounds (every analyzer back to back, the order rotating,
# each pinned to one core with taskset), it times:
#   hw-stats     heapwise stats TRACE             (read + replay of the live heap)
#   hw-report    analyzer_replay TRACE            (two passes, start/peak/end + growth snapshots,
#                                                  grouped by function with symbols, leaks, diff)
#   hw-timeline  analyzer_replay TRACE --timeline (one pass, CSV and SVG built)
#   heaptrack    heaptrack_print -f TRACE.zst     (its default report, to /dev/null)
# and reports per analyzer: CPU seconds (user+sys), wall seconds, heap events per CPU second, and
# the ratio of heaptrack_print's CPU time to the analyzer's in the same round (median, min-max).
# CPU time is the figure to quote on a shared machine; wall time is shown beside it.
#
#   bench/analyzer/compare.sh [--build DIR] [--rounds N] [--events N]
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build rounds=5 events=4000000
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    *) echo "compare.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
done

source bench/analyzer/tools.sh
analyzer_bench_tools compare.sh "$build"
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
  { echo "compare.sh: heaptrack is not installed" >&2; exit 2; }

tmp=$(mktemp -d /tmp/heapwise-analyzer-compare-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "# churn --events $events: recording both traces"
env LD_PRELOAD="$shim" HEAPWISE_OUTPUT="$tmp/t.hwt" "$churn" --events "$events" >/dev/null
heaptrack -o "$tmp/ht" "$churn" --events "$events" >/dev/null 2>&1
ht=$(ls "$tmp"/ht.* | head -1)
hw_events=$("$heapwise" stats --json "$tmp/t.hwt" | /usr/bin/python3 -c \
  'import json,sys; j=json.load(sys.stdin); print(j["allocations"]["count"] + j["frees"]["count"])')
ht_calls=$(heaptrack_print -f "$ht" | awk -F'[: (]+' '/^calls to allocation functions/ {print $5}')
echo "# heapwise trace: $hw_events heap events, $(stat -c %s "$tmp/t.hwt") bytes;" \
     "heaptrack trace: $ht_calls allocation calls, $(stat -c %s "$ht") bytes"
echo "# $rounds paired rounds, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

results=$tmp/results.tsv  # round name cpu_s wall_s max_rss_kib
run_one() {
  local name=$1 round=$2
  local cmd
  case $name in
    hw-stats) cmd=("$heapwise" stats "$tmp/t.hwt") ;;
    hw-report) cmd=("$replay" "$tmp/t.hwt") ;;
    hw-timeline) cmd=("$replay" "$tmp/t.hwt" --timeline) ;;
    heaptrack) cmd=(heaptrack_print -f "$ht") ;;
  esac
  /usr/bin/time -f "%U %S %e %M" -o "$tmp/time" taskset -c 0 "${cmd[@]}" >/dev/null 2>"$tmp/err" || {
    echo "compare.sh: $name failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  awk -v r="$round" -v n="$name" '{printf "%s\t%s\t%.3f\t%.3f\t%s\n", r, n, $1 + $2, $3, $4}' "$tmp/time" >>"$results"
}

names=(hw-stats hw-report hw-timeline heaptrack)
for ((round = 0; round < rounds; ++round)); do
  for ((i = 0; i < ${#names[@]}; ++i)); do
    run_one "${names[(i + round) % ${#names[@]}]}" "$round"
  done
done

/usr/bin/python3 - "$results" "$hw_events" <<'PY'
import sys, statistics
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines()]
events = int(sys.argv[2])
by = {}
for r, name, cpu, wall, rss in rows:
    by.setdefault(name, {})[int(r)] = (float(cpu), float(wall), int(rss))
ht = by['heaptrack']
print(f"{'analyzer':<12} {'cpu s (median)':>15} {'wall s':>8} {'Mevents/cpu s':>14} {'max RSS MiB':>12}  heaptrack_print cpu / this cpu (median, min-max)")
for name in ['hw-stats', 'hw-report', 'hw-timeline', 'heaptrack']:
    runs = by[name]
    cpu = statistics.median(v[0] for v in runs.values())
    wall = statistics.median(v[1] for v in runs.values())
    rss = max(v[2] for v in runs.values()) / 1024
    ratios = sorted(ht[r][0] / runs[r][0] for r in runs if runs[r][0] > 0)
    print(f"{name:<12} {cpu:>15.3f} {wall:>8.3f} {events / cpu / 1e6:>14.2f} {rss:>12.1f}  "
          f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})")
PY
