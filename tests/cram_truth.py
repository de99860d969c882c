"""Ground truth for CRAM tests: pysam's own sequential read, and our reads in the same shape.

The truth is built from pysam's attributes (``query_qualities``, ``get_tags``), not from
the SAM text our decoder parses, so the two sides are independent.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import pyarrow as pa
import pysam

from sparkbam_py.bam.schema import DEFAULT_COLUMNS
from sparkbam_py.cram.plan import CramReadOptions, plan_cram_file
from sparkbam_py.cram.reader import CramSplitReader, CramTask

INTEGER_TYPES = set("cCsSiI")


def _tag_text(value, value_type: str) -> Optional[str]:
    """The TYPE:VALUE pysam's value must print as; None for floats and arrays (compared by type only)."""
    if value_type in INTEGER_TYPES:
        # pysam hands a CRAM's uint32 (I) tag back as a negative int32; htslib's text is right.
        return f"i:{value + (1 << 32) if value_type == 'I' and value < 0 else value}"
    if value_type in ("Z", "A", "H"):
        return f"{value_type}:{value}"
    return None


def truth_records(path: str, reference: Optional[str] = None) -> List[tuple]:
    """Every record of the CRAM, in file order, as a comparable tuple."""
    rows = []
    with pysam.AlignmentFile(path, "rc", reference_filename=reference, check_sq=False) as cram:
        for read in cram.fetch(until_eof=True):
            qualities = read.query_qualities
            quality_text = None if qualities is None or read.query_sequence is None else \
                "".join(chr(q + 33) for q in qualities)
            tags = tuple(sorted((tag, _tag_text(value, kind) or kind)
                                for tag, value, kind in read.get_tags(with_value_type=True)))
            rows.append((read.query_name, read.flag, read.reference_name if read.reference_id >= 0 else None,
                         read.reference_start, read.reference_end, read.mapping_quality, read.cigarstring,
                         read.next_reference_name if read.next_reference_id >= 0 else None,
                         read.next_reference_start, read.template_length, read.query_sequence, quality_text, tags))
    return rows


def our_records(table: pa.Table) -> List[tuple]:
    """Decoded rows in the truth's shape (float/array tag values reduced to their type)."""
    rows = []
    for row in table.to_pylist():
        tags = []
        for tag, text in row["tags"]:
            kind = text.split(":", 1)[0]
            tags.append((tag, text if kind in ("i", "Z", "A", "H") else kind))
        rows.append((row["query_name"], row["flag"], row["reference_name"], row["reference_start"],
                     row["reference_end"], row["mapping_quality"], row["cigar"], row["next_reference_name"],
                     row["next_reference_start"], row["template_length"], row["query_sequence"],
                     row["query_qualities"], tuple(sorted(tags))))
    return rows


def read_tasks(tasks: Sequence[CramTask], columns=DEFAULT_COLUMNS) -> pa.Table:
    batches = []
    for task in tasks:
        with CramSplitReader(task) as reader:
            batches.extend(reader.iter_batches(columns))
    from sparkbam_py.bam.schema import bam_schema

    return pa.Table.from_batches(batches, schema=bam_schema(columns))


def count_tasks(tasks: Sequence[CramTask]) -> int:
    total = 0
    for task in tasks:
        with CramSplitReader(task) as reader:
            total += reader.count()
    return total


def starts_of(tasks: Sequence[CramTask]) -> List[Tuple[int, Optional[int]]]:
    out = []
    for task in tasks:
        with CramSplitReader(task) as reader:
            start = reader.start
            if start is not None and reader.place(start) is not None:
                out.append(start.block_pos)
    return out


def plan(path, split_size, reference=None, use_index=False) -> List[CramTask]:
    return plan_cram_file(str(path), CramReadOptions(split_size=split_size, reference=reference,
                                                     use_index=use_index))[1]
