"""The registry of line formats: ``FORMATS[name]`` implements :class:`~.format.TextFormat`."""
from __future__ import annotations

from .bed import BED
from .gff import GFF
from .tsv import TABIX
from .vcf import VCF

FORMATS = {
    "vcf": VCF,
    "bed": BED,
    "gff": GFF,
    "tabix": TABIX,
}
