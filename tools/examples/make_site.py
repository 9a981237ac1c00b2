#!/usr/bin/env python3
"""Writes a small static web site for the example scraper to crawl: N linked HTML pages with
titles, paragraphs and a few links each, deterministic for a given seed. Stdlib only."""
import argparse
import pathlib
import random

WORDS = ("memory heap stack trace leak allocation growth snapshot crawler scraper page link "
         "python native buffer cache disk pressure monitor report function line file").split()


def page(i: int, n: int, rng: random.Random) -> str:
    links = sorted({rng.randrange(n) for _ in range(4)} | {(i + 1) % n})
    paragraphs = "\n".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120))) + "</p>"
        for _ in range(rng.randint(3, 8)))
    anchors = "\n".join(f'<li><a href="page{j}.html">page {j}</a></li>' for j in links)
    return (f"<!doctype html>\n<html><head><title>Page {i}</title></head><body>\n"
            f"<h1>Page {i}</h1>\n{paragraphs}\n<ul>\n{anchors}\n</ul>\n</body></html>\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("directory", type=pathlib.Path)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if args.pages < 1:
        ap.error("--pages must be at least 1")
    rng = random.Random(args.seed)
    args.directory.mkdir(parents=True, exist_ok=True)
    for i in range(args.pages):
        (args.directory / f"page{i}.html").write_text(page(i, args.pages, rng))
    (args.directory / "index.html").write_text(
        '<html><body><a href="page0.html">start</a></body></html>\n')


if __name__ == "__main__":
    main()
