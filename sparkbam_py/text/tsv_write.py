"""Any columns as tab-separated lines a tabix index can serve (the reader is :mod:`.tsv`).

The contig, begin and end columns are the tabix ones (1-based column numbers ``seqColumn``,
``beginColumn``, ``endColumn``, defaults 1, 2, none), as the reader takes them: the begin
column holds 0-based starts, written back 1-based unless ``zeroBased`` (tabix ``-0``); the
end column is written as it is.  A null is ``.``; a nested column (list, map, struct) has no
TSV form and is refused before any line is written.  The header is ``headerFrom``'s lines,
else one ``#``-line naming the columns, which the reader takes the names from.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pyarrow as pa

from ..index.tabix import TBX_GENERIC, TBX_UCSC, TabixConfig
from .write_fields import UnwritableRowError, as_array, check_one_field, join_columns, required, text_or_missing
from .write_lines import FormattedLines


class TsvLineWriter:
    """Every column of the rows, in order, as one tab-separated line."""

    name = "tabix"
    nested_per_row = 0
    suffix = ".tsv.gz"

    def __init__(self, schema: pa.Schema, seq: int = 1, begin: int = 2, end: int = 0, zero_based: bool = False,
                 header_lines: Optional[Sequence[str]] = None):
        names = schema.names
        for number, what in ((seq, "seqColumn"), (begin, "beginColumn")):
            if not 1 <= number <= len(names):
                raise UnwritableRowError(f"{what}={number} but the rows have {len(names)} columns")
        if end and not 1 <= end <= len(names):
            raise UnwritableRowError(f"endColumn={end} but the rows have {len(names)} columns")
        nested = [f"{field.name} ({field.type})" for field in schema if pa.types.is_nested(field.type)]
        if nested:
            raise UnwritableRowError(f"TSV holds scalar columns only; nested: {', '.join(nested)}")
        self.names = tuple(names)
        self.contig_column, self.start_column = names[seq - 1], names[begin - 1]
        self.end_column = names[end - 1] if end else None
        self.zero_based = zero_based
        self.header_lines = tuple(header_lines) if header_lines is not None else ("#" + "\t".join(names),)
        # Header lines not starting with '#' are skipped by count (tabix -S).
        skip = len(self.header_lines) if any(not line.startswith("#") for line in self.header_lines) else 0
        self.tabix = TabixConfig(TBX_GENERIC | (TBX_UCSC if zero_based else 0), seq, begin, end, "#", skip)

    def samples_from(self, batch: pa.RecordBatch):
        return None

    def header_text(self, samples=None) -> str:
        return "".join(line + "\n" for line in self.header_lines)

    def format(self, batch: pa.RecordBatch, samples=None) -> FormattedLines:
        if tuple(batch.schema.names) != self.names:
            raise UnwritableRowError(f"the rows' columns {batch.schema.names} are not the job's {list(self.names)}")
        contig = required(batch, self.contig_column, "the tabix contig column")
        start = np.asarray(required(batch, self.start_column, "the tabix begin column"), dtype=np.int64)
        end = np.asarray(required(batch, self.end_column, "the tabix end column"), dtype=np.int64) \
            if self.end_column else start + 1
        texts = []
        for name in self.names:
            if name == self.start_column:
                texts.append(pa.array(start + (0 if self.zero_based else 1)).cast(pa.string()))
                continue
            column = as_array(batch.column(name))
            text = text_or_missing(column)
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                check_one_field(text, name)
            texts.append(text)
        return FormattedLines(join_columns(texts), contig, start, np.maximum(end, start + 1))
