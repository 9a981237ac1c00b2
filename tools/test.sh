#!/usr/bin/env bash
# Sets heapwise up and runs the whole test suite: every meson suite (unit, golden, e2e) of the
# release-like build, the Python tests, and the unit suite again under ASan+UBSan and under TSan.
# Ends with one line "N passed, N failed"; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash tools/setup.sh || { echo "heapwise test: setup failed" >&2; exit 1; }

status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1

if compgen -G "tools/python/tests/test_*.py" >/dev/null; then
  (cd tools/python && HEAPWISE_LIB="$root/build/api/libheapwise.so" \
     /usr/bin/python3 -m unittest discover -s tests -v) 2>&1 | tee build/python-tests.log
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
fi

for san in asan tsan; do
  case $san in
    asan) opts=(-Db_sanitize=address,undefined -Db_lundef=false) ;;
    tsan) opts=(-Db_sanitize=thread -Db_lundef=false) ;;
  esac
  dir=build-$san
  if [[ ! -f $dir/build.ninja ]]; then
    meson setup "$dir" "${opts[@]}" -Dbench=false -Dbuildtype=debug >/dev/null || { status=1; continue; }
  fi
  # Build only what the unit suite runs (its executables and the targets they depend on): the
  # sanitizer builds exist for the unit tests, and building everything three times would double
  # the run's time.
  mapfile -t targets < <(/usr/bin/python3 - "$dir" <<'PY'
import json, os, subprocess, sys
d = sys.argv[1]
intro = lambda what: json.loads(subprocess.check_output(["meson", "introspect", d, what]))
want = {dep for t in intro("--tests") if "heapwise:unit" in t["suite"] for dep in t["depends"]}
for t in intro("--targets"):
    if t["id"] in want:
        for f in t["filename"]:
            print(os.path.relpath(f, os.path.abspath(d)))
PY
)
  ((${#targets[@]})) || { echo "heapwise test: no unit tests found in $dir" >&2; status=1; continue; }
  ninja -C "$dir" "${targets[@]}" || { status=1; continue; }
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 TSAN_OPTIONS=halt_on_error=1 \
    meson test -C "$dir" --suite unit --no-rebuild --print-errorlogs --num-processes 2 || status=1
done

/usr/bin/python3 - "$root" <<'PY'
import json, pathlib, re, sys
root = pathlib.Path(sys.argv[1])
passed = failed = skipped = 0
bad = []  # each failure and its output's tail, at the very end, where a CI log's tail shows them
for log in sorted(root.glob("build*/meson-logs/testlog.json")):
    for line in log.read_text().splitlines():
        t = json.loads(line)
        r = t.get("result", "")
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else:
            failed += 1
            bad.append(f"failed: {log.parent.parent.name}: {t.get('name', '?')} {r}")
            bad += ["    " + l for l in (t.get("stdout") or "").rstrip().splitlines()[-15:]]
py = root / "build" / "python-tests.log"
if py.exists():
    text = py.read_text()
    m = re.search(r"^Ran (\d+) test", text, re.M)
    if m:
        n = int(m.group(1))
        f = re.search(r"FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?", text)
        n_bad = sum(int(x) for x in f.groups() if x) if f else 0
        passed += n - n_bad; failed += n_bad
        bad += ["failed: python: " + l for l in re.findall(r"^(?:FAIL|ERROR): .*$", text, re.M)]
    else:
        failed += 1
        bad.append("failed: python: the tests did not run (build/python-tests.log)")
if bad: print("\n".join(bad))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
