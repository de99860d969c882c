"""Keep the decoded records that overlap a task's regions: htslib's test (``hts_itr_next``),
as the BAM interval reader applies it (see ``intervals/read.py``).

A record on a region's reference overlaps ``[beg, end)`` when ``pos < end`` and its end
position is past ``beg``; the end position is ``reference_end``, or ``pos + 1`` for an
unmapped read or a CIGAR covering no reference base.  The region "*" (ref_id -1) keeps the
unplaced reads.  A record is tested against the union of the regions, so overlapping
regions never duplicate it.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc

# The columns the test reads, decoded even when the caller did not ask for them.
OVERLAP_COLUMNS = ("reference_name", "reference_start", "reference_end")


def overlap_mask(batch: pa.RecordBatch, regions: Sequence[Tuple[int, int, int]],
                 reference_names: Sequence[str]) -> pa.Array:
    """Boolean mask of the records of ``batch`` overlapping any ``(ref_id, beg, end)``."""
    names = batch.column("reference_name")
    start = pc.cast(batch.column("reference_start"), pa.int64())
    after_start = pc.add(start, 1)
    end = pc.coalesce(pc.cast(batch.column("reference_end"), pa.int64()), after_start)
    end = pc.max_element_wise(end, after_start)
    keep = pa.array([False] * batch.num_rows, pa.bool_())
    for ref_id, beg, stop in regions:
        if ref_id < 0:
            hit = pc.is_null(names)
        else:
            hit = pc.and_(pc.equal(names, reference_names[ref_id]),
                          pc.and_(pc.less(start, stop), pc.greater(end, beg)))
        keep = pc.or_(keep, pc.fill_null(hit, False))
    return keep
