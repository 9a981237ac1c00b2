# Sourced by the analyzer benchmark scripts: the built programs they run, found in one build
# directory, each checked to exist. Usage: analyzer_bench_tools SCRIPT_NAME BUILD_DIR
# sets churn, replay, shim and heapwise (absolute paths), or prints one line and exits 2.
analyzer_bench_tools() {
  local name=$1 build=$2 f
  churn=$(realpath -m "$build/bench/analyzer/churn")
  replay=$(realpath -m "$build/bench/analyzer/analyzer_replay")
  shim=$(realpath -m "$build/preload/libheapwise_preload.so")
  heapwise=$(realpath -m "$build/tools/cli/heapwise")
  for f in "$churn" "$replay" "$shim" "$heapwise"; do
    [[ -e $f ]] || { echo "$name: $f is missing: build first (ninja -C $build)" >&2; exit 2; }
  done
}
