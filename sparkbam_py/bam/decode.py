"""Decode a batch of BAM records into an Arrow RecordBatch, vectorised over records.

The fixed 36 bytes of every record are read in one structured-dtype gather; every variable
field is located from them and gathered with Arrow/numpy kernels, so no Python object is
made per record.  Only the requested columns are built: shared intermediate results (CIGAR
ops, located tags) are computed on first use and only if a requested column needs them.
"""
from __future__ import annotations

from functools import cached_property
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import pyarrow as pa

from ..errors import ConfigError, CorruptRecordError
from ..pos import Pos
from .arrow_build import primitive_array
from .cigar import (
    CigarOps,
    LongCigars,
    check_op_codes,
    check_query_lengths,
    cigar_column,
    find_long_cigars,
    gather_cigar_ops,
    placeholder_records,
    reference_end_column,
)
from .ragged import string_array, strings_array, take_byte_ranges
from .schema import FILE_POSITION, bam_schema, resolve_columns
from .sequence import decode_query_qualities, decode_query_sequence
from .spans import MalformedRecord, RecordSpans, compute_record_spans
from .tag_text import build_tags_column
from .tags import TagEntries, locate_tags
from .typed_tags import TYPED_TAGS, TagSpec, TagTypeError, UnconvertibleTag, typed_tags_column


def decode_records(
    data: np.ndarray,
    offsets: np.ndarray,
    reference_names: Sequence[str],
    columns: Optional[Sequence[str]] = None,
    file_positions: Optional[np.ndarray] = None,
    *,
    path: Optional[str] = None,
    typed_tags: Optional[TagSpec] = None,
) -> pa.RecordBatch:
    """Decode the records starting at ``offsets`` (their block_size field) in ``data``.

    ``data`` is inflated BAM (uint8) holding every record whole; ``offsets`` ascend.
    ``reference_names`` (a sequence of str, or a ready pyarrow string array) names ref ids.
    ``columns`` picks and orders the columns (default: all of :data:`schema.DEFAULT_COLUMNS`);
    ``file_positions`` (int64 virtual offsets, one per record) adds a last ``file_position``
    column.  ``path`` only serves error messages.  The batch has exactly the schema
    ``bam_schema(columns, with_file_position=file_positions is not None)``, with a
    ``typed_tags`` struct column (see :mod:`.typed_tags`) before ``file_position`` when
    ``typed_tags`` declares tags.
    """
    names = resolve_columns(columns)
    data = _as_bytes(data)
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    if file_positions is not None:
        file_positions = np.asarray(file_positions, dtype=np.int64).reshape(-1)
        if len(file_positions) != len(offsets):
            raise ConfigError(f"{len(file_positions)} file positions for {len(offsets)} records", path)
    schema = bam_schema(names, with_file_position=file_positions is not None)
    try:
        batch = BatchDecoder(data, offsets, reference_names, names)
        arrays = [_COLUMN_BUILDERS[name](batch) for name in names]
        if typed_tags is not None:
            arrays.append(batch.typed_tags_column(typed_tags))
            schema = _with_typed_tags(schema, typed_tags)
    except MalformedRecord as bad:
        raise located_error(bad, offsets, file_positions, path) from None
    if file_positions is not None:
        arrays.append(primitive_array(file_positions, np.int64))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _as_bytes(data) -> np.ndarray:
    """``data`` (array or bytes-like) as a 1-D uint8 array; an array already so is kept as is."""
    if not isinstance(data, np.ndarray):
        return np.frombuffer(data, dtype=np.uint8)
    if data.dtype == np.uint8 and data.ndim == 1 and data.flags.c_contiguous:
        return data
    return np.ascontiguousarray(data).view(np.uint8).reshape(-1)


def _with_typed_tags(schema: pa.Schema, spec: TagSpec) -> pa.Schema:
    at = len(schema) - (FILE_POSITION in schema.names)
    return schema.insert(at, pa.field(TYPED_TAGS, spec.arrow_type(), nullable=False))


def located_error(bad: MalformedRecord, offsets, file_positions, path) -> CorruptRecordError:
    """A CorruptRecordError naming the record's batch index, data offset and file position."""
    where = None
    if file_positions is not None:
        where = Pos.from_virtual(int(file_positions[bad.record]))
    message = f"record {bad.record} of the batch (data offset {int(offsets[bad.record])}): {bad.message}"
    error_type = TagTypeError if isinstance(bad, UnconvertibleTag) else CorruptRecordError
    return error_type(message, path, where)


