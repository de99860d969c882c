"""The htsget 1.3 service as a WSGI application: tickets, service-info, and the file endpoint.

    GET  /reads/service-info            GET  /variants/service-info
    GET  /reads/{id}?format=&class=&referenceName=&start=&end=&fields=&tags=&notags=
    POST /reads/{id}   {"format": ..., "regions": [{"referenceName": ..., "start": ..., "end": ...}]}
    GET  /variants/{id} (and POST)      VCF
    GET  /htsget/files/{name}           a served file with Range (data, index, .bai.json, reference)

Access control is not here: :mod:`sparkbam_py.serve.auth` wraps this app (and the coverage
app) and checks every request, including the signatures of ticket URLs.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

from ...version import __version__
from ...errors import SparkBamError
from ..files import file_response
from ..params import HttpError
from .bam_source import BamSource
from .cram_source import CramSource
from .errors import HtsgetError, Response, error_response, json_response
from .folders import Catalog, open_folder
from .request import MAX_POST_BYTES, parse_get, parse_post
from .plan import SourceCache
from .signing import UrlSigner
from .tickets import FILES_PREFIX, MAX_RANGE_BYTES, ticket
from .vcf_source import VcfSource

log = logging.getLogger(__name__)
SOURCES: Dict[str, Callable] = {"BAM": BamSource, "CRAM": CramSource, "VCF": VcfSource}
TICKET_PATH = re.compile(r"^/(?P<kind>reads|variants)/(?P<id>.+)$")
SERVED_FORMATS = {"reads": ["BAM", "CRAM"], "variants": ["VCF"]}


class HtsgetApp:
    """WSGI callable serving the BAM, CRAM and VCF files under ``folders``."""

    def __init__(self, folders: Sequence[str], signer: Optional[UrlSigner] = None,
                 public_url: Optional[str] = None, max_range: int = MAX_RANGE_BYTES):
        self.catalog = Catalog([open_folder(folder) for folder in folders])
        self.signer = signer or UrlSigner.from_secret(None)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.max_range = max_range
        self.sources = SourceCache()

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            status, headers, body = self.respond(method, environ)
        except HtsgetError as error:
            status, headers, body = error_response(error)
        except SparkBamError as error:  # a served file or index is broken: the server's fault, said so
            log.error("htsget %s: %s", environ.get("PATH_INFO"), error)
            status, headers, body = error_response(HtsgetError("InternalError", f"the served data is unreadable: "
                                                               f"{error.detail}", status=500))
        except Exception:  # a bug of ours: logged, answered as JSON
            log.exception("htsget %s", environ.get("PATH_INFO"))
            status, headers, body = error_response(HtsgetError("InternalError", "internal error (logged by the "
                                                               "server)", status=500))
        if method == "HEAD":
            body = []
        start_response(status, headers)
        return body

    def respond(self, method: str, environ) -> Response:
        path = request_path(environ)
        if path.startswith(FILES_PREFIX):
            return self.file(method, path[len(FILES_PREFIX):], environ)
        match = TICKET_PATH.match(path)
        if match is None:
            raise HtsgetError("NotFound", f"no such endpoint: {path[:200]}")
        kind, id_ = match.group("kind"), match.group("id")
        query = environ.get("QUERY_STRING", "")
        if id_ == "service-info":
            _allow(method, ("GET", "HEAD"))
            return json_response(service_info(kind), content_type="application/json")
        _allow(method, ("GET", "POST"))
        if method == "POST":
            request = parse_post(kind, id_, query, _body(environ))
        else:
            request = parse_get(kind, id_, query)
        served = self.catalog.resolve(kind, id_, request.format)
        plan = self.sources.get(served, SOURCES[served.format]).plan(request)
        log.info("htsget ticket %s/%s: %d regions, %d bytes", kind, id_,
                 len(request.regions or ()), plan.size)
        return json_response(ticket(plan, served, self.base_url(environ), self.signer, self.max_range))

    def file(self, method: str, relative: str, environ) -> Response:
        _allow(method, ("GET", "HEAD"))
        folder, located = self.catalog.locate_file(relative)
        signed = folder.signed_url(located, self.signer.lifetime)
        if signed is not None:  # the store serves it: send the client there ("must follow 3xx redirects")
            return "307 Temporary Redirect", [("Location", signed), ("Content-Length", "0")], []
        try:
            return file_response({relative: Path(located.url)}, relative, environ.get("HTTP_RANGE"), method == "GET")
        except HttpError as error:
            raise HtsgetError("InvalidRange" if error.status == 416 else "NotFound", error.message, error.headers,
                              status=error.status) from None

    def base_url(self, environ) -> str:
        if self.public_url:
            return self.public_url
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT')}"
        return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}"


def request_path(environ) -> str:
    """PATH_INFO as text: WSGI hands it over as latin-1-decoded bytes (PEP 3333)."""
    try:
        return (environ.get("PATH_INFO", "/") or "/").encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise HtsgetError("InvalidInput", "the path is not UTF-8") from None


def _allow(method: str, allowed) -> None:
    if method not in allowed:
        raise HtsgetError("InvalidInput", f"method {method} not allowed here; use {' or '.join(allowed)}",
                          [("Allow", ", ".join(allowed))], status=405)


def _body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HtsgetError("InvalidInput", "bad Content-Length") from None
    if length > MAX_POST_BYTES:
        raise HtsgetError("PayloadTooLarge", f"the body is {length} bytes; at most {MAX_POST_BYTES} are read")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def service_info(kind: str) -> dict:
    """GA4GH service-info with htsget's own object (htsget 1.3 "GA4GH service-info")."""
    return {
        "id": f"org.sparkbam.htsget.{kind}",
        "name": f"sparkbam_py htsget ({kind})",
        "description": "BAM, CRAM and VCF files served as byte ranges of the originals, found through their indexes",
        "type": {"group": "org.ga4gh", "artifact": "htsget", "version": "1.3.0"},
        "organization": {"name": "sparkbam_py", "url": "https://pypi.org/project/sparkbam_py/"},
        "version": __version__,
        "htsget": {"datatype": kind, "formats": SERVED_FORMATS[kind],
                   "fieldsParameterEffective": False, "tagsParametersEffective": False},
    }


def create_htsget_app(folders: Sequence[str], **options) -> HtsgetApp:
    """The htsget WSGI application over ``folders`` (local paths or object-store URLs)."""
    return HtsgetApp(folders, **options)
