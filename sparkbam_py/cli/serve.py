"""``serve OUT [--bam BAM...]``: the coverage service under waitress.

waitress: a production WSGI server in pure Python (wheels everywhere, Windows included), with
a thread pool and no fork model, so one process maps the store once and every thread
shares it; it buffers slow clients itself, so no proxy is needed on a lab network.
"""
from __future__ import annotations

from .common import Command, Result

DEFAULT_THREADS = 8
DEFAULT_CACHE_MB = 256


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def storage_option(text: str):
    """``KEY=VALUE``; a VALUE that reads as JSON (a number, true, an object) is taken as that."""
    import json

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


class Serve(Command):
    name = "serve"
    help = "serve a coverage store (JSON, PNG, files with Range, a browser page) with waitress"

    def configure(self, parser):
        parser.add_argument("store", help="coverage store folder or fsspec URL, e.g. s3://bucket/store "
                                          "(from sparkbam coverage)")
        parser.add_argument("--bam", action="append", default=[], help="a BAM (indexed) whose reads to serve; repeatable")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
        parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="worker threads (default 8)")
        parser.add_argument("--cache-mb", type=positive_int, default=DEFAULT_CACHE_MB,
                            help=f"decoded chunks kept in memory, in MB (default {DEFAULT_CACHE_MB})")
        parser.add_argument("--storage-option", action="append", default=[], type=storage_option,
                            metavar="KEY=VALUE", help="fsspec option for a remote store (e.g. endpoint_url=...); "
                                                      "repeatable; s3fs also reads the AWS_* variables")

    def run(self, args) -> Result:
        from waitress.server import create_server

        from ..serve.app import create_app

        app = create_app(args.store, args.bam, dict(args.storage_option) or None, args.cache_mb << 20)
        server = create_server(app, host=args.host, port=args.port, threads=args.threads)
        host, port = server.effective_host, server.effective_port
        print(f"serving {args.store} at http://{host}:{port}/", flush=True)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        return Result([f"stopped serving {args.store}"], {"store": args.store, "host": host, "port": port})


COMMAND = Serve()
