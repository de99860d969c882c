"""``application``: the service for any WSGI server, configured by environment variables.

    SPARKBAM_STORE=/data/cov SPARKBAM_BAMS=a.bam:b.bam waitress-serve sparkbam_py.serve.wsgi:application

``SPARKBAM_BAMS`` lists BAMs separated by the platform's path separator (``:`` on Unix).
Each worker process opens the store once, when it imports this module.
"""
from __future__ import annotations

import os

from ..errors import ConfigError
from .app import create_app

STORE_VARIABLE, BAMS_VARIABLE = "SPARKBAM_STORE", "SPARKBAM_BAMS"


def app_from_environment():
    store = os.environ.get(STORE_VARIABLE)
    if not store:
        raise ConfigError(f"set {STORE_VARIABLE} to the coverage store's folder")
    bams = [path for path in os.environ.get(BAMS_VARIABLE, "").split(os.pathsep) if path]
    return create_app(store, bams)


application = app_from_environment()
