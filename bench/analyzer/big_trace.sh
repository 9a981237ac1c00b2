#!/usr/bin/env bash
# Peak memory of the analyzer on a trace of 50 million heap events: churn (a malloc/free loop
# with a bounded live set of 4096 blocks and ten markers) runs under the real shim to record the
# trace (timed), then each analyzer runs once under /usr/bin/time for its wall, CPU and max RSS:
#   heapwise stats TRACE               the statistics replay
#   analyzer_replay TRACE              replay with start/peak/end and growth snapshots (two passes),
#                                      grouped with symbols, leaks, growth leaks, diff
#   analyzer_replay TRACE --timeline   the timeline (one pass, CSV and SVG built)
# The trace is deleted at the end unless --keep is given (it is about 200 MB).
#
#   bench/analyzer/big_trace.sh [--build DIR] [--events N] [--dir DIR] [--keep]
set -euo pipefail
cd "$(dirname "$0")/../.."

build=build events=50000000 dir=/tmp keep=0
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "big_trace.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
  esac
done

source bench/analyzer/tools.sh
analyzer_bench_tools big_trace.sh "$build"
trace=$dir/heapwise-big-$$.hwt
[[ $keep == 1 ]] || trap 'rm -f "$trace"' EXIT

echo "# $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# recording: churn --events $events under the shim"
/usr/bin/time -f "record: wall %e s, cpu %U+%S s, churn max RSS %M KiB" \
  env LD_PRELOAD="$shim" HEAPWISE_OUTPUT="$trace" "$churn" --events "$events" >/dev/null
echo "trace: $(stat -c %s "$trace") bytes"

measure() {
  local name=$1; shift
  /usr/bin/time -f "$name: wall %e s, cpu %U+%S s, max RSS %M KiB" "$@" >"$dir/heapwise-big-$$.out"
  sed 's/^/    /' "$dir/heapwise-big-$$.out"
  rm -f "$dir/heapwise-big-$$.out"
}
measure "heapwise stats" "$heapwise" stats "$trace"
measure "analyzer_replay (snapshots)" "$replay" "$trace"
measure "analyzer_replay --timeline" "$replay" "$trace" --timeline
if [[ $keep == 1 ]]; then echo "kept $trace"; fi
