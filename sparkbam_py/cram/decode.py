"""pysam records to Arrow batches with exactly the BAM path's columns (``bam/schema.py``).

htslib decodes CRAM; what crosses into Python per record is one SAM line (``to_string()``,
formatted by htslib in C) and ``reference_end``.  Everything else is columnar: pyarrow
splits the lines on tabs and converts each field for the whole batch at once.  SAM text is
exactly the project's convention for the two text-valued columns: qualities are Phred+33,
and each tag's ``TYPE:VALUE`` is what follows ``XX:`` in SAM (SAMv1 §1.5).
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from ..bam.schema import bam_schema

# SAMv1 §1.4: the mandatory fields of a SAM line, in order; optional tags follow.
QNAME, FLAG, RNAME, POS, MAPQ, CIGAR, RNEXT, PNEXT, TLEN, SEQ, QUAL = range(11)
FIRST_TAG_FIELD = 11
MISSING = "*"  # SAM's "no value" for RNAME, CIGAR, RNEXT, SEQ, QUAL
SAME_REFERENCE = "="  # RNEXT equal to RNAME
TAG_NAME_CHARS = 2
TAG_VALUE_START = 3  # "XX:" precedes TYPE:VALUE
_LONGEST_VALUE = 1 << 40


def collect_lines(segments: Iterable, limit: int, with_ends: bool = True) -> Tuple[List[str], List[Optional[int]]]:
    """Up to ``limit`` records' SAM lines and (``with_ends``) reference ends: the one per-record loop."""
    lines: List[str] = []
    ends: List[Optional[int]] = []
    add_line, add_end = lines.append, ends.append
    if not with_ends:
        for segment in segments:
            add_line(segment.to_string())
            if len(lines) >= limit:
                break
        return lines, ends
    for segment in segments:
        add_line(segment.to_string())
        add_end(segment.reference_end)
        if len(lines) >= limit:
            break
    return lines, ends


def _null_where(values: pa.Array, text: str) -> pa.Array:
    return pc.if_else(pc.equal(values, text), pa.scalar(None, values.type), values)


def _int32(values: pa.Array, minus: int = 0) -> pa.Array:
    numbers = pc.cast(values, pa.int64())
    if minus:
        numbers = pc.subtract(numbers, minus)
    return pc.cast(numbers, pa.int32())


def _tags(fields: pa.ListArray) -> pa.MapArray:
    tags = pc.list_slice(fields, FIRST_TAG_FIELD, None)
    counts = pc.list_value_length(tags).to_numpy(zero_copy_only=False)
    offsets = pa.array([0] + list(_cumulative(counts)), pa.int32())
    flat = pc.list_flatten(tags)
    keys = pc.utf8_slice_codeunits(flat, 0, TAG_NAME_CHARS)
    values = pc.utf8_slice_codeunits(flat, TAG_VALUE_START, _LONGEST_VALUE)
    return pa.MapArray.from_arrays(offsets, keys, values)


def _cumulative(counts) -> Iterable[int]:
    import numpy as np

    return np.cumsum(counts, dtype=np.int64).tolist()


def batch_from_lines(lines: Sequence[str], ends: Sequence[Optional[int]], columns: Sequence[str]) -> pa.RecordBatch:
    """The Arrow batch of these records with exactly ``bam_schema(columns)``."""
    schema = bam_schema(columns)
    fields = pc.split_pattern(pa.array(lines, pa.string()), "\t")

    def field(index: int) -> pa.Array:
        return pc.list_element(fields, index)

    def reference_names() -> pa.Array:
        return _null_where(field(RNAME), MISSING)

    builders = {
        "query_name": lambda: field(QNAME),
        "flag": lambda: _int32(field(FLAG)),
        "reference_name": reference_names,
        "reference_start": lambda: _int32(field(POS), minus=1),
        "reference_end": lambda: pa.array(ends, pa.int32()),
        "mapping_quality": lambda: _int32(field(MAPQ)),
        "cigar": lambda: _null_where(field(CIGAR), MISSING),
        "next_reference_name": lambda: _next_reference_names(field(RNEXT), reference_names()),
        "next_reference_start": lambda: _int32(field(PNEXT), minus=1),
        "template_length": lambda: _int32(field(TLEN)),
        "query_sequence": lambda: _null_where(field(SEQ), MISSING),
        "query_qualities": lambda: _null_where(field(QUAL), MISSING),
        "tags": lambda: _tags(fields),
    }
    arrays = [builders[name]().cast(schema.field(name).type) for name in schema.names]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _next_reference_names(rnext: pa.Array, rname: pa.Array) -> pa.Array:
    same = pc.if_else(pc.equal(rnext, SAME_REFERENCE), rname, rnext)
    return _null_where(same, MISSING)
