#!/usr/bin/env python3
"""The bundled example: a small stdlib-only scraper that crawls a site served on 127.0.0.1,
counts words per page, and leaks on purpose: every parsed page is kept in a module-level
"debug" history that nothing ever trims, so its memory grows with the number of pages.
Under the heapwise tracer it also drops a snapshot marker every --snapshot-every pages."""
import argparse
import collections
import ctypes
import html.parser
import sys
import urllib.parse
import urllib.request

# The deliberate leak: full token lists of every page, kept "for debugging".
_debug_history = []


class PageParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.tokens: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.extend(v for k, v in attrs if k == "href" and v)
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.tokens.extend(data.split())


def tracer_snapshot():
    """heapwise_tracer_snapshot when the tracer is loaded, else a no-op."""
    try:
        fn = ctypes.CDLL(None).heapwise_tracer_snapshot
    except AttributeError:
        return lambda label: None
    fn.argtypes = [ctypes.c_char_p]
    fn.restype = ctypes.c_int
    return lambda label: fn(label.encode())


def crawl(base: str, max_pages: int, snapshot_every: int) -> collections.Counter:
    snapshot = tracer_snapshot()
    snapshot("start")
    words: collections.Counter = collections.Counter()
    queue = collections.deque([urllib.parse.urljoin(base, "index.html")])
    seen = set(queue)
    fetched = 0
    while queue and fetched < max_pages:
        url = queue.popleft()
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read().decode("utf-8", "replace")
        parser = PageParser()
        parser.feed(body)
        words.update(t.lower() for t in parser.tokens)
        _debug_history.append((url, parser.title, parser.tokens, body))  # never trimmed
        for link in parser.links:
            absolute = urllib.parse.urljoin(url, link)
            if absolute not in seen:
                seen.add(absolute)
                queue.append(absolute)
        fetched += 1
        if snapshot_every and fetched % snapshot_every == 0:
            snapshot(f"pages-{fetched}")
    snapshot("end")
    return words


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base", required=True, help="site root, e.g. http://127.0.0.1:8000/")
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--snapshot-every", type=int, default=50)
    args = ap.parse_args()
    words = crawl(args.base, args.pages, args.snapshot_every)
    kept = sum(len(body) for _, _, _, body in _debug_history)
    print(f"crawled {len(_debug_history)} pages, {sum(words.values())} words, "
          f"{len(words)} distinct; debug history holds {kept} bytes of HTML")
    for word, count in words.most_common(5):
        print(f"  {word:12} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
