"""One task's output: its records as BGZF blocks, plus its share of the indexes.

A part is a run of whole BGZF blocks holding records only (no header, no EOF marker), so
parts concatenate into one BAM after a header block.  Blocks end where htslib ends them
(:mod:`.block_cuts`: before a record that would not fit in 0xff00 bytes, or when full); the
part always starts on a block boundary, which is what lets the commit shift the part's
index offsets by its final position.

With ``header`` the part is a complete BAM on its own (header block first, EOF last): the
``sharded`` output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, List, Optional

import numpy as np
import pyarrow as pa

from ..bgzf.constants import EOF_MARKER
from ..bgzf.writer import DEFAULT_BLOCK_DATA_SIZE, DEFAULT_LEVEL, compress_block, default_backend
from ..index.sbi import DEFAULT_GRANULARITY
from .errors import RecordEncodeError
from .block_cuts import block_cuts
from .index_part import PartIndex, PartIndexBuilder
from .records import records_of_batch


@dataclass
class PartSummary:
    """What the commit needs of a part: small, picklable, sent back as the task's message."""

    path: str
    partition: int
    attempt: int
    compressed_size: int  # bytes of record blocks (after the header, before EOF if complete)
    header_size: int  # compressed bytes of the part's own header blocks (sharded), else 0
    records: int
    sbi_offsets: np.ndarray  # relative virtual offsets: every g-th record, then the end
    index: Optional[PartIndex]  # None when unsorted or no index requested
    first_key: Optional[int]
    last_key: Optional[int]
    sorted: bool


@dataclass(frozen=True)
class WriteSettings:
    """How parts are written: compression, indexes (None: no BAI/CSI), SBI granularity."""

    level: int = DEFAULT_LEVEL
    backend: str = ""
    index_scheme: Optional[tuple] = None  # (min_shift, depth)
    sbi_granularity: int = DEFAULT_GRANULARITY

    @property
    def deflate_backend(self) -> str:
        return self.backend or default_backend()


class PartWriter:
    """Encodes batches and writes them as BGZF blocks to ``out``; :meth:`finish` summarises."""

    def __init__(self, out: BinaryIO, reference_names: pa.Array, settings: WriteSettings,
                 header: Optional[bytes] = None, path: Optional[str] = None):
        self.out = out
        self.path = path  # the output, for error messages
        self.reference_names = reference_names
        self.settings = settings
        self.header_size = 0
        self.compressed = 0
        if header is not None:
            self.header_size = self._write_blocks(header)
        self._pending = np.zeros(0, dtype=np.uint8)  # the open block's bytes
        self._block_starts: List[int] = [0]  # compressed start of each record block, relative
        self._block_data: List[int] = [0]  # and where its data starts among the part's record bytes
        self._inflated = 0  # record bytes written so far (the part's u-offset)
        self._records = 0
        self._sbi: List[np.ndarray] = []
        scheme = settings.index_scheme
        self._index = PartIndexBuilder(*scheme) if scheme else PartIndexBuilder()
        self._want_index = scheme is not None

    def write_batch(self, batch: pa.RecordBatch, batch_number: int = 0) -> None:
        try:
            records = records_of_batch(batch, self.reference_names)
        except RecordEncodeError as error:
            raise type(error)(f"batch {batch_number} of the task, {error.detail}", self.path) from None
        self.write_records(records)

    def write_records(self, records) -> None:
        """Append encoded records (:class:`~.encode.EncodedRecords`) and their index entries."""
        starts = self._inflated + records.offsets[:-1]
        ends = self._inflated + records.offsets[1:]
        g = self.settings.sbi_granularity
        self._sbi.append(starts[(-self._records) % g::g])
        if self._want_index:
            self._index.add(records, starts, ends)
        else:
            self._index.track_order(records)
        self._records += len(records)
        self._inflated += len(records.data)
        self._emit_records(records)

    def _emit_records(self, records) -> None:
        """Compress every block the new records close; the rest stays in the open block."""
        cuts = block_cuts(np.diff(records.offsets), len(self._pending), DEFAULT_BLOCK_DATA_SIZE)
        if not len(cuts):
            self._pending = np.concatenate([self._pending, records.data])
            return
        data = np.concatenate([self._pending, records.data])
        begin = 0
        for end in cuts.tolist():
            self._emit(data[begin:end])
            begin = end
        self._pending = data[begin:].copy()

    def _emit(self, data) -> None:
        block = compress_block(data, self.settings.level, b"", self.settings.deflate_backend)
        self.out.write(block)
        self.compressed += len(block)
        self._block_starts.append(self.compressed)
        self._block_data.append(self._block_data[-1] + len(data))

    def _write_blocks(self, data: bytes) -> int:
        written = 0
        for begin in range(0, len(data), DEFAULT_BLOCK_DATA_SIZE):
            block = compress_block(data[begin:begin + DEFAULT_BLOCK_DATA_SIZE], self.settings.level, b"",
                                   self.settings.deflate_backend)
            self.out.write(block)
            written += len(block)
        return written

    def to_virtual(self, u: np.ndarray) -> np.ndarray:
        """Inflated part offsets to virtual offsets relative to the first record block.

        The end of the part is named by the next block at offset 0, as htslib's reader (and
        htsjdk's ``.sbi`` indexer) name a position at the end of a block.
        """
        u = np.asarray(u, dtype=np.int64)
        starts = np.asarray(self._block_starts, dtype=np.int64)
        data_starts = np.asarray(self._block_data, dtype=np.int64)
        block = np.searchsorted(data_starts, u, side="right") - 1
        virtual = (starts[block] << 16) | (u - data_starts[block])
        return np.where(u == self._inflated, np.int64(self.compressed) << 16, virtual)

    def finish(self, path: str, partition: int, attempt: int, eof: bool = False) -> PartSummary:
        """Flush the last block (and the EOF marker when ``eof``); the part's summary."""
        if len(self._pending):
            self._emit(self._pending)
            self._pending = np.zeros(0, dtype=np.uint8)
        records_size = self.compressed
        if eof:
            self.out.write(EOF_MARKER)
        sbi = np.concatenate(self._sbi + [np.array([self._inflated], dtype=np.int64)])
        index = self._index.finish(self.to_virtual) if self._want_index else None
        return PartSummary(path, partition, attempt, records_size, self.header_size, self._records,
                           self.to_virtual(sbi), index, self._index.first_key, self._index.last_key,
                           self._index.sorted)
