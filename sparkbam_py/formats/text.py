"""The text formats: lines of bgzipped (or gzip, or plain) text, and VCF, BED, GFF and
tabix-indexed TSV parsed from them.  One class, five objects: each names its parser
(:mod:`sparkbam_py.text`), its options and how its files are recognised.

Sniffing looks at the content first (``##fileformat=VCF``, ``##gff-version``, BED's
``track``/``browser`` lines, a tabix index beside a bgzipped file) and at the name only as a
hint for formats without a magic line (BED, GFF without its pragma).
"""
from __future__ import annotations

from typing import Callable, Mapping, Optional, Tuple

from ..errors import UnsupportedFormatError
from ..index.tabix import find_tabix_path
from ..pos import Pos
from ..text.bed import BED as BED_PARSER
from ..text.format import TextFormat
from ..text.gff import GFF as GFF_PARSER
from ..text.tsv import TABIX as TABIX_PARSER
from ..text.vcf import VCF as VCF_PARSER
from .protocol import Columns
from .sniff import BGZF, Head
from .text_read import TextRead, option_names

BED_FIRST_WORDS = ("track", "browser")


def _is_vcf(head: Head) -> bool:
    return head.data.startswith(b"##fileformat=VCF")


def _is_gff(head: Head) -> bool:
    return head.data.startswith(b"##gff-version") or (
        head.looks_like_text() and head.name.endswith((".gff", ".gff3", ".gtf")))


def _is_bed(head: Head) -> bool:
    return head.looks_like_text() and (head.name.endswith(".bed") or head.first_line().startswith(BED_FIRST_WORDS))


def _is_tabix(head: Head) -> bool:
    return head.compression == BGZF and head.looks_like_text() and find_tabix_path(head.path) is not None


class TextFileFormat:
    """One text format: its parser (None: plain lines), names, options and recognition."""

    unit = "line"
    split_rows = False  # text splits are not listed as rows on Spark (yet): no ``<name>_splits``
    writes = False

    def __init__(self, name: str, title: str, records: str, suffixes: Tuple[str, ...],
                 parser: Optional[TextFormat], recognise: Callable[[Head], bool]):
        self.name, self.title, self.records, self.suffixes = name, title, records, suffixes
        self.parser = parser
        self.options = option_names(name)
        self._recognise = recognise

    def __repr__(self) -> str:
        return f"<format {self.name}>"

    def __reduce__(self):
        return (_text_format_named, (self.name,))  # one object per format, even after a pickle

    def sniff(self, head: Head) -> bool:
        return self._recognise(head)

    def open_read(self, options: Mapping[str, str], columns: Columns = None) -> TextRead:
        return TextRead(self, options, columns)

    def split_start(self, value: Optional[int]) -> Optional[Pos]:
        return None if value is None else Pos.from_virtual(value)

    def open_write(self, options: Mapping[str, str], overwrite: bool):
        raise UnsupportedFormatError(f"{self.title} is read here, not written yet", options.get("path"),
                                     sniffed=self.name)


def _compressed(*names: str) -> Tuple[str, ...]:
    return tuple(name + suffix for name in names for suffix in (".gz", ".bgz", ""))


VCF = TextFileFormat("vcf", "VCF", "variants", _compressed(".vcf"), VCF_PARSER, _is_vcf)
GFF = TextFileFormat("gff", "GFF", "features", _compressed(".gff", ".gff3", ".gtf"), GFF_PARSER, _is_gff)
BED = TextFileFormat("bed", "BED", "intervals", _compressed(".bed"), BED_PARSER, _is_bed)
TABIX = TextFileFormat("tabix", "tabix-indexed text", "rows", (".gz", ".bgz"), TABIX_PARSER, _is_tabix)
LINES = TextFileFormat("bgzf_text", "text", "lines", (".gz", ".bgz", ".txt", ".tsv"), None, Head.looks_like_text)
TEXT_FORMATS = (VCF, GFF, BED, TABIX, LINES)


def _text_format_named(name: str) -> TextFileFormat:
    return next(text_format for text_format in TEXT_FORMATS if text_format.name == name)
