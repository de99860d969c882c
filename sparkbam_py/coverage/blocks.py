"""The reference intervals each read covers, for a whole batch of records at once.

``samtools depth`` rules (samtools 1.16 ``bam2depth.c``): a read is skipped when its flag
has any bit of the filter (default UNMAP, SECONDARY, QCFAIL, DUP) or its mapping quality
is below the minimum; its CIGAR ops M, = and X add one to every base they cover; D adds
only with ``-J``; N (a skip), I, S, H and P add nothing.  Bases past the contig's end (a
read the aligner let run off it) are not counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..bam.cigar import CigarOps
from ..bam.decode import BatchDecoder  # the decoder's CIGAR handling (long CIGARs included) and spans
from ..bam.layout import CIGAR_CONSUMES_REF, CIGAR_OPS
from ..bam.ragged import string_array, take_byte_ranges
from ..bam.tags import TYPE_STRING, locate_tags
from ..errors import ConfigError

# SAMv1 §1.4.2 flag bits; samtools depth's default filter is their union (0x704).
FLAG_UNMAPPED, FLAG_SECONDARY, FLAG_QCFAIL, FLAG_DUPLICATE = 0x4, 0x100, 0x200, 0x400
DEFAULT_EXCLUDE_FLAGS = FLAG_UNMAPPED | FLAG_SECONDARY | FLAG_QCFAIL | FLAG_DUPLICATE
MAX_FLAG = 0xFFFF
MAX_MAPQ = 255
_COUNTED = np.zeros(len(CIGAR_OPS), dtype=bool)
_COUNTED[[CIGAR_OPS.index(op) for op in "M=X"]] = True
_COUNTED_WITH_DELETIONS = _COUNTED.copy()
_COUNTED_WITH_DELETIONS[CIGAR_OPS.index("D")] = True
READ_GROUP_TAG = b"RG"


@dataclass(frozen=True)
class DepthFilter:
    """Which reads and ops count: samtools depth's ``-G``/``-g``, ``-Q``, ``-J``."""

    exclude_flags: int = DEFAULT_EXCLUDE_FLAGS
    require_flags: int = 0
    min_mapq: int = 0
    count_deletions: bool = False

    def __post_init__(self):
        for name in ("exclude_flags", "require_flags"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= MAX_FLAG:
                raise ConfigError(f"{name} must be an integer in 0..{MAX_FLAG:#x}, got {value!r}")
        if not isinstance(self.min_mapq, int) or not 0 <= self.min_mapq <= MAX_MAPQ:
            raise ConfigError(f"min_mapq must be an integer in 0..{MAX_MAPQ}, got {self.min_mapq!r}")

    def as_dict(self) -> dict:
        return {"exclude_flags": self.exclude_flags, "require_flags": self.require_flags,
                "min_mapq": self.min_mapq, "count_deletions": self.count_deletions}


@dataclass(frozen=True)
class Blocks:
    """Covered intervals ``[start, end)`` on contig ``ref_id``, and the read each came from."""

    ref_id: np.ndarray
    start: np.ndarray
    end: np.ndarray
    read: np.ndarray  # index into the batch's kept reads

    def __len__(self) -> int:
        return len(self.start)


@dataclass(frozen=True)
class KeptReads:
    """The reads of a batch that pass the filter: their flags, and their blocks."""

    flags: np.ndarray
    read_group_codes: Optional[np.ndarray]  # per kept read, index into the file's IDs; -1 none
    blocks: Blocks


def find_blocks(data: np.ndarray, offsets: np.ndarray, reference_names: pa.Array, lengths: np.ndarray,
                depth_filter: DepthFilter, read_group_ids: Optional[Sequence[str]] = None) -> KeptReads:
    """The covered blocks of the records at ``offsets`` in ``data`` that pass ``depth_filter``.

    ``read_group_ids`` (the file's @RG IDs) asks for each kept read's group code too.
    """
    batch = BatchDecoder(data, offsets, reference_names, ("cigar",))
    fixed = batch.fixed
    flags = fixed["flag"].astype(np.int64)
    kept = ((fixed["ref_id"] >= 0) & (fixed["pos"] >= 0)
            & ((flags & depth_filter.exclude_flags) == 0)
            & ((flags & depth_filter.require_flags) == depth_filter.require_flags)
            & (fixed["mapq"].astype(np.int64) >= depth_filter.min_mapq))
    blocks = _blocks_of(batch.cigar_ops, fixed, kept, lengths, depth_filter.count_deletions)
    codes = None
    if read_group_ids is not None:
        codes = read_group_codes(batch, np.flatnonzero(kept), read_group_ids)
    return KeptReads(flags[kept], codes, blocks)


def _blocks_of(ops: CigarOps, fixed: np.ndarray, kept: np.ndarray, lengths: np.ndarray,
               count_deletions: bool) -> Blocks:
    counted_codes = _COUNTED_WITH_DELETIONS if count_deletions else _COUNTED
    codes, op_lengths = ops.codes, ops.lengths
    per_read = np.diff(ops.offsets)
    read_of_op = np.repeat(np.arange(len(per_read)), per_read)
    # Reference offset of each op inside its read: what the read's earlier ops consumed.
    consumed = np.where(CIGAR_CONSUMES_REF[codes], op_lengths, 0)
    running = np.zeros(len(consumed) + 1, dtype=np.int64)
    np.cumsum(consumed, out=running[1:])
    within = running[:-1] - running[ops.offsets[:-1]][read_of_op]
    counted = counted_codes[codes] & kept[read_of_op] & (op_lengths > 0)
    op_index = np.flatnonzero(counted)
    read = read_of_op[op_index]
    ref_id = fixed["ref_id"][read].astype(np.int64)
    start = fixed["pos"][read].astype(np.int64) + within[op_index]
    end = np.minimum(start + op_lengths[op_index], lengths[ref_id])
    inside = start < end
    # Renumber reads among the kept ones, the order KeptReads' arrays use.
    kept_index = np.cumsum(kept) - 1
    return Blocks(ref_id[inside], start[inside], end[inside], kept_index[read[inside]])


def read_group_codes(batch: BatchDecoder, kept: np.ndarray, read_group_ids: Sequence[str]) -> np.ndarray:
    """Per kept read, the index of its RG:Z value in ``read_group_ids``; -1 if none or unknown."""
    codes = np.full(len(kept), -1, dtype=np.int64)
    if not len(kept) or not len(read_group_ids):
        return codes
    spans = batch.spans
    entries = locate_tags(batch.data, spans.tags_start[kept], spans.end[kept], np.arange(len(kept)))
    rg = np.flatnonzero(entries.keys_equal(READ_GROUP_TAG) & (entries.type == TYPE_STRING))
    walked = entries.walked_record_of(rg)
    first = np.concatenate([[True], walked[1:] != walked[:-1]]) if len(rg) else np.zeros(0, dtype=bool)
    rg, walked = rg[first], walked[first]
    # A Z value's size counts its NUL terminator.
    values = string_array(take_byte_ranges(entries.buffer, entries.value_start[rg], entries.size[rg] - 1))
    found = pc.index_in(values, value_set=pa.array(list(read_group_ids), type=pa.string()))
    codes[entries.records[walked]] = found.fill_null(-1).to_numpy(zero_copy_only=False)
    return codes
