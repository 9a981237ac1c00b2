#!/bin/sh
# One golden case: runs `heapwise ARGS...` (in tests/data, set by meson's workdir, with output
# piped and NO_COLOR set, so text is plain) and compares its stdout and exit code with the
# checked-in expectation. HEAPWISE_GOLDEN_UPDATE=1 rewrites the expectation instead (review the
# diff before committing it). Usage: run_golden.sh EXPECTED_FILE EXPECTED_EXIT HEAPWISE ARGS...
set -u
expected=$1
want_exit=$2
shift 2
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT
NO_COLOR=1 "$@" >"$out"
got_exit=$?
if [ "${HEAPWISE_GOLDEN_UPDATE:-0}" = 1 ]; then
    cp "$out" "$expected"
    echo "updated $expected (exit $got_exit)"
    exit 0
fi
status=0
if [ "$got_exit" != "$want_exit" ]; then
    echo "exit code $got_exit, expected $want_exit: $*"
    status=1
fi
if ! diff -u "$expected" "$out"; then
    echo "stdout differs from $expected: $*"
    status=1
fi
exit $status
