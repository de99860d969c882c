"""``serve OUT [--bam BAM...]``: the coverage service under waitress.

waitress: a production WSGI server in pure Python (wheels everywhere, Windows included), with
a thread pool and no fork model, so one process maps the store once and every thread
shares it; it buffers slow clients itself, so no proxy is needed on a lab network.
"""
from __future__ import annotations

from .common import Command, Result

DEFAULT_THREADS = 8


class Serve(Command):
    name = "serve"
    help = "serve a coverage store (JSON, PNG, files with Range, a browser page) with waitress"

    def configure(self, parser):
        parser.add_argument("store", help="coverage store folder (from sparkbam coverage)")
        parser.add_argument("--bam", action="append", default=[], help="a BAM (indexed) whose reads to serve; repeatable")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
        parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="worker threads (default 8)")

    def run(self, args) -> Result:
        from waitress.server import create_server

        from ..serve.app import create_app

        app = create_app(args.store, args.bam)
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
