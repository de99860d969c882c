"""The coverage service as a WSGI application (PEP 3333): JSON, PNG, files, and a page.

``create_app(store, bams)`` returns the callable (the store a local folder or an fsspec URL); :mod:`.wsgi` builds one from environment
variables for ``waitress-serve``/gunicorn, and ``sparkbam serve`` runs it under waitress.
Every parameter is validated (:mod:`.params`) and every error answered as JSON with a
message; the store is opened once per process and shared by all threads.
"""
from __future__ import annotations

import json
import logging
import re
from importlib import resources
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..coverage.chunk_source import DEFAULT_CACHE_BYTES
from ..coverage.store import CoverageStore, UnknownContigError
from ..errors import ConfigError, SparkBamError
from .files import file_response, served_files
from .params import (DEFAULT_LIMIT, MAX_BINS, MAX_HEIGHT, MAX_LIMIT, MAX_READS_WINDOW, MAX_WIDTH, MIN_HEIGHT,
                     MIN_WIDTH, HttpError, Query)
from .png import render_png
from .reads import contig_length, open_served_bams, reads_in_window

log = logging.getLogger(__name__)
STATUS_TEXT = {200: "200 OK", 400: "400 Bad Request", 404: "404 Not Found", 405: "405 Method Not Allowed",
               416: "416 Range Not Satisfiable", 500: "500 Internal Server Error"}
STATIC_FILES = {"/": ("index.html", "text/html; charset=utf-8"),
                "/static/coverage.js": ("coverage.js", "text/javascript; charset=utf-8")}
Response = Tuple[str, List[Tuple[str, str]], List[bytes]]


def json_response(data, status: int = 200, headers: Sequence[Tuple[str, str]] = ()) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return (STATUS_TEXT[status], [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                  *headers], [body])


class CoverageApp:
    """WSGI callable serving one coverage store and, optionally, the BAMs it came from."""

    def __init__(self, store_path: str, bams: Sequence[str] = (), storage_options: Optional[dict] = None,
                 cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.store = CoverageStore(store_path, storage_options, cache_bytes)
        self.bams = open_served_bams(bams)
        self.files = served_files(store_path, bams)
        self.strands: Dict[str, str] = dict(self.store.manifest.get("strands", {}))
        self.static = {route: (resources.files(__package__).joinpath("static", name).read_bytes(), kind)
                       for route, (name, kind) in STATIC_FILES.items()}
        self.routes: List[Tuple[re.Pattern, Callable]] = [
            (re.compile(r"^/api/contigs$"), self.contigs),
            (re.compile(r"^/api/coverage/(?P<contig>[^/]+)$"), self.coverage),
            (re.compile(r"^/api/reads/(?P<contig>[^/]+)$"), self.reads),
        ]

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            status, headers, body = self.respond(method, environ)
        except HttpError as error:
            status, headers, body = json_response({"error": error.message}, error.status, error.headers)
        except (UnknownContigError, ConfigError) as error:
            status, headers, body = json_response({"error": str(error)},
                                                  404 if isinstance(error, UnknownContigError) else 400)
        except SparkBamError as error:  # the served data itself is bad: say so, as JSON
            log.exception("serving %s", environ.get("PATH_INFO"))
            status, headers, body = json_response({"error": str(error)}, 500)
        except Exception:  # a bug of ours: logged, and still answered as JSON
            log.exception("serving %s", environ.get("PATH_INFO"))
            status, headers, body = json_response({"error": "internal error (logged by the server)"}, 500)
        if method == "HEAD":
            body = []
        start_response(status, headers)
        return body

    def respond(self, method: str, environ) -> Response:
        path = _request_path(environ)
        if method not in ("GET", "HEAD"):
            raise HttpError(405, f"method {method} not allowed; use GET or HEAD")
        if path.startswith("/files/"):
            name = path[len("/files/"):]
            return file_response(self.files, name, environ.get("HTTP_RANGE"), method == "GET")
        if path in self.static:
            Query(environ.get("QUERY_STRING", ""), [])
            body, kind = self.static[path]
            return "200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))], [body]
        for pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                return handler(Query(environ.get("QUERY_STRING", ""), handler.parameters), **match.groupdict())
        raise HttpError(404, f"no such endpoint: {path}")

    def contigs(self, query: Query) -> Response:
        return json_response({"contigs": self.store.contigs, "tracks": self.store.tracks, "strands": self.strands,
                              "bams": [bam.name for bam in self.bams], "files": sorted(self.files)})

    contigs.parameters = []

    def coverage(self, query: Query, contig: str) -> Response:
        length = self.store.length(contig)
        start, end = query.range_in(length)
        tracks = self._tracks(query)
        names = [self.store.tracks[i] for i in tracks]
        if query.has("width") or query.has("height"):
            if query.has("bins"):
                raise HttpError(400, "give either bins or width and height, not both")
            width = query.integer("width", low=MIN_WIDTH, high=MAX_WIDTH)
            height = query.integer("height", low=MIN_HEIGHT, high=MAX_HEIGHT)
            means = self.store.binned(contig, start, end, min(width, end - start), tracks)
            png = render_png(means, names, self.strands, start, end, width, height)
            return "200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(png)))], [png]
        result = {"contig": contig, "start": start, "end": end}
        if query.has("bins"):
            bins = query.integer("bins", low=1, high=min(MAX_BINS, end - start))
            means = self.store.binned(contig, start, end, bins, tracks)
            result["bins"] = bins
            values = {name: means[:, i].tolist() for i, name in enumerate(names)}
        else:
            means = self.store.mean(contig, start, end, tracks)
            values = {name: float(means[i]) for i, name in enumerate(names)}
        result["tracks"] = values
        for strand in ("+", "-"):
            grouped = [values[name] for name in names if self.strands.get(name) == strand]
            if grouped:
                result[strand] = grouped
        return json_response(result)

    coverage.parameters = ["start", "end", "track", "bins", "width", "height"]

    def _tracks(self, query: Query) -> List[int]:
        track = query.text("track")
        if track is None:
            return list(range(len(self.store.tracks)))
        if track in self.store.tracks:
            return [self.store.tracks.index(track)]
        if track.isdigit() and int(track) < len(self.store.tracks):
            return [int(track)]
        raise HttpError(400, f"unknown track {track!r}; tracks: {', '.join(self.store.tracks)}")

    def reads(self, query: Query, contig: str) -> Response:
        if not self.bams:
            raise HttpError(404, "no BAM is served (start the service with --bam)")
        start, end = query.range_in(contig_length(self.bams, contig), MAX_READS_WINDOW)
        limit = query.integer("limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        return json_response({"contig": contig, "start": start, "end": end, "limit": limit,
                              **reads_in_window(self.bams, contig, start, end, limit)})

    reads.parameters = ["start", "end", "limit"]


def _request_path(environ) -> str:
    """PATH_INFO as text: WSGI hands it over as latin-1-decoded bytes (PEP 3333)."""
    raw = environ.get("PATH_INFO", "/") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise HttpError(400, "the path is not UTF-8") from None


def create_app(store_path: str, bams: Optional[Sequence[str]] = None, storage_options: Optional[dict] = None,
               cache_bytes: int = DEFAULT_CACHE_BYTES) -> CoverageApp:
    """The WSGI application for the store at ``store_path`` (a local folder or fsspec URL such
    as ``s3://bucket/store``: chunks are read by byte range) and ``bams``; ``cache_bytes``
    bounds the decoded chunks the process keeps."""
    return CoverageApp(store_path, list(bams or []), storage_options, cache_bytes)
