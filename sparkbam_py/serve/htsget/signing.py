"""Signed URLs for the data a ticket points at: the path and an expiry, under an HMAC-SHA256.

htsget 1.3 "HTTPS data block URLs" (6): the URL and its headers must carry whatever
credential the data endpoint needs, and the client must not send the API's bearer token
there.  So each ticket's data URLs carry ``?expires=T&signature=S``, valid for that path
until T; a client may split the Range freely ("HTTPS data block URLs" (10)).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import time
from typing import Mapping, Optional
from urllib.parse import urlencode

DEFAULT_LIFETIME = 3600
# Domain separation: a key derived from the server secret, never the secret itself.
_PURPOSE = b"sparkbam-htsget-data-urls-v1"


class UrlSigner:
    def __init__(self, key: bytes, lifetime: int = DEFAULT_LIFETIME):
        self.key = key
        self.lifetime = lifetime

    @classmethod
    def from_secret(cls, secret: Optional[bytes], lifetime: int = DEFAULT_LIFETIME) -> "UrlSigner":
        """Keyed by the server secret (URLs outlive a restart), else by a key of this process only."""
        key = hmac.new(secret, _PURPOSE, hashlib.sha256).digest() if secret else os.urandom(32)
        return cls(key, lifetime)

    def _signature(self, path: str, expires: int) -> str:
        return hmac.new(self.key, f"{path}\n{expires}".encode("utf-8"), hashlib.sha256).hexdigest()

    def query(self, path: str, now: Optional[float] = None) -> str:
        """The query string that makes ``path`` readable for ``lifetime`` seconds."""
        expires = int(now if now is not None else time.time()) + self.lifetime
        return urlencode({"expires": expires, "signature": self._signature(path, expires)})

    def verify(self, path: str, values: Mapping[str, str], now: Optional[float] = None) -> Optional[str]:
        """None when ``values`` (the query) signs ``path`` and has not expired; else why not."""
        expires, signature = values.get("expires", ""), values.get("signature", "")
        if not expires.isdigit() or len(expires) > 12 or not signature:
            return "no valid signature"
        if not hmac.compare_digest(self._signature(path, int(expires)), signature):
            return "the signature does not match"
        if int(expires) < (now if now is not None else time.time()):
            return "the signed URL has expired"
        return None
