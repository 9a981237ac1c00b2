#!/bin/bash
# Instructions and simulated data-cache misses per cache operation, heapwise against the
# list+map+mutex baseline, under valgrind (cachegrind): each case runs with N operations and
# with 0, and the difference is divided by N. Deterministic, so usable on a loaded machine.
# usage: bash bench/cache/count.sh BUILD_DIR [N=100000]   (CASES="zipf miss" to pick cases,
#   IMPLS="heapwise baseline" to pick implementations; builds before get_shared have only those two)
b=$1; n=${2:-100000}
for op in ${CASES:-hit10k hit100k miss setevict zipf}; do
  for impl in ${IMPLS:-heapwise heapwise_shared baseline baseline_shared}; do
  for m in 0 $n; do
    out=$(valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null $b/bench/cache/cache_count $impl $op $m 2>&1)
    ir=$(echo "$out" | grep -E 'I +refs' | awk '{gsub(",","",$4); print $4}')
    d1=$(echo "$out" | grep -E 'D1 +misses' | awk '{gsub(",","",$4); print $4}')
    ll=$(echo "$out" | grep -E 'LLd misses' | awk '{gsub(",","",$4); print $4}')
    if [ $m = 0 ]; then i0=$ir; a0=$d1; l0=$ll; else i1=$ir; a1=$d1; l1=$ll; fi
  done
  awk -v op=$op -v impl=$impl -v n=$n -v i0=$i0 -v i1=$i1 -v a0=$a0 -v a1=$a1 -v l0=$l0 -v l1=$l1 \
    'BEGIN{printf "%-9s %-15s instr/op %7.1f  D1miss/op %5.2f  LLdmiss/op %5.2f\n", op, impl, (i1-i0)/n, (a1-a0)/n, (l1-l0)/n}'
done; done
