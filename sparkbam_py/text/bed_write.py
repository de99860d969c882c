"""BED rows (our reader's columns, :mod:`.bed`) back into BED lines, vectorised.

Coordinates are written as stored: BED is 0-based half-open like the DataFrame.  A line
has as many columns as its last non-null standard column asks (BED3 to BED12), so a file of
BED4 lines comes back BED4; ``columns=N`` (option ``bedColumns``) writes exactly N instead,
which keeps every line the same width when an optional column is sometimes missing.  In the
columns where BED means "not given" by ``.`` (name, score, strand, itemRgb) a null is ``.``;
a null in another written column is an error.  ``blockSizes``/``blockStarts`` join with
``,``; ``extraFields`` follow the twelfth column.  ``headerFrom``'s ``track``/``browser``/``#``
lines are the header; tabix indexes the file as ``tabix -p bed`` does (0-based begins).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..index.tabix import TBX_GENERIC, TBX_UCSC, TabixConfig
from .bed import MANDATORY_COLUMNS, STANDARD_FIELDS
from .fields import MISSING
from .write_fields import (UnwritableRowError, as_array, check_one_field, join_columns, join_present, joined_list,
                           plain_text, required)
from .write_lines import FormattedLines

BED_TABIX = TabixConfig(TBX_GENERIC | TBX_UCSC, 1, 2, 3, "#", 0)  # tabix -p bed
STANDARD_NAMES = [field.name for field in STANDARD_FIELDS]
DOT_WHEN_NULL = {"name", "score", "strand", "itemRgb"}  # BEDv1 §1.6: '.' for "not given"
EXTRA_FIELDS = "extraFields"


class BedLineWriter:
    """BED3..BED12 lines (plus extra fields) from the ``bed`` reader's columns."""

    name = "bed"
    nested_per_row = 0
    suffix = ".bed.gz"
    contig_column, start_column, end_column = "chrom", "start", "end"
    tabix = BED_TABIX

    def __init__(self, header_lines: Sequence[str] = (), columns: Optional[int] = None):
        if columns is not None and not MANDATORY_COLUMNS <= columns <= len(STANDARD_NAMES):
            raise UnwritableRowError(f"bedColumns must be {MANDATORY_COLUMNS}..{len(STANDARD_NAMES)}, not {columns}")
        self.header_lines = tuple(header_lines)
        self.columns = columns

    def samples_from(self, batch: pa.RecordBatch):
        return None

    def header_text(self, samples=None) -> str:
        return "".join(line + "\n" for line in self.header_lines)

    def format(self, batch: pa.RecordBatch, samples=None) -> FormattedLines:
        chrom = required(batch, "chrom", "the contig")
        start = np.asarray(required(batch, "start", "0-based start"), dtype=np.int64)
        end = np.asarray(required(batch, "end", "0-based end"), dtype=np.int64)
        check_one_field(chrom, "chrom")
        texts = [chrom, pa.array(start).cast(pa.string()), pa.array(end).cast(pa.string())]
        width = self._width(batch)
        last = int(width.max()) if len(width) else MANDATORY_COLUMNS
        present = STANDARD_NAMES[MANDATORY_COLUMNS:last]
        optional = [self._text(batch, name) for name in present]
        for name, text in zip(present, optional):
            index = STANDARD_NAMES.index(name)
            wanted = width > index
            filler = MISSING if name in DOT_WHEN_NULL else None
            if filler is None:
                lacking = wanted & ~np.asarray(text.is_valid(), dtype=bool)
                if lacking.any():
                    row = int(np.flatnonzero(lacking)[0])
                    raise UnwritableRowError(f"row {row}: {name} is null but the line has {width[row]} columns")
            text = pc.fill_null(text, filler) if filler else text
            texts.append(pc.if_else(pa.array(wanted), text, pa.scalar(None, pa.string())))
        if EXTRA_FIELDS in batch.schema.names:
            extra = joined_list(as_array(batch.column(EXTRA_FIELDS)), "\t")
            texts.append(pc.if_else(pc.equal(extra, ""), pa.scalar(None, pa.string()), extra))
        line = join_columns(texts) if len(texts) == MANDATORY_COLUMNS else join_present(texts, "\t")
        return FormattedLines(line, chrom, start, np.maximum(end, start + 1))

    def _text(self, batch: pa.RecordBatch, name: str) -> pa.Array:
        if name not in batch.schema.names:
            return pa.nulls(len(batch), pa.string())
        column = as_array(batch.column(name))
        if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
            return joined_list(column, ",")
        text = plain_text(column)
        if pa.types.is_string(column.type):
            check_one_field(text, name)
        return text

    def _width(self, batch: pa.RecordBatch) -> np.ndarray:
        """Columns per line: ``columns``, or up to the last non-null one (all with extras)."""
        if self.columns is not None:
            return np.full(len(batch), self.columns)
        width = np.full(len(batch), MANDATORY_COLUMNS)
        for index, name in enumerate(STANDARD_NAMES[MANDATORY_COLUMNS:], MANDATORY_COLUMNS):
            if name in batch.schema.names:
                width = np.where(np.asarray(batch.column(name).is_valid(), dtype=bool), index + 1, width)
        if EXTRA_FIELDS in batch.schema.names:
            extra = as_array(batch.column(EXTRA_FIELDS))
            has_extra = np.asarray(pc.fill_null(pc.greater(pc.list_value_length(extra), 0), False), dtype=bool)
            widest = max([MANDATORY_COLUMNS] + [STANDARD_NAMES.index(name) + 1 for name in batch.schema.names
                                                 if name in STANDARD_NAMES])
            width = np.where(has_extra, np.maximum(width, widest), width)
        return width
