"""Reads the output of bench/cache/compare.sh for ratios.py and floor.py: each "== round N BUILD
load L" header, then that run's Google Benchmark rows. A file that cannot be read, or holds no
benchmark row, ends the script with one line on stderr and exit status 2."""
import re
import sys


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(2)


def read_rounds(argv, script):
    """Returns (headers, rows) of the file in argv[1]: headers as (round, build, load) in file
    order, rows as (round, build, fields of the row) for every benchmark row."""
    if len(argv) != 2:
        fail(f"usage: python3 bench/cache/{script} FILE")
    try:
        lines = open(argv[1]).read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        fail(f"{script}: cannot read {argv[1]}: {getattr(e, 'strerror', None) or e}")
    headers, rows = [], []
    for line in lines:
        m = re.match(r"== round (\d+) (\S+) load (\S+)", line)
        if m:
            headers.append((int(m.group(1)), m.group(2), float(m.group(3))))
            continue
        p = line.split()
        if headers and p and p[0].startswith("BM_"):
            rows.append((headers[-1][0], headers[-1][1], p))
    if not rows:
        fail(f"{script}: {argv[1]} holds no benchmark rows of bench/cache/compare.sh")
    return headers, rows
