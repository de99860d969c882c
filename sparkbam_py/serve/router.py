"""The whole service: the coverage app and the htsget app side by side, behind access control.

Paths under ``/reads/``, ``/variants/`` and ``/htsget/`` go to htsget; everything else to
the coverage app.  Either may be absent (a 404 in the spec's JSON then says which to start).
:func:`build_service` is what ``sparkbam serve`` and :mod:`.wsgi` run.
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..errors import ConfigError
from .auth import is_loopback, protect
from .htsget.app import HtsgetApp
from .htsget.errors import HtsgetError, error_response
from .htsget.signing import DEFAULT_LIFETIME, UrlSigner
from .tokens import TokenVerifier, read_secret, read_token_file

HTSGET_PREFIXES = ("/reads/", "/variants/", "/htsget/")


class Router:
    def __init__(self, htsget=None, coverage=None):
        self.htsget = htsget
        self.coverage = coverage

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "/") or "/"
        app, missing = ((self.htsget, "no htsget folder is served (start with --htsget-dir)")
                        if path.startswith(HTSGET_PREFIXES) else
                        (self.coverage, "no coverage store is served (start with a STORE)"))
        if app is None:
            status, headers, body = error_response(HtsgetError("NotFound", missing))
            start_response(status, headers)
            return body
        return app(environ, start_response)


def build_service(store: Optional[str] = None, bams: Sequence[str] = (), htsget_dirs: Sequence[str] = (),
                  token_file: Optional[str] = None, secret_file: Optional[str] = None,
                  no_auth: bool = False, host: str = "127.0.0.1", cors_origins: Sequence[str] = (),
                  public_url: Optional[str] = None, url_lifetime: int = DEFAULT_LIFETIME,
                  storage_options: Optional[dict] = None, cache_bytes: Optional[int] = None):
    """The WSGI application ``sparkbam serve`` runs: a store and/or htsget folders, protected.

    ``storage_options`` (fsspec) and ``cache_bytes`` (decoded chunks kept) are the store's."""
    if store is None and not htsget_dirs:
        raise ConfigError("nothing to serve: give a coverage STORE and/or --htsget-dir")
    if no_auth and (token_file or secret_file):
        raise ConfigError("--no-auth turns tokens off: drop it, or drop --token-file/--secret-file")
    if no_auth and not is_loopback(host):
        raise ConfigError(f"--no-auth is refused on {host}: anyone reaching the port would read everything; "
                          "listen on 127.0.0.1 or give --token-file/--secret-file")
    secret = read_secret(secret_file) if secret_file else None
    verifier = TokenVerifier(read_token_file(token_file) if token_file else None, secret)
    signer = UrlSigner.from_secret(secret, url_lifetime)
    htsget = HtsgetApp(htsget_dirs, signer, public_url) if htsget_dirs else None
    coverage = None
    if store is not None:
        from .app import create_app

        coverage = create_app(store, bams, storage_options, **({} if cache_bytes is None else
                                                               {"cache_bytes": cache_bytes}))
    return protect(Router(htsget, coverage), verifier, signer, no_auth, cors_origins)
