#!/usr/bin/env bash
# Whole-process comparison of the tracer: alloc_workload untraced, under heapwise (LD_PRELOAD on
# the workload only) and under heaptrack record-only (`heaptrack -r`), for 1 and 2 threads, in
# paired rounds (each round runs every configuration back to back, the order rotating), so the
# machine's drift cancels out in the per-round ratios. Reports per configuration: slowdown ratio
# against the same round's untraced run (median, min-max), wall and CPU; added ns per event;
# trace bytes per event on disk; events per second. With --hook, also runs hook_bench and turns
# its output into ns per pair and ratios to the untraced pair.
#
#   bench/preload/compare.sh [--build DIR] [--rounds N] [--ops N] [--depth N] [--threads "1 2"]
#                            [--configs "untraced heapwise heapwise-cached heaptrack"] [--hook | --hook-only]
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build rounds=5 ops=1000000 depth=32 thread_counts="1 2" hook=0
configs="untraced heapwise heapwise-cached heaptrack"
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --depth) depth=$2; shift 2 ;;
    --threads) thread_counts=$2; shift 2 ;;
    --configs) configs=$2; shift 2 ;;
    --hook) hook=1; shift ;;
    --hook-only) hook=1 thread_counts=""; shift ;;
    *) echo "compare.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
done

prog=$(realpath "$build/bench/preload/alloc_workload")
shim=$(realpath "$build/preload/libheapwise_preload.so")
for f in "$prog" "$shim"; do
  [[ -e $f ]] || { echo "compare.sh: $f is missing: build first (ninja -C $build)" >&2; exit 2; }
done
command -v heaptrack >/dev/null || { echo "compare.sh: heaptrack is not installed" >&2; exit 2; }

tmp=$(mktemp -d /tmp/heapwise-compare-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.tsv   # threads round config wall_s cpu_s trace_bytes events

# Runs one configuration once; appends a line to $results. The timing wrapper (bench/rusage.py)
# never gets LD_PRELOAD: env sets it for the workload only.
run_one() {
  local config=$1 threads=$2 round=$3
  local args=(--threads "$threads" --ops "$ops" --depth "$depth")
  local trace=$tmp/trace
  rm -rf "$trace" "$trace".* "$tmp/out"
  local cmd
  case $config in
    untraced) cmd=(env "$prog" "${args[@]}") ;;
    heapwise) cmd=(env LD_PRELOAD="$shim" HEAPWISE_OUTPUT="$trace.hwt" "$prog" "${args[@]}") ;;
    heapwise-cached) cmd=(env LD_PRELOAD="$shim" HEAPWISE_UNWIND=cached HEAPWISE_OUTPUT="$trace.hwt" "$prog" "${args[@]}") ;;
    heapwise-fp) cmd=(env LD_PRELOAD="$shim" HEAPWISE_UNWIND=fp HEAPWISE_OUTPUT="$trace.hwt" "$prog" "${args[@]}") ;;
    heaptrack) cmd=(heaptrack -r -o "$trace" "$prog" "${args[@]}") ;;
    *) echo "compare.sh: unknown configuration $config" >&2; exit 2 ;;
  esac
  /usr/bin/python3 bench/rusage.py -o "$tmp/cpu" "${cmd[@]}" >"$tmp/out" 2>"$tmp/err" || {
    echo "compare.sh: $config failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  local line events bytes=0
  line=$(grep '^threads ' "$tmp/out")
  events=$(awk '{print $4 + $6}' <<<"$line")
  for f in "$trace".hwt "$trace".raw.zst "$trace".zst; do
    [[ -f $f ]] && bytes=$(stat -c %s "$f")
  done
  local cpu wall
  read -r cpu wall _ <"$tmp/cpu"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$threads" "$round" "$config" "$wall" "$cpu" "$bytes" "$events" >>"$results"
}

