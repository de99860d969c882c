"""A loopback HTTP proxy that injects the faults remote stores really show, for tests and
benchmarks of the retry path.  Not for serving anything beyond localhost.

It forwards each request to an upstream server (the :mod:`.http_server` Range server, or an
S3-protocol server such as moto) and, with a seeded random draw per faultable request,
answers it badly instead:

- ``drop``: closes the connection without answering;
- ``500`` / ``503``: an error status with a short message;
- ``cut``: the upstream's status and headers, then half the body, then closes (the
  Content-Length promises more than arrives);
- ``short``: a complete response, but of half the body, with a Content-Length that says so
  (the Content-Range still names the whole range, as a lying cache might);
- ``stall``: waits ``stall_seconds`` without answering, then closes.

Only byte reads are faulted (requests with a ``Range`` header, and ``HEAD``s, which report
sizes); listings and writes pass through, so a test's set-up never fails.

    with FaultProxy(upstream_url, {"drop": 0.1, "503": 0.1}, seed=7) as proxy:
        url = proxy.url + "/x.bam"
        ...
        proxy.counts  # {"requests": 120, "forwarded": 97, "drop": 12, "503": 11}
"""
from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Dict, Mapping, Optional
from urllib.parse import urlsplit

from .http_server import BackgroundServer

FAULT_KINDS = ("drop", "500", "503", "cut", "short", "stall")
# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, not forwarded.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-connection", "proxy-authenticate", "proxy-authorization"}
UPSTREAM_TIMEOUT = 30.0


class _FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: "FaultProxy"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self._request_body()
        faultable = self.command == "HEAD" or "Range" in self.headers
        fault = self.server.draw() if faultable else None
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "stall":
            time.sleep(self.server.stall_seconds)
            self.close_connection = True
            return
        if fault in ("500", "503"):
            self._send_error_status(int(fault))
            return
        status, headers, payload = self.server.forward(self.command, self.path, self.headers, body)
        if fault in ("cut", "short") and self.command != "HEAD" and len(payload) > 1:
            self._send_partial(status, headers, payload, declared_full=(fault == "cut"))
            return
        self._send(status, headers, payload)

    def _request_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_error_status(self, status: int) -> None:
        message = f"injected fault: HTTP {status}\n".encode()
        self._send(status, [("Content-Type", "text/plain")], message)

    def _send(self, status: int, headers, payload: bytes, length: Optional[int] = None) -> None:
        self.send_response(status)
        # A HEAD answer's Content-Length is the upstream's: the size of what a GET would send.
        keep_length = self.command == "HEAD"
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and (keep_length or name.lower() != "content-length"):
                self.send_header(name, value)
        if not keep_length:
            self.send_header("Content-Length", str(len(payload) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_partial(self, status: int, headers, payload: bytes, declared_full: bool) -> None:
        half = payload[: len(payload) // 2]
        self._send(status, headers, half, length=len(payload) if declared_full else len(half))
        if declared_full:
            self.wfile.flush()
            self.close_connection = True


class FaultProxy(BackgroundServer):
    """Forwards to ``upstream`` (``http://host:port``) on a free loopback port, injecting
    faults at ``rates`` (kind -> probability, summing to at most 1), seeded by ``seed``.

    ``counts`` tells how many requests came, how many were forwarded untouched, and how many
    got each fault; ``set_rates`` changes the mix while running.
    """

    daemon_threads = True

    def __init__(self, upstream: str, rates: Optional[Mapping[str, float]] = None, seed: int = 0,
                 stall_seconds: float = 5.0):
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port or 80
        self.stall_seconds = stall_seconds
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._counts: Counter = Counter()
        self._rates: Dict[str, float] = {}
        self.set_rates(rates or {})
        super().__init__(("127.0.0.1", 0), _FaultHandler)

    def set_rates(self, rates: Mapping[str, float]) -> None:
        unknown = set(rates) - set(FAULT_KINDS)
        if unknown or sum(rates.values()) > 1 or any(rate < 0 for rate in rates.values()):
            raise ValueError(f"rates must be probabilities of {FAULT_KINDS} summing to at most 1, got {rates}")
        with self._lock:
            self._rates = dict(rates)

    def draw(self) -> Optional[str]:
        """The fault for one faultable request (None: forward it), counted."""
        with self._lock:
            self._counts["requests"] += 1
            roll, fault = self._random.random(), None
            for kind, rate in self._rates.items():
                if roll < rate:
                    fault = kind
                    break
                roll -= rate
            self._counts[fault or "forwarded"] += 1
            return fault

    @property
    def counts(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def forward(self, method: str, target: str, headers, body: bytes):
        """``(status, header pairs, body)`` of the upstream's answer to the same request."""
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=UPSTREAM_TIMEOUT)
        try:
            sent = {name: value for name, value in headers.items() if name.lower() not in _HOP_BY_HOP}
            conn.request(method, target, body=body or None, headers=sent)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up on a stalled or cut answer are the point here
