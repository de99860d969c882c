"""One task's text output: its lines as BGZF blocks, and its share of the tabix index.

The BGZF side is BAM's part (:class:`~.part.PartWriter`): whole blocks of 0xff00 inflated
bytes, lines straddling blocks as bgzip's do, the part starting on a block boundary.  The
records are the lines a :class:`~sparkbam_py.text.write_lines.LineWriter` formats; their
index pieces are gathered by BAM's :class:`~.index_part.PartIndexBuilder`, with contigs
numbered by first appearance in the part (the commit renumbers them for the whole file)
and bins at :data:`~.tabix_write.BUILD_DEPTH`.

Order is what tabix needs: each contig's lines together, begins ascending within it.  The
first line out of that order is remembered, so a refused index can say where.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Dict, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..bgzf.writer import DEFAULT_BLOCK_DATA_SIZE
from ..index.bins import BAI_MIN_SHIFT
from ..text.write_fields import UnwritableRowError, lines_buffer
from ..text.write_lines import FormattedLines, LineWriter
from .errors import RecordEncodeError
from .index_part import PartIndex
from .part import PartWriter, WriteSettings
from .tabix_write import BUILD_DEPTH

Position = Tuple[str, int]  # (contig, 0-based begin)


@dataclass
class IndexedLines:
    """A batch's lines as :class:`~.index_part.PartIndexBuilder` takes records."""

    ref_id: np.ndarray
    pos: np.ndarray
    end: np.ndarray
    unmapped: np.ndarray

    def __len__(self) -> int:
        return len(self.ref_id)


@dataclass
class TextPartSummary:
    """What the commit needs of a text part: small and picklable."""

    path: str
    partition: int
    attempt: int
    compressed_size: int  # bytes of line blocks (after the header blocks, before EOF)
    header_size: int  # compressed bytes of the part's own header (sharded), else 0
    records: int
    index: Optional[PartIndex]  # None when out of order or no index wanted
    contigs: Tuple[str, ...]  # the part's contig numbers' names, in order of appearance
    first: Optional[Position]
    last: Optional[Position]
    disorder: Optional[str]  # where the part's lines first leave tabix order
    max_end: int
    samples: Optional[Tuple[str, ...]]  # a VCF's samples, when taken from the rows

    @property
    def sorted(self) -> bool:
        return self.disorder is None


@dataclass
class _Order:
    """Contig numbers by appearance and the order check, across the part's batches."""

    ids: Dict[str, int] = field(default_factory=dict)
    first: Optional[Position] = None
    last: Optional[Position] = None
    disorder: Optional[str] = None

    def number(self, contigs: pa.Array) -> np.ndarray:
        encoded = pc.dictionary_encode(contigs)  # codes in order of first appearance
        local = np.array([self.ids.setdefault(name, len(self.ids)) for name in encoded.dictionary.to_pylist()],
                         dtype=np.int64)
        return local[np.asarray(encoded.indices, dtype=np.int64)]

    def check(self, ref: np.ndarray, begin: np.ndarray, contigs: pa.Array) -> None:
        if self.first is None:
            self.first = (contigs[0].as_py(), int(begin[0]))
        if self.disorder is None:
            previous_ref = np.concatenate([[self.ids[self.last[0]] if self.last else -1], ref[:-1]])
            previous_begin = np.concatenate([[self.last[1] if self.last else -1], begin[:-1]])
            bad = (ref < previous_ref) | ((ref == previous_ref) & (begin < previous_begin))
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                name, before = contigs[k].as_py(), contigs[k - 1].as_py() if k else self.last[0]
                self.disorder = (f"{name}:{begin[k] + 1} comes after {before}:{int(previous_begin[k]) + 1}"
                                 if name == before else f"{name} appears again after {before}")
        self.last = (contigs[-1].as_py(), int(begin[-1]))


class TextPartWriter(PartWriter):
    """Formats batches into lines and writes them as BGZF blocks; :meth:`finish_text` sums up."""

    def __init__(self, out: BinaryIO, line_writer: LineWriter, settings: WriteSettings, index: bool,
                 header: Optional[bytes] = None, path: Optional[str] = None, samples=None):
        super().__init__(out, None, WriteSettings(settings.level, settings.backend,
                                                  (BAI_MIN_SHIFT, BUILD_DEPTH) if index else None),
                         header=header, path=path)
        self.line_writer = line_writer
        self.samples = samples
        self._order = _Order()
        self._max_end = 0

    def write_batch(self, batch: pa.RecordBatch, batch_number: int = 0) -> None:
        try:
            lines: FormattedLines = self.line_writer.format(batch, self.samples)
        except UnwritableRowError as error:
            raise RecordEncodeError(f"batch {batch_number} of the task, {error.detail}", self.path) from None
        data, offsets = lines_buffer(lines.lines)
        ref = self._order.number(lines.contigs)
        self._order.check(ref, lines.starts, lines.contigs)
        if self._want_index and self._order.disorder is None:
            spans = IndexedLines(ref, lines.starts, lines.ends, np.zeros(len(ref), dtype=bool))
            self._index.add(spans, self._inflated + offsets[:-1], self._inflated + offsets[1:])
        self._max_end = max(self._max_end, int(lines.ends.max()))
        self._records += len(batch)
        self._inflated += len(data)
        self._emit_full_blocks(np.frombuffer(data, dtype=np.uint8))

    def _emit_full_blocks(self, data: np.ndarray) -> None:
        """bgzip's blocks: every full block of data is compressed at once, lines may straddle
        blocks (tabix reads across them); the rest stays in the open block."""
        pending = np.concatenate([self._pending, data])
        full = len(pending) - len(pending) % DEFAULT_BLOCK_DATA_SIZE
        for begin in range(0, full, DEFAULT_BLOCK_DATA_SIZE):
            self._emit(pending[begin:begin + DEFAULT_BLOCK_DATA_SIZE])
        self._pending = pending[full:].copy()

    def finish_text(self, path: str, partition: int, attempt: int, eof: bool = False) -> TextPartSummary:
        """Flush the last block (and the EOF marker when ``eof``); the part's summary."""
        summary = self.finish(path, partition, attempt, eof)
        order = self._order
        index = summary.index if order.disorder is None else None
        return TextPartSummary(path, partition, attempt, summary.compressed_size, summary.header_size,
                               self._records, index, tuple(order.ids), order.first, order.last, order.disorder,
                               self._max_end, self.samples)


def empty_summary(path: str, partition: int, attempt: int, samples=None) -> TextPartSummary:
    """The summary of a task that had no rows (nothing written)."""
    return TextPartSummary(path, partition, attempt, 0, 0, 0, None, (), None, None, None, 0, samples)
