"""Access control for everything served, as WSGI middleware: bearer tokens, signed data URLs, CORS.

Every request is classified by what it reads (:func:`resource_of`): nothing (service-info,
the coverage page's own HTML and script), an htsget ID (tickets, and files by the ID they
belong to), or the coverage service (``@coverage``).  A request that reads something needs

* a bearer token (``Authorization: Bearer T``, or ``?access_token=T`` for clients that cannot
  set headers, RFC 6750 §2.3) whose globs match the resource: else 401 without or with a bad
  token, 403 when the token may not read it; or
* for ``/htsget/files/...``, the signature a ticket put on the URL (:mod:`.htsget.signing`).

Refusals are the htsget error JSON, logged with method, path, client and reason (never the
token or the query string), and never reach the app.  ``open_access`` (``--no-auth``) skips
the checks for clients on this machine (loopback addresses) and refuses everyone else; CORS
still applies.  Credentials are stripped from the query before the app sees it.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Iterable, Optional, Sequence
from urllib.parse import parse_qsl, urlencode

from ..errors import ConfigError
from .htsget.app import request_path
from .htsget.errors import HtsgetError, error_response
from .htsget.folders import id_of_file
from .htsget.signing import UrlSigner
from .htsget.tickets import FILES_PREFIX
from .tokens import Grant, TokenRefused, TokenVerifier

log = logging.getLogger(__name__)
COVERAGE = "@coverage"
PUBLIC_PATHS = ("/", "/reads/service-info", "/variants/service-info")
PUBLIC_PREFIXES = ("/static/",)
CREDENTIAL_PARAMETERS = ("access_token", "expires", "signature")
# htsget 1.3 "CORS": preflights are cached for the equivalent of 30 days.
PREFLIGHT_MAX_AGE = str(30 * 24 * 3600)
CORS_METHODS = ("GET", "HEAD", "POST")
EXPOSED_HEADERS = "Content-Length, Content-Range, Accept-Ranges, Content-Type"


def resource_of(path: str) -> Optional[str]:
    """What a request path reads: None (nothing), an htsget ID, or :data:`COVERAGE`."""
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    for kind in ("/reads/", "/variants/"):
        if path.startswith(kind):
            return path[len(kind):]
    if path.startswith(FILES_PREFIX):
        return id_of_file(path[len(FILES_PREFIX):])
    return COVERAGE


class AccessControl:
    """``AccessControl(app, verifier, signer)``: ``app`` only sees requests allowed to read."""

    def __init__(self, app, verifier: TokenVerifier, signer: UrlSigner, open_access: bool = False,
                 cors_origins: Sequence[str] = ()):
        self.app = app
        self.verifier = verifier
        self.signer = signer
        self.open_access = open_access
        self.cors_origins = frozenset(cors_origins)
        self.refused = 0

    def __call__(self, environ, start_response):
        cors = self._cors_headers(environ)
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if method == "OPTIONS":
                return self._preflight(environ, start_response, cors)
            path = request_path(environ)
            params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            self._check(environ, method, path, dict(params))
        except HtsgetError as error:
            return self._refuse(environ, start_response, error, cors)
        environ = dict(environ, QUERY_STRING=urlencode(
            [(name, value) for name, value in params if name not in CREDENTIAL_PARAMETERS]))
        environ.pop("HTTP_AUTHORIZATION", None)

        def with_cors(status, headers, exc_info=None):
            if status.startswith("4"):  # the app refused (no such ID, bad request...): logged too
                self.refused += 1
                log.warning("refused %s %s from %s: %s", method, _loggable_path(environ),
                            environ.get("REMOTE_ADDR", "?"), status)
            if exc_info is not None:
                return start_response(status, list(headers) + cors, exc_info)
            return start_response(status, list(headers) + cors)

        return self.app(environ, with_cors)

    def _check(self, environ, method: str, path: str, params: dict) -> Optional[Grant]:
        resource = resource_of(path)
        if resource is None:
            return None
        if self.open_access:
            if not is_loopback(environ.get("REMOTE_ADDR", "")):
                raise HtsgetError("PermissionDenied", "this server runs without access control and answers "
                                                      "clients on this machine only")
            return None
        token = self._token(environ, params)
        if token is None and path.startswith(FILES_PREFIX) and "signature" in params:
            problem = self.signer.verify(path[len(FILES_PREFIX):], params)
            if problem is None:
                return None
            raise HtsgetError("InvalidAuthentication", f"the data URL is not valid: {problem}",
                              [("WWW-Authenticate", 'Bearer error="invalid_token"')])
        if token is None:
            raise HtsgetError("InvalidAuthentication", "this resource needs a bearer token",
                              [("WWW-Authenticate", 'Bearer realm="sparkbam"')])
        try:
            grant = self.verifier.verify(token)
        except TokenRefused as refused:
            raise HtsgetError("InvalidAuthentication", f"the bearer token is not valid: {refused}",
                              [("WWW-Authenticate", 'Bearer error="invalid_token"')]) from None
        if not grant.allows(resource):
            raise HtsgetError("PermissionDenied", "the token does not allow reading this resource")
        environ["sparkbam.subject"] = grant.subject
        return grant

    @staticmethod
    def _token(environ, params: dict) -> Optional[str]:
        header = environ.get("HTTP_AUTHORIZATION")
        if header is not None and "access_token" in params:  # RFC 6750 §2: one method per request
            raise HtsgetError("InvalidInput", "give the token in the Authorization header or the query, not both")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise HtsgetError("InvalidAuthentication", "the Authorization header must be 'Bearer TOKEN'",
                                  [("WWW-Authenticate", 'Bearer error="invalid_request"')])
            return token.strip()
        return params.get("access_token")

    def _cors_headers(self, environ) -> list:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or not ({origin, "*"} & self.cors_origins):
            return []
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                ("Access-Control-Expose-Headers", EXPOSED_HEADERS)]

    def _preflight(self, environ, start_response, cors) -> Iterable[bytes]:
        wanted = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", "")
        if not cors or wanted not in CORS_METHODS:
            raise HtsgetError("PermissionDenied", "cross-origin request not allowed from this origin or method",
                              status=403)
        headers = cors + [("Access-Control-Allow-Methods", ", ".join(CORS_METHODS)),
                          ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE), ("Content-Length", "0")]
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        if requested:  # htsget 1.3 "CORS": propagated
            headers.append(("Access-Control-Allow-Headers", requested))
        start_response("204 No Content", headers)
        return []

    def _refuse(self, environ, start_response, error: HtsgetError, cors) -> Iterable[bytes]:
        self.refused += 1
        log.warning("refused %s %s from %s: %d %s (%s)", environ.get("REQUEST_METHOD"),
                    _loggable_path(environ), environ.get("REMOTE_ADDR", "?"), error.status, error.error, error.message)
        status, headers, body = error_response(error)
        start_response(status, headers + cors)
        return body


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), bracketed or not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _loggable_path(environ) -> str:
    """The path only (the query may hold a token or a signature), cut short."""
    return repr(environ.get("PATH_INFO", "")[:200])


def protect(app, verifier: TokenVerifier, signer: UrlSigner, open_access: bool = False,
            cors_origins: Sequence[str] = ()) -> AccessControl:
    """``app`` behind :class:`AccessControl`; refuses to run unprotected by accident."""
    if not open_access and not verifier.configured:
        raise ConfigError("no token source: give --token-file and/or --secret-file, or --no-auth on loopback")
    return AccessControl(app, verifier, signer, open_access, cors_origins)
