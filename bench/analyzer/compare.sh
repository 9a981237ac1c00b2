#!/usr/bin/env bash
# Whole-process speed of the analyzer against heaptrack_print, on traces of the same program run
# once under the heapwise shim and once under heaptrack (default mode, so heaptrack_interpret
# writes the file heaptrack_print reads; both record the same heap events). Two workloads:
#   churn   bench/analyzer/churn.c: a malloc/free loop, 8 sites, a live set of 4096 blocks
#           (--events N heap events)
#   python  bench/analyzer/scrape.py under /usr/bin/python3 with PYTHONMALLOC=malloc: a small
#           scraper, thousands of distinct deep native stacks, a live set of tens of thousands
#           of blocks (--pages N pages)
# Per workload, in paired rounds (every analyzer back to back, the order rotating, each pinned to
# one core with taskset), it times:
#   hw-stats     heapwise stats TRACE             (read + replay of the live heap)
#   hw-report    analyzer_replay TRACE            (start/peak/end + growth snapshots, grouped by
#                                                  function with symbols, leaks, diff: one pass on
#                                                  a trace with markers, two without)
#   hw-cmd-report heapwise report TRACE           (the command itself: peak and end, one pass)
#   hw-timeline  analyzer_replay TRACE --timeline (one pass, CSV and SVG built)
#   heaptrack    heaptrack_print -f TRACE.zst     (its default report, to /dev/null)
# and reports per analyzer: CPU seconds (user+sys), wall seconds, heap events per CPU second, and
# the ratio of heaptrack_print's CPU time to the analyzer's in the same round (median, min-max).
# CPU time is the figure to quote on a shared machine; wall time is shown beside it. Both come from
# bench/rusage.py (the kernel's rusage, in microseconds: /usr/bin/time's hundredths of a second
# would quantize a 0.09 s run in 11 % steps).
# --baseline DIR adds the same four heapwise commands from another build (e.g. one made from
# `git archive` of an earlier commit) to every round, as NAME@base, with the ratio of their CPU
# time to this build's in the same round: before/after measured side by side.
# --compression C records the heapwise traces with HEAPWISE_COMPRESSION=C (lz4, zstd, zstd:3,
# none; the tracer's default when not given).
#
#   bench/analyzer/compare.sh [--build DIR] [--baseline DIR] [--rounds N] [--events N]
#                             [--pages N] [--workload churn|python|all] [--compression C]
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build baseline= rounds=5 events=4000000 pages=1000 workload=all compression=
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --pages) pages=$2; shift 2 ;;
    --workload) workload=$2; shift 2 ;;
    --compression) compression=$2; shift 2 ;;
    *) echo "compare.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
done

case $workload in
  churn | python | all) ;;
  *) echo "compare.sh: unknown workload '$workload' (churn, python or all)" >&2; exit 2 ;;
esac
source bench/analyzer/tools.sh
if [[ -n $baseline ]]; then
  analyzer_bench_tools compare.sh "$baseline"
  base_replay=$replay base_heapwise=$heapwise
fi
analyzer_bench_tools compare.sh "$build"
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
  { echo "compare.sh: heaptrack is not installed" >&2; exit 2; }

tmp=$(mktemp -d /tmp/heapwise-analyzer-compare-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

scrape=$PWD/bench/analyzer/scrape.py

# Records both traces of one workload into $tmp/NAME.hwt and $tmp/NAME-ht.*.
record() {
  local name=$1
  case $name in
    churn)
      echo "# churn --events $events: recording both traces"
      env LD_PRELOAD="$shim" HEAPWISE_OUTPUT="$tmp/$name.hwt" ${compression:+HEAPWISE_COMPRESSION="$compression"} \
        "$churn" --events "$events" >/dev/null
      heaptrack -o "$tmp/$name-ht" "$churn" --events "$events" >/dev/null 2>&1 ;;
    python)
      echo "# python scrape.py $pages (PYTHONMALLOC=malloc /usr/bin/python3): recording both traces"
      env PYTHONMALLOC=malloc LD_PRELOAD="$shim" HEAPWISE_OUTPUT="$tmp/$name.hwt" \
        ${compression:+HEAPWISE_COMPRESSION="$compression"} /usr/bin/python3 "$scrape" "$pages" >/dev/null
      env PYTHONMALLOC=malloc heaptrack -o "$tmp/$name-ht" /usr/bin/python3 "$scrape" "$pages" >/dev/null 2>&1 ;;
  esac
}