read -r -a config_list <<<"$configs"
if [[ -n $thread_counts ]]; then
echo "# alloc_workload --ops $ops --depth $depth, $rounds paired rounds, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for threads in $thread_counts; do
  for ((round = 0; round < rounds; ++round)); do
    n=${#config_list[@]}
    for ((k = 0; k < n; ++k)); do
      run_one "${config_list[(k + round) % n]}" "$threads" "$round"
    done
  done
done

/usr/bin/python3 - "$results" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
runs = collections.defaultdict(dict)  # (threads, round) -> config -> (wall, cpu, bytes, events)
for t, r, c, wall, cpu, size, ev in rows:
    runs[(int(t), int(r))][c] = (float(wall), float(cpu), int(size), int(ev))
threads_list = sorted({t for t, _ in runs})
configs = list(dict.fromkeys(c for _, _, c, *_ in rows))
def med(xs): return statistics.median(xs)
def span(xs): return f"{med(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"
print("| threads | configuration | wall ratio, median (min-max) | CPU ratio | added ns per event (wall) | added ns per malloc+free pair (wall) | trace bytes per event | events per second | ns per op (wall) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for t in threads_list:
    rounds = [runs[k] for k in sorted(runs) if k[0] == t]
    for c in configs:
        wall_r, cpu_r, added, bpe, eps, per_op = [], [], [], [], [], []
        for rd in rounds:
            if c not in rd or "untraced" not in rd: continue
            w, u, size, ev = rd[c]
            w0, u0, _, _ = rd["untraced"]
            wall_r.append(w / w0); cpu_r.append(u / u0 if u0 > 0 else float("nan"))
            added.append((w - w0) / ev * 1e9); bpe.append(size / ev); eps.append(ev / w)
            per_op.append(w / (ev / 2) * 1e9)
        if not wall_r: continue
        if c == "untraced":
            print(f"| {t} | {c} | 1 | 1 | - | - | - | {med(eps)/1e6:.1f} M | {med(per_op):.0f} |")
        else:
            print(f"| {t} | {c} | {span(wall_r)} | {span(cpu_r)} | {med(added):.0f} | {2*med(added):.0f} | {med(bpe):.2f} | {med(eps)/1e6:.2f} M | {med(per_op):.0f} |")
PY
fi

if ((hook)); then
  echo "# hook_bench, 3 repetitions of 0.3 s, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
  bench=$build/bench/preload/hook_bench
  "$bench" --benchmark_format=json --benchmark_out="$tmp/hook.json" --benchmark_out_format=json \
    --benchmark_min_time=0.3 --benchmark_repetitions=3 >/dev/null
  /usr/bin/python3 - "$tmp/hook.json" <<'PY'
import json, re, statistics, sys
data = json.load(open(sys.argv[1]))
unw = {"1": "libunwind", "2": "fp", "3": "cached"}
pairs = {}
for b in data["benchmarks"]:
    if b.get("run_type") != "iteration": continue
    m = re.match(r"BM_pair_(\w+)/depth:(\d+)(?:/unwinder:(\d+))?/real_time/threads:(\d+)", b["name"])
    kind, depth, u, threads = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
    key = (depth, threads, "untraced" if kind == "untraced" else unw[u])
    # items_per_second counts pairs of every thread: its inverse is the machine's ns per pair.
    pairs.setdefault(key, {"wall": [], "cpu": []})
    pairs[key]["wall"].append(1e9 / b["items_per_second"])
    # cpu_time per iteration: CPU of the benchmark threads only (the writer thread's is not in it).
    pairs[key]["cpu"].append(b["cpu_time"])
print("| depth | threads | path | ns per pair (wall, all threads) | per-thread ns per pair | added ns per pair (wall) | ratio to untraced (wall) | CPU ns per pair, benchmark threads | CPU ratio |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (depth, threads, path) in sorted(pairs, key=lambda k: (k[0], k[1], k[2] != "untraced", k[2])):
    ns = statistics.median(pairs[(depth, threads, path)]["wall"])
    base = statistics.median(pairs[(depth, threads, "untraced")]["wall"])
    added = "-" if path == "untraced" else f"{ns - base:.0f}"
    cpu = statistics.median(pairs[(depth, threads, path)]["cpu"])
    cpu0 = statistics.median(pairs[(depth, threads, "untraced")]["cpu"])
    print(f"| {depth} | {threads} | {path} | {ns:.0f} | {ns*threads:.0f} | {added} | {ns/base:.1f} | {cpu:.0f} | {cpu/cpu0:.1f} |")
PY
fi
