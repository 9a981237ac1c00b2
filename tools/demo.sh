#!/usr/bin/env bash
# The main job, end to end: sets heapwise up (Debian packages, build), serves a generated site on
# 127.0.0.1, traces the bundled example scraper (tools/examples/scraper.py, which leaks on
# purpose) with `heapwise record`, and shows its report, the diff from start to end, the leaks and the
# heap over time.
# Usage: bash tools/demo.sh [--pages N]     (traces land in $HEAPWISE_DEMO_DIR, default /tmp/heapwise-demo)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pages=300
while (($#)); do
  case $1 in
    --pages) pages=${2:?--pages needs a number}; shift 2 ;;
    *) echo "demo: unknown option $1 (use --pages N)" >&2; exit 2 ;;
  esac
done

bash tools/setup.sh >/dev/null
heapwise=$root/build/tools/cli/heapwise
py=/usr/bin/python3   # the interpreter itself, not a wrapper script on PATH

out=${HEAPWISE_DEMO_DIR:-/tmp/heapwise-demo}
mkdir -p "$out"
site=$(mktemp -d)
server_pid=
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; rm -rf "$site"; }
trap cleanup EXIT

"$py" tools/examples/make_site.py "$site/www" --pages "$pages"
"$py" tools/examples/serve.py "$site/www" --port-file "$site/port" &
server_pid=$!
for _ in $(seq 100); do [[ -s $site/port ]] && break; sleep 0.1; done
[[ -s $site/port ]] || { echo "demo: the local web server did not start" >&2; exit 1; }
port=$(cat "$site/port")

echo "== heapwise record -- python3 tools/examples/scraper.py --pages $pages"
rm -f "$out"/scraper.*.hwt
"$heapwise" record -o "$out/scraper.%p.hwt" -- \
  "$py" tools/examples/scraper.py --base "http://127.0.0.1:$port/" --pages "$pages"
trace=$(ls -t "$out"/scraper.*.hwt | head -1)

echo
echo "== heapwise report $trace"
"$heapwise" report "$trace" --top 8
echo
echo "== heapwise diff $trace --from start --to end --by lineno --top 8"
"$heapwise" diff "$trace" --from start --to end --by lineno --top 8
echo
echo "== heapwise leaks $trace --by function --top 5"
"$heapwise" leaks "$trace" --by function --top 5
echo
echo "== heapwise timeline $trace --csv $out/timeline.csv --svg $out/timeline.svg"
"$heapwise" timeline "$trace" --csv "$out/timeline.csv" --svg "$out/timeline.svg"
echo "heap and RSS over time: $out/timeline.svg (open it in a browser), $out/timeline.csv"
