"""GA4GH htsget 1.3 over folders of indexed BAM, CRAM and bgzipped VCF files (local or object stores)."""
from __future__ import annotations

from .app import HtsgetApp, create_htsget_app, service_info

__all__ = ["HtsgetApp", "create_htsget_app", "service_info"]
