"""A BAM that fools every record-start checker: a well-formed record hidden in a tag.

One big record ``decoy-holder`` ends with a ``B:C`` array tag whose last bytes are a complete,
valid BAM record whose block_size ends exactly where the holder ends, so its chain lands on
the next true record and every following check passes.  The holder spans several BGZF
blocks; a split starting in its last block finds the hidden record before any true one.
No checker can tell (the bytes ARE a record); the boundary verification must.
"""
from __future__ import annotations

import array
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import List

import pysam

from sparkbam_py.pos import Pos

REFERENCE_LENGTH = 100_000
# Zeros before the hidden record: enough for the holder to span three 65,280-byte blocks.
PADDING = 140_000
READS_BEFORE, READS_AFTER = 20, 60
HOLDER = "decoy-holder"


@dataclass(frozen=True)
class DecoyBam:
    path: Path
    n_records: int
    holder: Pos  # where the holder record starts
    following: Pos  # the true record right after the holder
    hidden_block: int  # compressed start of the block holding the hidden record


def hidden_record(name: bytes = b"hidden") -> bytes:
    """A complete BAM record (SAMv1 §4.2): ref 0, pos 1000, 10M, ten bases."""
    read_name = name + b"\0"
    cigar = struct.pack("<I", 10 << 4)  # 10M
    seq = bytes([0x12] * 5)  # ACACACACAC, two 4-bit bases per byte
    qual = bytes([30] * 10)
    body = struct.pack("<iiBBHHHiiii", 0, 1000, len(read_name), 60, 4680, 1, 0, 10, -1, -1, 0)
    body += read_name + cigar + seq + qual
    return struct.pack("<i", len(body)) + body


def _segment(header: pysam.AlignmentHeader, name: str, start: int) -> pysam.AlignedSegment:
    segment = pysam.AlignedSegment(header)
    segment.query_name = name
    segment.reference_id, segment.reference_start = 0, start
    segment.cigarstring = "20M"
    segment.query_sequence = "ACGT" * 5
    segment.query_qualities = pysam.qualitystring_to_array("I" * 20)
    segment.mapping_quality = 60
    return segment


def write_decoy_bam(directory: Path) -> DecoyBam:
    path = Path(directory) / "decoy.bam"
    header = pysam.AlignmentHeader.from_dict({"SQ": [{"SN": "chr1", "LN": REFERENCE_LENGTH}]})
    names: List[str] = []
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for index in range(READS_BEFORE + 1 + READS_AFTER):
            name = HOLDER if index == READS_BEFORE else f"read{index}"
            segment = _segment(header, name, 100 + index)
            if name == HOLDER:
                # The tag must be the record's last bytes, so the hidden record ends with it.
                segment.set_tag("XD", array.array("B", bytes(PADDING) + hidden_record()))
            out.write(segment)
            names.append(name)
    return _locate(path, len(names))


def _locate(path: Path, n_records: int) -> DecoyBam:
    with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
        while True:
            here = bam.tell()
            if next(bam).query_name == HOLDER:
                holder, following = Pos.from_virtual(here), Pos.from_virtual(bam.tell())
                break
    # htslib starts the holder in a fresh block and fills blocks to the brim, so the holder
    # spans several and its last block also holds the hidden record and the next true one.
    assert holder.block_pos < following.block_pos and following.offset > len(hidden_record())
    return DecoyBam(path, n_records, holder, following, following.block_pos)
