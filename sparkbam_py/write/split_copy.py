"""A split's records copied into a part, filtered on their fixed fields: ``view``'s task.

samtools view's job (keep the reads whose FLAG has all of some bits and none of others, and
whose MAPQ is high enough; write them to a BAM) needs nothing but each record's bytes and
its fixed fields.  So the task reads its split (:class:`~sparkbam_py.splits.SplitReader`:
its own first record, the walk, the boundary check), keeps the records passing the filter,
and hands their bytes straight to the part writer: no columns, no Arrow batches through the
JVM, no encoding; inflate, a mask and deflate.  The inputs share the output header's
reference dictionary (checked on the driver), so the records' reference ids stand as stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..bam.decode import decode_records
from ..bam.layout import FLAG_UNMAPPED
from ..bam.record_column import record_sizes
from ..bam.ragged import take_byte_ranges
from ..bam.splits import SplitReader, SplitTask
from .encode import EncodedRecords
from .job import WriteJob
from .part import PartSummary
from .records import record_ends

# Inflated bytes the walk hands over at once (the records of about 4 MiB of BAM data).
CHUNK_BYTES = 16 << 20


@dataclass(frozen=True)
class ReadFilter:
    """samtools view's ``-f`` (all of these FLAG bits), ``-F`` (none of them), ``-q`` (MAPQ >= q)."""

    flag_include: int = 0
    flag_exclude: int = 0
    min_mapq: int = 0

    def keep(self, fixed: np.ndarray) -> np.ndarray:
        flag = fixed["flag"].astype(np.int64)
        keep = (flag & self.flag_include) == self.flag_include
        if self.flag_exclude:
            keep &= (flag & self.flag_exclude) == 0
        if self.min_mapq:
            keep &= fixed["mapq"] >= self.min_mapq
        return keep


def copy_split(job: WriteJob, task: SplitTask, number: int, attempt: int, read_filter: ReadFilter) -> PartSummary:
    """Split ``task``'s reads passing ``read_filter`` as part ``number`` of ``job``."""
    with job.open_part(number, attempt) as writer:
        for records in kept_records_of_split(task, read_filter):
            writer.write_records(records)
        return writer.finish(job.part_path(number, attempt), number, attempt, eof=job.sharded)


def kept_records_of_split(task: SplitTask, read_filter: ReadFilter) -> Iterator[EncodedRecords]:
    """The split's records passing ``read_filter``, a walk chunk at a time (boundary checked)."""
    with SplitReader(task) as split:
        for chunk in split.iter_chunks(CHUNK_BYTES, reuse_buffer=True):
            fixed = chunk.fixed_fields()
            keep = read_filter.keep(fixed)
            if keep.any():
                yield kept_records(chunk.run.data, chunk.offsets[keep], fixed[keep], split.header.reference_names)


def kept_records(data: np.ndarray, starts: np.ndarray, fixed: np.ndarray, reference_names) -> EncodedRecords:
    """The records at ``starts`` copied out of the walk's buffer, with what the index needs."""
    # decode_records checks every record's field lengths and gives its reference end.
    decoded = decode_records(data, starts, reference_names, ["reference_end"])
    pos = fixed["pos"].astype(np.int64)
    unmapped = (fixed["flag"] & FLAG_UNMAPPED) != 0
    records = take_byte_ranges(data, starts, record_sizes(data, starts))
    return EncodedRecords(records.values, records.offsets, fixed["ref_id"].astype(np.int32), pos,
                          record_ends(decoded, pos, unmapped), unmapped)
