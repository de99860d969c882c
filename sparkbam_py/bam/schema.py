"""The columns a decoded batch of BAM records can have: Arrow schema and Spark DDL.

Names follow pysam's ``AlignedSegment`` attributes.  The Arrow types are exactly the ones
the decoder builds, and the DDL types exactly their Spark counterparts, because Spark's
``mapInArrow`` and Python data sources do not convert: an int64 column against an ``int``
field fails inside the JVM.

Null rules (each mirrors what pysam returns as ``None``):

* ``reference_name`` / ``next_reference_name``: null when the reference id is -1.
* ``reference_end``: null when the read is unmapped (flag 0x4) or has no CIGAR.
* ``cigar``: null when the record has no CIGAR (pysam's ``cigarstring`` is None; SAM prints ``*``).
* ``query_sequence``: null when the record stores no sequence (l_seq == 0, SAM ``*``).
* ``query_qualities``: null when there is no sequence or the qualities are absent (0xFF).

``tags`` maps each two-character tag to ``TYPE:VALUE`` exactly as in SAM text (SAMv1 §1.5):
integers of every width print as ``i``, arrays as ``B:<subtype>,v1,v2`` (``B:c`` when empty),
floats as C's ``%g``.  A record without tags has an empty map, never null.
"""
from __future__ import annotations

import functools
from typing import Dict, Optional, Sequence, Tuple

import pyarrow as pa

from ..errors import ConfigError

FILE_POSITION = "file_position"

# Column name -> (Arrow type, nullable), in the default column order.
COLUMNS: Dict[str, Tuple[pa.DataType, bool]] = {
    "query_name": (pa.string(), False),
    "flag": (pa.int32(), False),
    "reference_name": (pa.string(), True),
    "reference_start": (pa.int32(), False),
    "reference_end": (pa.int32(), True),
    "mapping_quality": (pa.int32(), False),
    "cigar": (pa.string(), True),
    "next_reference_name": (pa.string(), True),
    "next_reference_start": (pa.int32(), False),
    "template_length": (pa.int32(), False),
    "query_sequence": (pa.string(), True),
    "query_qualities": (pa.string(), True),
    "tags": (pa.map_(pa.string(), pa.string()), False),
}
DEFAULT_COLUMNS: Tuple[str, ...] = tuple(COLUMNS)

# The virtual offset (SAMv1 §4.1.1) of each record, when the caller asks for it.
FILE_POSITION_TYPE = pa.int64()

_SPARK_TYPES = {
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.string(): "string",
    pa.map_(pa.string(), pa.string()): "map<string,string>",
}


def resolve_columns(columns: Optional[Sequence[str]]) -> Tuple[str, ...]:
    """The requested record columns in the caller's order; all of them when ``columns`` is None."""
    if columns is None:
        return DEFAULT_COLUMNS
    if isinstance(columns, str):
        raise ConfigError(f"columns must be a sequence of names, not the string {columns!r}")
    names = tuple(columns)
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise ConfigError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; valid columns are "
            f"{', '.join(DEFAULT_COLUMNS)} (and {FILE_POSITION} via with_file_position)"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"column(s) requested more than once: {', '.join(repeated)}")
    return names


def bam_schema(columns: Optional[Sequence[str]] = None, with_file_position: bool = False) -> pa.Schema:
    """The Arrow schema of :func:`~sparkbam_py.bam.decode.decode_records` batches.

    ``file_position`` (int64 virtual offset) comes last when ``with_file_position`` is set.
    """
    return _schema_of(resolve_columns(columns), bool(with_file_position))


@functools.lru_cache(maxsize=256)
def _schema_of(names: Tuple[str, ...], with_file_position: bool) -> pa.Schema:
    # Schemas are immutable: each batch of a scan reuses its scan's one.
    fields = [pa.field(name, *COLUMNS[name]) for name in names]
    if with_file_position:
        fields.append(pa.field(FILE_POSITION, FILE_POSITION_TYPE, nullable=False))
    return pa.schema(fields)


def spark_ddl(columns: Optional[Sequence[str]] = None, with_file_position: bool = False) -> str:
    """The Spark DDL of :func:`bam_schema`, e.g. ``"query_name string NOT NULL, flag int NOT NULL, ..."``."""
    schema = bam_schema(columns, with_file_position)
    return ", ".join(
        f"{field.name} {_SPARK_TYPES[field.type]}{'' if field.nullable else ' NOT NULL'}"
        for field in schema
    )