class BatchDecoder:
    """One batch's records and the intermediate results its columns share."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray, reference_names: Sequence[str], columns):
        self.data = data
        self.columns = columns
        if isinstance(reference_names, pa.Array):
            self.reference_names = reference_names  # callers may convert once per file
        else:
            self.reference_names = strings_array(reference_names)
        self.spans: RecordSpans = compute_record_spans(data, offsets, len(self.reference_names))

    @property
    def fixed(self) -> np.ndarray:
        return self.spans.fixed

    @cached_property
    def tag_entries(self) -> TagEntries:
        """Every tag of every record."""
        spans = self.spans
        return locate_tags(self.data, spans.tags_start, spans.end, np.arange(len(spans)))

    @cached_property
    def stored_cigar_ops(self) -> CigarOps:
        """The CIGAR ops as the records store them (placeholders of long CIGARs included)."""
        return gather_cigar_ops(self.data, self.spans)

    @cached_property
    def long_cigars(self) -> LongCigars:
        candidates = placeholder_records(self.spans)
        if "tags" in self.columns:
            # The tags column needs every tag anyway, and the CG entries' indexes in it.
            entries = self.tag_entries
        else:
            # Otherwise walk only the (rare) records whose CIGAR looks like a placeholder.
            entries = locate_tags(self.data, self.spans.tags_start[candidates], self.spans.end[candidates], candidates)
        return find_long_cigars(self.spans, entries, candidates)

    @cached_property
    def cigar_ops(self) -> CigarOps:
        """The real CIGAR ops: long CIGARs taken from their CG tag."""
        if len(self.long_cigars.records) == 0:
            ops = check_op_codes(self.stored_cigar_ops)
        else:
            ops = check_op_codes(gather_cigar_ops(self.data, self.spans, self.long_cigars))
        return check_query_lengths(self.spans, ops)

    def int32_column(self, field: str) -> pa.Int32Array:
        return primitive_array(self.fixed[field], np.int32)

    def reference_name_column(self, field: str) -> pa.StringArray:
        """Reference names by id; null for id -1 (no reference)."""
        ids = self.fixed[field]
        return self.reference_names.take(primitive_array(ids, np.int32, valid=ids >= 0))

    def query_name_column(self) -> pa.StringArray:
        spans = self.spans
        # l_read_name counts the NUL terminator, which the name leaves out.
        lengths = self.fixed["l_read_name"].astype(np.int64) - 1
        return string_array(take_byte_ranges(self.data, spans.name_start, lengths))

    def typed_tags_column(self, spec: TagSpec) -> pa.StructArray:
        return typed_tags_column(self.tag_entries, len(self.spans), spec, dropped=self.long_cigars.entries)

    def tags_column(self) -> pa.MapArray:
        # A CG tag that became the CIGAR is part of the CIGAR now, not a tag (as in pysam).
        return build_tags_column(self.tag_entries, len(self.spans), dropped=self.long_cigars.entries)


_COLUMN_BUILDERS: Dict[str, Callable[[BatchDecoder], pa.Array]] = {
    "query_name": BatchDecoder.query_name_column,
    "flag": lambda batch: batch.int32_column("flag"),
    "reference_name": lambda batch: batch.reference_name_column("ref_id"),
    "reference_start": lambda batch: batch.int32_column("pos"),
    "reference_end": lambda batch: reference_end_column(batch.spans, batch.cigar_ops),
    "mapping_quality": lambda batch: batch.int32_column("mapq"),
    "cigar": lambda batch: cigar_column(batch.cigar_ops),
    "next_reference_name": lambda batch: batch.reference_name_column("next_ref_id"),
    "next_reference_start": lambda batch: batch.int32_column("next_pos"),
    "template_length": lambda batch: batch.int32_column("tlen"),
    "query_sequence": lambda batch: decode_query_sequence(batch.data, batch.spans),
    "query_qualities": lambda batch: decode_query_qualities(batch.data, batch.spans),
    "tags": BatchDecoder.tags_column,
}
