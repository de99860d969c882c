"""Saying where a position sits: the next true read after it, as the check reports print it.

"1 bytes before D0N7FACXX120305:6:2301:3845:171905 (76 unmapped read at 1:24795617)".
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

from sparkbam_py.bam.header import BamHeader
from sparkbam_py.bam.layout import FIXED_FIELDS_DTYPE, FIXED_FIELDS_SIZE, FLAG_UNMAPPED
from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.pos import Pos

_NAME_LIMIT = 255  # l_read_name is one byte (SAMv1 §4.2)


class ReadInfo(NamedTuple):
    """The read a position precedes, and how many inflated bytes before it the position is."""

    pos: Pos
    bytes_before: int
    name: str
    length: int
    mapped: bool
    contig: Optional[str]
    start: int  # 1-based, as SAM text and htsjdk print it; 0 when unplaced

    def __str__(self) -> str:
        kind = "mapped" if self.mapped else "unmapped"
        where = f"at {self.contig}:{self.start}" if self.contig is not None else "unplaced"
        return f"{self.bytes_before} bytes before {self.name} ({self.length} {kind} read {where})"

    def as_json(self) -> dict:
        return {"pos": str(self.pos), "bytes_before": self.bytes_before, "name": self.name,
                "length": self.length, "mapped": self.mapped, "contig": self.contig, "start": self.start}


def read_info(reader: BgzfReader, header: BamHeader, record: Pos, bytes_before: int) -> ReadInfo:
    """Decode the name, length, flag and locus of the record at ``record``."""
    fixed, _ = reader.read(record, FIXED_FIELDS_SIZE)
    fields = _parse_fixed(fixed)
    raw_name, _ = reader.read(record, FIXED_FIELDS_SIZE + min(int(fields["l_read_name"]), _NAME_LIMIT))
    name = raw_name[FIXED_FIELDS_SIZE:].rstrip(b"\0").decode("ascii", "replace")
    ref_id = int(fields["ref_id"])
    placed = 0 <= ref_id < header.n_ref
    return ReadInfo(
        pos=record,
        bytes_before=bytes_before,
        name=name,
        length=int(fields["l_seq"]),
        mapped=not int(fields["flag"]) & FLAG_UNMAPPED,
        contig=header.reference_names[ref_id] if placed else None,
        start=int(fields["pos"]) + 1 if placed else 0,
    )


def _parse_fixed(fixed: bytes):
    return np.frombuffer(fixed, dtype=FIXED_FIELDS_DTYPE, count=1)[0]


def inflated_distance(reader: BgzfReader, start: Pos, end: Pos) -> int:
    """Inflated bytes from ``start`` to ``end`` (``end >= start``), reading what lies between."""
    if end.block_pos == start.block_pos:
        return end.offset - start.offset
    total = 0
    for block in reader.iter_blocks(start.block_pos, end.block_pos):
        total += len(block.data)
    return total - start.offset + end.offset
