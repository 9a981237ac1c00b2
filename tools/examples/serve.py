#!/usr/bin/env python3
"""Serves a directory over HTTP on 127.0.0.1 on a free port (http.server, stdlib only), writes
the port number to --port-file once listening, and runs until terminated."""
import argparse
import functools
import http.server
import pathlib


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the demo's output readable
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("directory", type=pathlib.Path)
    ap.add_argument("--port-file", type=pathlib.Path, required=True)
    args = ap.parse_args()
    handler = functools.partial(QuietHandler, directory=str(args.directory))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(server.server_address[1]))
        tmp.rename(args.port_file)
        server.serve_forever()


if __name__ == "__main__":
    main()
