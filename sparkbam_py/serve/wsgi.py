"""``application``: the service for any WSGI server, configured by environment variables.

    SPARKBAM_STORE=/data/cov SPARKBAM_BAMS=a.bam:b.bam SPARKBAM_TOKEN_FILE=/etc/sparkbam/tokens \\
        waitress-serve sparkbam_py.serve.wsgi:application

``SPARKBAM_STORE`` is a folder or an fsspec URL (``s3://bucket/store``; s3fs reads the usual
``AWS_*`` variables, ``AWS_ENDPOINT_URL`` included); ``SPARKBAM_CACHE_MB`` bounds the decoded
chunks each process keeps (default 256).  ``SPARKBAM_BAMS`` lists BAMs separated by the
platform's path separator (``:`` on Unix); ``SPARKBAM_HTSGET_DIRS`` lists htsget folders
separated by ``;`` (URLs hold colons).
Access control as ``sparkbam serve``: ``SPARKBAM_TOKEN_FILE``, ``SPARKBAM_SECRET_FILE``, or
``SPARKBAM_NO_AUTH=1`` (then only clients on this machine are answered);
``SPARKBAM_CORS_ORIGINS`` (``;``-separated) and ``SPARKBAM_PUBLIC_URL`` as the options.
Each worker process opens the store once, when it imports this module.
"""
from __future__ import annotations

import os

from ..errors import ConfigError
from .router import build_service

STORE_VARIABLE, BAMS_VARIABLE, HTSGET_VARIABLE = "SPARKBAM_STORE", "SPARKBAM_BAMS", "SPARKBAM_HTSGET_DIRS"
CACHE_VARIABLE = "SPARKBAM_CACHE_MB"


def _listed(name: str, separator: str):
    return [item for item in os.environ.get(name, "").split(separator) if item.strip()]


def _cache_bytes() -> int:
    cache_mb = os.environ.get(CACHE_VARIABLE, "256")
    if not cache_mb.isdigit() or int(cache_mb) < 1:
        raise ConfigError(f"{CACHE_VARIABLE} must be a positive whole number of megabytes, got {cache_mb!r}")
    return int(cache_mb) << 20


def app_from_environment():
    store = os.environ.get(STORE_VARIABLE) or None
    htsget_dirs = _listed(HTSGET_VARIABLE, ";")
    if not store and not htsget_dirs:
        raise ConfigError(f"set {STORE_VARIABLE} to the coverage store's folder or URL and/or {HTSGET_VARIABLE} "
                          "to htsget folders")
    return build_service(store, _listed(BAMS_VARIABLE, os.pathsep), htsget_dirs,
                         os.environ.get("SPARKBAM_TOKEN_FILE"), os.environ.get("SPARKBAM_SECRET_FILE"),
                         os.environ.get("SPARKBAM_NO_AUTH") == "1", "127.0.0.1",
                         _listed("SPARKBAM_CORS_ORIGINS", ";"), os.environ.get("SPARKBAM_PUBLIC_URL"),
                         cache_bytes=_cache_bytes())


application = app_from_environment()
