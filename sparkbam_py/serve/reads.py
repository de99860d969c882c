"""``/api/reads/{contig}``: the reads overlapping a window, read through each BAM's index.

The index is planned with ``.bai.json`` when one sits beside the ``.bai`` (only the ``.bai``
slice of that contig is read), by the same code the ``intervals`` loads use; only records
overlapping the window are decoded.  Headers are read once, at start-up.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Sequence

from ..bam.file import open_bam
from ..bam.header import BamHeader
from ..formats import format_for
from ..index.regions import Region
from ..intervals import open_index, plan_with_index, read_interval_partition
from .params import HttpError

READ_COLUMNS = ["query_name", "flag", "reference_start", "reference_end", "mapping_quality", "cigar",
                "next_reference_name", "next_reference_start", "template_length"]

# The formats whose reads the service serves by window.
SERVED_FORMATS = ("bam",)


@dataclass(frozen=True)
class ServedBam:
    name: str
    path: str
    size: int
    header: BamHeader


def open_served_bams(paths: Sequence[str]) -> List[ServedBam]:
    """Each BAM's header and size, read once; each must have an index beside it."""
    served = []
    for path in paths:
        path = os.fspath(path)
        format_for(path, SERVED_FORMATS, "the coverage service's reads")  # read through the BAI/CSI
        with open_bam(path) as bam:
            served.append(ServedBam(os.path.basename(path), path, bam.size, bam.header))
        with open_index(path):
            pass  # fails now, at start-up, when there is no index
    return served


def reads_in_window(bams: Sequence[ServedBam], contig: str, start: int, end: int, limit: int) -> Dict:
    """``{"reads": [...], "truncated": bool}``: up to ``limit`` reads overlapping ``[start, end)``."""
    reads: List[dict] = []
    for bam in bams:
        names = bam.header.reference_names
        if contig not in names:
            continue
        region = Region(names.index(contig), contig, start, end)
        with open_index(bam.path) as index:
            partitions = plan_with_index(bam.path, bam.size, bam.header, index, [region])
        for partition in partitions:
            for batch in read_interval_partition(partition, READ_COLUMNS):
                room = limit - len(reads)
                if batch.num_rows > room:
                    reads.extend({"file": bam.name, **row} for row in batch.slice(0, room).to_pylist())
                    return {"reads": reads, "truncated": True}
                reads.extend({"file": bam.name, **row} for row in batch.to_pylist())
    return {"reads": reads, "truncated": False}


def contig_length(bams: Sequence[ServedBam], contig: str) -> int:
    for bam in bams:
        if contig in bam.header.reference_names:
            return bam.header.reference_lengths[bam.header.reference_names.index(contig)]
    raise HttpError(404, f"unknown contig {contig!r} in the served BAMs")
