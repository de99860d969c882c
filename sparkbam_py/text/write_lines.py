"""What every text writer gives the part writer: lines, and the interval each is indexed by.

A line writer (:class:`LineWriter`) turns a batch of rows of its format's columns into one
line per row (no terminator) and, for the tabix index, each line's contig and 0-based
half-open interval as htslib's ``tbx_parse1`` reads them from the written text.  The writers
are :mod:`.vcf_write`, :mod:`.bed_write`, :mod:`.gff_write` and :mod:`.tsv_write`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Tuple

import numpy as np
import pyarrow as pa

from ..index.tabix import TabixConfig


@dataclass(frozen=True)
class FormattedLines:
    """One batch's lines and their index intervals (all of the batch's length)."""

    lines: pa.Array  # string, one line per row, without its newline
    contigs: pa.Array  # string, never null
    starts: np.ndarray  # int64, 0-based
    ends: np.ndarray  # int64, 0-based exclusive


class LineWriter(Protocol):
    """One text format's writer: its header, its lines, its tabix settings."""

    name: str  # the format's registry name
    suffix: str  # a shard's file name ending: ".vcf.gz"
    contig_column: str  # the columns ``sort`` orders the rows by
    start_column: str
    end_column: Optional[str]
    tabix: TabixConfig  # how tabix finds the contig and interval of a line
    nested_per_row: int  # nested elements in a row (a VCF line's genotypes), 0 for flat rows: sets batch sizes

    def samples_from(self, batch: pa.RecordBatch) -> Optional[Tuple[str, ...]]:
        """What the header needs from the rows (a VCF's samples), or None."""

    def header_text(self, samples=None) -> str:
        """The header lines, each ending with a newline ("" for none)."""

    def format(self, batch: pa.RecordBatch, samples=None) -> FormattedLines:
        """The batch's lines; a row that cannot be written raises UnwritableRowError."""
