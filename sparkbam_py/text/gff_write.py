"""GFF3 and GTF rows (our reader's columns, :mod:`.gff`) back into feature lines, vectorised.

``start + 1`` and ``end`` give GFF's 1-based closed interval (GFF3 spec, columns 4-5); null
source, score, strand or phase is ``.``.  Attributes are written in the map's order: GFF3
as ``tag=value;...`` with the characters GFF3 reserves percent-encoded (tab, newline, ``%``,
``;``, ``=``, ``&``; a ``,`` is kept: the reader keeps multi-values as ``v1,v2``), GTF as
``key "value"; ...``.  An empty map is ``.``.  The flavour is the option ``gffFlavor``, else
the header's ``##gff-version``, else the output's name (``.gtf``), else GFF3.  tabix indexes
the file as ``tabix -p gff`` does.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..index.tabix import TBX_GENERIC, TabixConfig
from .fields import MISSING
from .write_fields import (UnwritableRowError, as_array, check_one_field, join_columns, map_entries, required,
                           text_or_missing)
from .write_lines import FormattedLines

GFF_TABIX = TabixConfig(TBX_GENERIC, 1, 4, 5, "#", 0)  # tabix -p gff
FLAVORS = ("gff3", "gtf")
# GFF3 spec, "Description of the Format": characters to escape in column 9 (and '%' itself).
_GFF3_ESCAPES = (("%", "%25"), ("\t", "%09"), ("\n", "%0A"), ("\r", "%0D"), (";", "%3B"), ("=", "%3D"),
                 ("&", "%26"))


def flavor_for(option: str = "", header_lines: Sequence[str] = (), path: str = "") -> str:
    """The attribute syntax to write (see the module doc)."""
    if option:
        if option.lower() not in FLAVORS:
            raise UnwritableRowError(f"gffFlavor must be one of {FLAVORS}, not {option!r}")
        return option.lower()
    version = next((line.split()[1] for line in header_lines
                    if line.startswith("##gff-version") and len(line.split()) > 1), "")
    if version:
        return "gff3" if version.startswith("3") else "gtf"
    return "gtf" if ".gtf" in path.lower() else "gff3"


class GffLineWriter:
    """GFF3/GTF lines from the ``gff`` reader's columns."""

    name = "gff"
    nested_per_row = 0
    contig_column, start_column, end_column = "seqid", "start", "end"
    tabix = GFF_TABIX

    def __init__(self, header_lines: Sequence[str] = (), flavor: str = "gff3"):
        self.header_lines = tuple(header_lines) or (("##gff-version 3",) if flavor == "gff3" else ())
        self.flavor = flavor
        self.suffix = ".gff3.gz" if flavor == "gff3" else ".gtf.gz"

    def samples_from(self, batch: pa.RecordBatch):
        return None

    def header_text(self, samples=None) -> str:
        return "".join(line + "\n" for line in self.header_lines)

    def format(self, batch: pa.RecordBatch, samples=None) -> FormattedLines:
        seqid = required(batch, "seqid", "the contig")
        start = np.asarray(required(batch, "start", "0-based start"), dtype=np.int64)
        end = np.asarray(required(batch, "end", "end"), dtype=np.int64)
        texts = [seqid, self._text(batch, "source"), self._text(batch, "type"),
                 pa.array(start + 1).cast(pa.string()), pa.array(end).cast(pa.string()),
                 self._text(batch, "score"), self._text(batch, "strand"), self._text(batch, "phase"),
                 self._attributes(batch)]
        for name, text in zip(("seqid", "source", "type", "strand"), (texts[0], texts[1], texts[2], texts[6])):
            check_one_field(text, name)
        return FormattedLines(join_columns(texts), seqid, start, np.maximum(end, start + 1))

    @staticmethod
    def _text(batch: pa.RecordBatch, name: str) -> pa.Array:
        if name not in batch.schema.names:
            return pa.array([MISSING] * len(batch), pa.string())
        return text_or_missing(batch.column(name))

    def _attributes(self, batch: pa.RecordBatch) -> pa.Array:
        if "attributes" not in batch.schema.names:
            return pa.array([MISSING] * len(batch), pa.string())
        column = as_array(batch.column("attributes"))
        if self.flavor == "gtf":
            check_one_field(column.items, "attribute value", '";')
            return pc.fill_null(map_entries(column, " ", "; ", key_only_when_null=True, quote='"'), MISSING)
        escaped = pa.MapArray.from_arrays(column.offsets, _gff3_escape(column.keys), _gff3_escape(column.items),
                                          mask=column.is_null() if column.null_count else None)
        return pc.fill_null(map_entries(escaped, "=", ";"), MISSING)


def _gff3_escape(text: pa.Array) -> pa.Array:
    """GFF3's reserved characters as %XX (only over the values that hold one)."""
    special = pc.fill_null(pc.match_substring_regex(text, "[%\t\n\r;=&]"), False)
    if not pc.any(special).as_py():
        return text
    escaped = text
    for character, code in _GFF3_ESCAPES:
        escaped = pc.replace_substring(escaped, character, code)
    return pc.if_else(special, escaped, text)