run_one() {
  local name=$1 round=$2 trace=$3 ht=$4 results=$5
  local cmd
  case $name in
    hw-stats) cmd=("$heapwise" stats "$trace") ;;
    hw-report) cmd=("$replay" "$trace") ;;
    hw-cmd-report) cmd=("$heapwise" report "$trace") ;;
    hw-timeline) cmd=("$replay" "$trace" --timeline) ;;
    hw-stats@base) cmd=("$base_heapwise" stats "$trace") ;;
    hw-report@base) cmd=("$base_replay" "$trace") ;;
    hw-cmd-report@base) cmd=("$base_heapwise" report "$trace") ;;
    hw-timeline@base) cmd=("$base_replay" "$trace" --timeline) ;;
    heaptrack) cmd=(heaptrack_print -f "$ht") ;;
  esac
  /usr/bin/python3 bench/rusage.py -o "$tmp/time" taskset -c 0 "${cmd[@]}" >/dev/null 2>"$tmp/err" || {
    echo "compare.sh: $name failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  awk -v r="$round" -v n="$name" '{printf "%s\t%s\t%.4f\t%.4f\t%s\n", r, n, $1, $2, $3}' "$tmp/time" >>"$results"
}

compare() {
  local workload=$1
  record "$workload"
  local trace=$tmp/$workload.hwt ht
  ht=$(ls "$tmp/$workload"-ht.* | head -1)
  local hw_events ht_calls
  hw_events=$("$heapwise" stats --json "$trace" | /usr/bin/python3 -c \
    'import json,sys; j=json.load(sys.stdin); print(j["allocations"]["count"] + j["frees"]["count"])')
  ht_calls=$(heaptrack_print -f "$ht" | awk -F'[: (]+' '/^calls to allocation functions/ {print $5}')
  echo "# heapwise trace: $hw_events heap events, $(stat -c %s "$trace") bytes;" \
       "heaptrack trace: $ht_calls allocation calls, $(stat -c %s "$ht") bytes"
  echo "# $rounds paired rounds, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  local results=$tmp/$workload-results.tsv  # round name cpu_s wall_s max_rss_kib
  local names=(hw-stats hw-report hw-cmd-report hw-timeline heaptrack) round i
  [[ -z $baseline ]] || names+=(hw-stats@base hw-report@base hw-cmd-report@base hw-timeline@base)
  for ((round = 0; round < rounds; ++round)); do
    for ((i = 0; i < ${#names[@]}; ++i)); do
      run_one "${names[(i + round) % ${#names[@]}]}" "$round" "$trace" "$ht" "$results"
    done
  done
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/python3 - "$results" "$hw_events" "$workload" <<'PY'
import sys, statistics
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines()]
events = int(sys.argv[2])
by = {}
for r, name, cpu, wall, rss in rows:
    by.setdefault(name, {})[int(r)] = (float(cpu), float(wall), int(rss))
ht = by['heaptrack']
print(f"{'analyzer':<18} {'cpu s (median)':>15} {'wall s':>8} {'Mevents/cpu s':>14} {'max RSS MiB':>12}  heaptrack_print cpu / this cpu (median, min-max)  [{sys.argv[3]}]")
names = ['hw-stats', 'hw-report', 'hw-cmd-report', 'hw-timeline', 'heaptrack']
names += [n + '@base' for n in names[:4] if n + '@base' in by]
for name in names:
    runs = by[name]
    cpu = statistics.median(v[0] for v in runs.values())
    wall = statistics.median(v[1] for v in runs.values())
    rss = max(v[2] for v in runs.values()) / 1024
    ratios = sorted(ht[r][0] / runs[r][0] for r in runs if runs[r][0] > 0)
    print(f"{name:<18} {cpu:>15.4f} {wall:>8.4f} {events / cpu / 1e6:>14.2f} {rss:>12.1f}  "
          f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})")
for name in names[:4]:
    if name + '@base' not in by:
        continue
    base, now = by[name + '@base'], by[name]
    ratios = sorted(base[r][0] / now[r][0] for r in now if now[r][0] > 0 and r in base)
    print(f"before/after {name}: baseline cpu / this cpu = {statistics.median(ratios):.2f} "
          f"({ratios[0]:.2f}-{ratios[-1]:.2f})")
PY
}

if [[ $workload == churn || $workload == all ]]; then compare churn; fi
if [[ $workload == python || $workload == all ]]; then compare python; fi
