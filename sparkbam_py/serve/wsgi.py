"""``application``: the service for any WSGI server, configured by environment variables.

    SPARKBAM_STORE=/data/cov SPARKBAM_BAMS=a.bam:b.bam waitress-serve sparkbam_py.serve.wsgi:application

``SPARKBAM_STORE`` is a folder or an fsspec URL (``s3://bucket/store``; s3fs reads the usual
``AWS_*`` variables, ``AWS_ENDPOINT_URL`` included).  ``SPARKBAM_BAMS`` lists BAMs separated
by the platform's path separator (``:`` on Unix).  ``SPARKBAM_CACHE_MB`` bounds the decoded
chunks each process keeps (default 256).  Each worker process opens the store once, when it
imports this module.
"""
from __future__ import annotations

import os

from ..errors import ConfigError
from .app import create_app

STORE_VARIABLE, BAMS_VARIABLE, CACHE_VARIABLE = "SPARKBAM_STORE", "SPARKBAM_BAMS", "SPARKBAM_CACHE_MB"


def app_from_environment():
    store = os.environ.get(STORE_VARIABLE)
    if not store:
        raise ConfigError(f"set {STORE_VARIABLE} to the coverage store's folder or URL")
    bams = [path for path in os.environ.get(BAMS_VARIABLE, "").split(os.pathsep) if path]
    cache_mb = os.environ.get(CACHE_VARIABLE, "256")
    if not cache_mb.isdigit() or int(cache_mb) < 1:
        raise ConfigError(f"{CACHE_VARIABLE} must be a positive whole number of megabytes, got {cache_mb!r}")
    return create_app(store, bams, cache_bytes=int(cache_mb) << 20)


application = app_from_environment()
