"""``serve [STORE] [--bam BAM...] [--htsget-dir DIR...]``: coverage and htsget under waitress.

Access control is on unless ``--no-auth`` (loopback only): ``--token-file``/``--secret-file``
(see :mod:`sparkbam_py.serve.tokens`); ``--cors-origin`` lets a page of that origin read.

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
    help = "serve a coverage store and/or htsget folders (tickets, files with Range, a page) with waitress"

    def configure(self, parser):
        parser.add_argument("store", nargs="?", help="coverage store folder or fsspec URL, e.g. s3://bucket/store "
                                                     "(from sparkbam coverage); optional with --htsget-dir")
        parser.add_argument("--bam", action="append", default=[], help="a BAM (indexed) whose reads to serve; repeatable")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
        parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="worker threads (default 8)")
        parser.add_argument("--cache-mb", type=positive_int, default=DEFAULT_CACHE_MB,
                            help=f"decoded chunks kept in memory, in MB (default {DEFAULT_CACHE_MB})")
        parser.add_argument("--storage-option", action="append", default=[], type=storage_option,
                            metavar="KEY=VALUE", help="fsspec option for a remote store (e.g. endpoint_url=...); "
                                                      "repeatable; s3fs also reads the AWS_* variables")
        parser.add_argument("--htsget-dir", action="append", default=[], metavar="DIR",
                            help="serve the indexed BAM/CRAM/VCF files under DIR (a folder or s3://...) over "
                                 "htsget; repeatable, searched in order")
        parser.add_argument("--token-file", help="bearer tokens: lines of 'TOKEN ID-GLOB...'")
        parser.add_argument("--secret-file", help="a secret (>= 32 bytes) checking tokens from 'sparkbam token' "
                                                  "and signing ticket URLs")
        parser.add_argument("--no-auth", action="store_true", help="no access control (refused unless the host "
                                                                   "is loopback)")
        parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                            help="let pages of ORIGIN (e.g. https://igv.example.org) read; repeatable")
        parser.add_argument("--public-url", help="the base URL clients reach this server at, for ticket URLs "
                                                 "(default: from each request's Host)")
        parser.add_argument("--url-lifetime", type=int, default=3600, help="seconds a ticket's URLs stay valid "
                                                                           "(default 3600)")

    def run(self, args) -> Result:
        from waitress.server import create_server

        from ..serve.router import build_service

        app = build_service(args.store, args.bam, args.htsget_dir, args.token_file, args.secret_file, args.no_auth,
                            args.host, args.cors_origin, args.public_url, args.url_lifetime,
                            dict(args.storage_option) or None, args.cache_mb << 20)
        served = " and ".join(([args.store] if args.store else []) + args.htsget_dir)
        server = create_server(app, host=args.host, port=args.port, threads=args.threads)
        host, port = server.effective_host, server.effective_port
        print(f"serving {served} at http://{host}:{port}/", flush=True)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        return Result([f"stopped serving {served}"], {"store": args.store, "htsget_dirs": args.htsget_dir,
                                                      "host": host, "port": port})


COMMAND = Serve()
