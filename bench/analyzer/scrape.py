"""The analyzer benchmarks' realistic workload: a small scraper in pure Python, run by
/usr/bin/python3 with PYTHONMALLOC=malloc so every object is a malloc. It renders fake HTML pages,
parses links and fields out of them with regular expressions, builds a record per page, keeps a
bounded LRU of parsed pages and an index that grows for the whole run. Allocations come from many
interpreter paths (deep native stacks, thousands of distinct ones) and the live set reaches tens of
thousands of blocks. Deterministic for given arguments.

    PYTHONMALLOC=malloc /usr/bin/python3 scrape.py [PAGES]
"""
import collections
import json
import random
import re
import sys

LINK = re.compile(r'<a href="([^"]+)">([^<]*)</a>')
FIELD = re.compile(r'<td class="(\w+)">([^<]*)</td>')
WORDS = ["alpha", "beta", "gamma", "delta", "heap", "page", "item", "price", "stock", "note"]


def render(rng, n):
    rows = "".join(f'<tr><td class="{rng.choice(WORDS)}">{rng.randint(0, 10**6)}</td>'
                   f'<td class="name">{" ".join(rng.sample(WORDS, 3))}</td></tr>'
                   for _ in range(rng.randint(5, 40)))
    links = "".join(f'<a href="/p/{rng.randint(0, 5000)}?q={rng.choice(WORDS)}">{rng.choice(WORDS)}</a>'
                    for _ in range(rng.randint(3, 30)))
    return f"<html><body><h1>page {n}</h1><table>{rows}</table>{links}</body></html>"


def parse(html):
    fields = collections.defaultdict(list)
    for cls, value in FIELD.findall(html):
        fields[cls].append(int(value) if value.isdigit() else value.split())
    return {"links": [(href, text.upper()) for href, text in LINK.findall(html)],
            "fields": dict(fields)}


def main():
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rng = random.Random(42)
    cache = collections.OrderedDict()
    index = {}
    total = 0
    for n in range(pages):
        record = parse(render(rng, n))
        cache[n] = record
        if len(cache) > 500:
            cache.popitem(last=False)
        for href, _ in record["links"]:
            index.setdefault(href, []).append(n)
        total += len(json.dumps(record))
    print("pages", pages, "index", len(index), "bytes", total)


if __name__ == "__main__":
    main()
