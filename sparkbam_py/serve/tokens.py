"""Who a bearer token is and which IDs it may read: a token file, and tokens signed by the server.

Token file (``--token-file``): one token per line, then the ID globs it may read::

    # token                              IDs (fnmatch globs: * ? [..]; * crosses /)
    3f9c0d5e4b7a8c1d2e6f0a9b8c7d6e5f     runs/*  cohort1/NA128??
    b71e2c4a9d0f3e5a7c6b8d1e2f3a4b5c     *

Signed tokens (``--secret-file``): JSON Web Tokens (RFC 7519) signed with HS256 under the
server secret, with an ``exp`` (required) and ``ids`` (a list of globs), minted by
``sparkbam token``.  Any JWT library can mint them, so an existing login service can too.
Tokens are compared by their SHA-256, never logged; a refusal says why in words only.
"""
from __future__ import annotations

import fnmatch
import hashlib
import time
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from ..errors import ConfigError

# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32
MIN_TOKEN_CHARACTERS = 16
JWT_ALGORITHM = "HS256"
MAX_TOKEN_CHARACTERS = 8192


@dataclass(frozen=True)
class Grant:
    """A verified token: who (for the log) and the ID globs it may read."""

    subject: str
    globs: Tuple[str, ...]

    def allows(self, resource: str) -> bool:
        return any(fnmatch.fnmatchcase(resource, glob) for glob in self.globs)


class TokenRefused(Exception):
    """The token is missing, malformed, unknown, forged or expired: a 401, with the reason."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def read_token_file(path: str) -> Dict[str, Grant]:
    """``{sha256(token): grant}`` from a token file; ConfigError (with the line) for a bad line."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise ConfigError(f"cannot read the token file: {error.strerror}", path) from None
    grants: Dict[str, Grant] = {}
    for number, line in enumerate(lines, 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        token, globs = fields[0], tuple(fields[1:])
        if len(token) < MIN_TOKEN_CHARACTERS or not globs:
            raise ConfigError(f"line {number}: expected a token of at least {MIN_TOKEN_CHARACTERS} characters "
                              "and one or more ID globs", path)
        if _digest(token) in grants:
            raise ConfigError(f"line {number}: this token is listed twice", path)
        grants[_digest(token)] = Grant(f"token-file:{path}:{number}", globs)
    if not grants:
        raise ConfigError("the token file lists no token", path)
    return grants


def read_secret(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            secret = handle.read().strip()
    except OSError as error:
        raise ConfigError(f"cannot read the secret file: {error.strerror}", path) from None
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"the secret must be at least {MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)", path)
    try:
        import jwt  # noqa: F401 - checked now, not at the first request
    except ImportError:
        raise ConfigError("signed tokens need PyJWT: pip install 'sparkbam_py[serve]'", path) from None
    return secret


class TokenVerifier:
    """Both kinds of token; ``verify`` returns the :class:`Grant` or raises :class:`TokenRefused`."""

    def __init__(self, grants: Optional[Dict[str, Grant]] = None, secret: Optional[bytes] = None):
        self.grants = grants or {}
        self.secret = secret

    @property
    def configured(self) -> bool:
        return bool(self.grants) or self.secret is not None

    def verify(self, token: str) -> Grant:
        if not token or len(token) > MAX_TOKEN_CHARACTERS:
            raise TokenRefused("the token is empty or too long")
        grant = self.grants.get(_digest(token))
        if grant is not None:
            return grant
        if self.secret is not None and token.count(".") == 2:
            return self._signed(token)
        raise TokenRefused("unknown token")

    def _signed(self, token: str) -> Grant:
        import jwt

        try:
            claims = jwt.decode(token, self.secret, algorithms=[JWT_ALGORITHM], options={"require": ["exp"]})
        except jwt.ExpiredSignatureError:
            raise TokenRefused("the signed token has expired") from None
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"the signed token is invalid ({type(error).__name__})") from None
        ids = claims.get("ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(glob, str) and glob for glob in ids):
            raise TokenRefused("the signed token lists no IDs")
        return Grant(f"signed:{claims.get('sub', '?')}", tuple(ids))


def mint_token(secret: bytes, ids: Sequence[str], seconds: int, subject: Optional[str] = None,
               now: Optional[float] = None) -> str:
    """A signed token for ``ids`` valid ``seconds`` from now (what ``sparkbam token`` prints)."""
    import jwt

    issued = int(now if now is not None else time.time())
    claims = {"ids": list(ids), "iat": issued, "exp": issued + seconds}
    if subject:
        claims["sub"] = subject
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)
