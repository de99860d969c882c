"""A loopback HTTP server for one directory, with Range requests and optional latency.

Tests read BAM files through it as ``http://`` URLs, and benchmarks add a fixed delay per
request to stand in for a remote store (e.g. 20 ms): the request counter then shows how
many round trips the page cache saved.  Not for serving anything beyond localhost.

    with RangeHTTPServer(directory, delay=0.02) as server:
        url = server.url_for("x.bam")
        ...
        server.request_count
"""
from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import quote, unquote, urlsplit

from ..serve.range_header import parse_range

class _RangeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    # Small responses would otherwise wait ~40 ms for the client's delayed ACK, swamping
    # the fixed per-request delay that latency benchmarks configure.
    disable_nagle_algorithm = True
    server: "RangeHTTPServer"

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # idle keep-alive connections end after this
        super().setup()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: tests and benchmarks make thousands of requests

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        self.server.note_request()
        file = self.server.resolve(self.path)
        if file is None:
            self._send_status(404)
            return
        size = file.stat().st_size
        wanted = None if self.server.ignore_range else parse_range(self.headers.get("Range"), size)
        if wanted == (size, size):
            self._send_status(416, {"Content-Range": f"bytes */{size}"})
            return
        start, end = wanted or (0, size)
        headers = {"Accept-Ranges": "none" if self.server.ignore_range else "bytes"}
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        self._send_head(206 if wanted else 200, end - start, headers)
        if send_body:
            with open(file, "rb") as handle:
                handle.seek(start)
                self.wfile.write(handle.read(end - start))

    def _send_status(self, status: int, headers: Optional[dict] = None) -> None:
        self._send_head(status, 0, headers or {})

    def _send_head(self, status: int, length: int, headers: dict) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Type", "application/octet-stream")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()


class BackgroundServer(ThreadingHTTPServer):
    """A threading HTTP server on loopback that serves from a daemon thread between
    ``start()`` and ``stop()`` (or as a context manager)."""

    _thread: Optional[threading.Thread] = None

    def start(self):
        # A short poll interval so stop() returns promptly (the default waits up to 0.5 s).
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class RangeHTTPServer(BackgroundServer):
    """Serves the files under ``directory`` on ``127.0.0.1`` at a free port, in a thread.

    ``delay`` seconds are slept before answering each request; ``ignore_range`` makes it
    answer every GET with the whole file, like servers without Range support.
    """

    daemon_threads = True  # a client still holding a keep-alive connection must not block stop()

    def __init__(self, directory, delay: float = 0.0, ignore_range: bool = False,
                 idle_timeout: float = 30.0):
        self.directory = Path(directory).resolve()
        self.delay = delay
        self.ignore_range = ignore_range
        self.idle_timeout = idle_timeout
        self._count = 0
        self._count_lock = threading.Lock()  # handler threads run concurrently
        self._thread: Optional[threading.Thread] = None
        super().__init__(("127.0.0.1", 0), _RangeHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def request_count(self) -> int:
        with self._count_lock:
            return self._count

    def note_request(self) -> None:
        with self._count_lock:
            self._count += 1
        if self.delay:
            time.sleep(self.delay)

    def url_for(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{quote(str(name))}"

    def resolve(self, request_path: str) -> Optional[Path]:
        """The served file for a request path; None if missing or outside the directory."""
        relative = unquote(urlsplit(request_path).path).lstrip("/")
        candidate = (self.directory / relative).resolve()
        if self.directory not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def handle_error(self, request, client_address) -> None:
        pass  # quiet: clients hanging up mid-response are normal here, and nothing to fix


def main() -> None:
    """``python -m sparkbam_py.testing.http_server DIR [DELAY]``: serve until interrupted."""
    import sys

    directory = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    with RangeHTTPServer(directory, delay=delay) as server:
        print(f"serving {server.directory} at {server.url_for('')} (delay {delay}s)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
