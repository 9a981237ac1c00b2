#!/usr/bin/env bash
# The tracer's cost with live aggregation (HEAPWISE_LIVE=1: the writer also keeps the live blocks
# and per-stack figures, tracer_live.h) against without it (HEAPWISE_LIVE=0), on alloc_workload,
# with hyperfine. Each round is one hyperfine call running the configurations (untraced, live=0,
# live=1; the order rotates between rounds), so the machine's drift cancels out in the per-round
# ratios; reported per thread count: median (min-max) over rounds of the wall-time ratio
# live=1 / live=0, of the CPU-time (user+system) ratio, and of each against untraced.
#
#   bench/preload/live_compare.sh [--build DIR] [--rounds N] [--runs N] [--ops N] [--depth N] [--threads "1 2"]
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build rounds=5 runs=3 ops=1000000 depth=32 thread_counts="1 2"
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --depth) depth=$2; shift 2 ;;
    --threads) thread_counts=$2; shift 2 ;;
    *) echo "live_compare.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
done

prog=$(realpath "$build/bench/preload/alloc_workload")
shim=$(realpath "$build/preload/libheapwise_preload.so")
for f in "$prog" "$shim"; do
  [[ -e $f ]] || { echo "live_compare.sh: $f is missing: build first (ninja -C $build)" >&2; exit 2; }
done
command -v hyperfine >/dev/null || { echo "live_compare.sh: hyperfine is not installed" >&2; exit 2; }

tmp=$(mktemp -d /tmp/heapwise-live-compare-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "# alloc_workload --ops $ops --depth $depth, $rounds rounds of hyperfine --runs $runs, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for threads in $thread_counts; do
  args="--threads $threads --ops $ops --depth $depth"
  # LD_PRELOAD goes to the workload only (env), never to hyperfine or its shell.
  declare -A cmd=(
    [untraced]="env $prog $args"
    [live0]="env LD_PRELOAD=$shim HEAPWISE_OUTPUT=$tmp/t0.hwt HEAPWISE_LIVE=0 $prog $args"
    [live1]="env LD_PRELOAD=$shim HEAPWISE_OUTPUT=$tmp/t1.hwt HEAPWISE_LIVE=1 $prog $args"
  )
  order=(untraced live0 live1)
  for ((round = 0; round < rounds; ++round)); do
    list=()
    for ((k = 0; k < 3; ++k)); do
      name=${order[(k + round) % 3]}
      list+=(--command-name "$name" "${cmd[$name]}")
    done
    hyperfine --style none --warmup 1 --runs "$runs" -N --export-json "$tmp/t$threads-r$round.json" \
      "${list[@]}" >/dev/null
  done
done

/usr/bin/python3 - "$tmp" $thread_counts <<'PY'
import glob, json, os, statistics, sys
tmp, threads_list = sys.argv[1], sys.argv[2:]
def span(xs): return f"{statistics.median(xs):.3f} ({min(xs):.3f}-{max(xs):.3f})"
print("| threads | live=1 / live=0, wall | live=1 / live=0, CPU | live=0 / untraced, wall | live=1 / untraced, wall | median wall s: untraced, live=0, live=1 |")
print("| --- | --- | --- | --- | --- | --- |")
for t in threads_list:
    wall, cpu, l0u, l1u, abs_ = [], [], [], [], {"untraced": [], "live0": [], "live1": []}
    for f in sorted(glob.glob(os.path.join(tmp, f"t{t}-r*.json"))):
        res = {r["command"]: r for r in json.load(open(f))["results"]}
        w = {k: statistics.median(r["times"]) for k, r in res.items()}
        c = {k: r["user"] + r["system"] for k, r in res.items()}
        wall.append(w["live1"] / w["live0"]); cpu.append(c["live1"] / c["live0"])
        l0u.append(w["live0"] / w["untraced"]); l1u.append(w["live1"] / w["untraced"])
        for k in abs_: abs_[k].append(w[k])
    m = ", ".join(f"{statistics.median(abs_[k]):.3f}" for k in ("untraced", "live0", "live1"))
    print(f"| {t} | {span(wall)} | {span(cpu)} | {span(l0u)} | {span(l1u)} | {m} |")
PY
