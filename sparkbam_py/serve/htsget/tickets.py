"""A :class:`~.plan.Plan` as the ticket JSON (htsget 1.3 "Response JSON fields").

Ranges become URLs with a ``Range`` header: the app's own file endpoint signed for the
ticket's lifetime, or, for a folder on an object store, a URL the store signed.  Inline
pieces become base64 ``data:`` URIs.  Every URL has a ``class``, so a client can reuse a
header it already holds.
"""
from __future__ import annotations

import base64
from typing import Dict, List
from urllib.parse import quote

from .folders import ServedFile
from .pieces import merged
from .plan import Plan
from .signing import UrlSigner

FILES_PREFIX = "/htsget/files/"
# "Reliability & performance considerations": data blocks should not exceed ~1 GB.
MAX_RANGE_BYTES = 1 << 30
MEDIA_TYPES = {"BAM": "application/vnd.ga4gh.bam", "CRAM": "application/vnd.ga4gh.cram",
               "VCF": "application/vnd.ga4gh.vcf"}


def file_path(relative: str) -> str:
    """The app's path of a served file (percent-encoded, "HTTPS data block URLs" (1))."""
    return FILES_PREFIX + quote(relative, safe="/")


def ticket(plan: Plan, served: ServedFile, base_url: str, signer: UrlSigner,
           max_range: int = MAX_RANGE_BYTES) -> Dict[str, object]:
    pieces = merged(plan.header + plan.body + plan.eof, max_range)
    data_url = _data_url(served, base_url, signer) if any(p.inline is None for p in pieces) else ""
    media = MEDIA_TYPES[served.format]
    urls: List[Dict[str, object]] = []
    for piece in pieces:
        if piece.inline is not None:
            urls.append({"url": f"data:{media};base64,{base64.b64encode(piece.inline).decode('ascii')}",
                         "class": piece.cls})
        else:
            urls.append({"url": data_url, "headers": {"Range": f"bytes={piece.start}-{piece.end - 1}"},
                         "class": piece.cls})
    return {"htsget": {"format": served.format, "urls": urls}}


def _data_url(served: ServedFile, base_url: str, signer: UrlSigner) -> str:
    signed = served.folder.signed_url(served.data, signer.lifetime)
    if signed is not None:
        return signed
    path = file_path(served.relative)
    return f"{base_url}{path}?{signer.query(served.relative)}"

