"""The registry of line formats: ``FORMATS[name]`` implements :class:`~.format.TextFormat`."""
from __future__ import annotations

from .bed import BED
from .vcf import VCF

FORMATS = {
    "vcf": VCF,
    "bed": BED,
}
