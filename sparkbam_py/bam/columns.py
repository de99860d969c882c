"""Which columns a read of alignments produces, in order, and the exact Arrow schema of its batches.

Columns come as a list of names (``load_reads(..., columns=[...])``) or as an Arrow schema (a
data source's ``.schema(...)``, converted by the Spark layer); both end up in one
:class:`ColumnPlan`.  BAM and CRAM share it: their records decode to the same columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import pyarrow as pa

from ..errors import ConfigError
from .record_column import RECORD, RECORD_TYPE, record_column
from .schema import COLUMNS, DEFAULT_COLUMNS, FILE_POSITION, FILE_POSITION_TYPE
from .typed_tags import TYPED_TAGS, TagSpec

# The source file of each record, when asked for: useful when one load reads many files.
FILE_PATH = "file_path"
# Columns any split reader can add beside its format's own: the unit's virtual offset, its file.
EXTRA_COLUMNS: Dict[str, Tuple[pa.DataType, bool]] = {
    FILE_POSITION: (FILE_POSITION_TYPE, False),
    FILE_PATH: (pa.string(), False),
    RECORD: (RECORD_TYPE, False),  # each record's bytes as stored (bam.record_column)
}


@dataclass(frozen=True)
class ColumnPlan:
    """Which columns a load produces, in order, and the exact Arrow schema of its batches."""

    arrow_schema: pa.Schema
    record_columns: Tuple[str, ...]
    with_file_position: bool
    with_file_path: bool
    tag_spec: Optional[TagSpec] = None  # set when the typed_tags column is requested

    @classmethod
    def of(cls, columns: Optional[Sequence[str]] = None, with_file_position: bool = False,
           tags: Optional[TagSpec] = None) -> "ColumnPlan":
        names = list(DEFAULT_COLUMNS if columns is None else _as_names(columns))
        if tags is not None and columns is None:
            names.append(TYPED_TAGS)
        if with_file_position and FILE_POSITION not in names:
            names.append(FILE_POSITION)
        return cls._build(pa.schema([pa.field(name, *_column_type(name, tags)) for name in names]), tags)

    @classmethod
    def from_arrow_schema(cls, arrow: pa.Schema, tags: Optional[TagSpec] = None) -> "ColumnPlan":
        """From a user's schema: known names, our types; nullable is fine, but NOT NULL on a
        column that can be null is refused (Spark would trust it and mislead)."""
        for wanted in arrow:
            ours, nullable = _column_type(wanted.name, tags)
            if not wanted.type.equals(ours):
                raise ConfigError(f"column {wanted.name} is {ours} here, not {wanted.type}")
            if nullable and not wanted.nullable:
                raise ConfigError(f"column {wanted.name} can be null; declare it without NOT NULL")
        return cls._build(arrow, tags)

    @classmethod
    def _build(cls, arrow: pa.Schema, tags: Optional[TagSpec] = None) -> "ColumnPlan":
        names = arrow.names
        if not names:
            raise ConfigError("select at least one column")
        if len(set(names)) != len(names):
            raise ConfigError(f"columns requested more than once in {names}")
        records = tuple(name for name in names if name in COLUMNS)
        return cls(arrow, records, FILE_POSITION in names, FILE_PATH in names,
                   tags if TYPED_TAGS in names else None)

    @property
    def with_record(self) -> bool:
        return RECORD in self.arrow_schema.names

    def arrange(self, decoded: pa.RecordBatch, path: str, records=None) -> pa.RecordBatch:
        """The decoded batch's columns (plus ``file_path``, and ``record`` from ``records``:
        the inflated data and the records' starts in it) in this plan's order and schema."""
        if self.with_record and records is None:
            raise ConfigError(f"the {RECORD} column is read from BAM byte ranges only, not by this reader", path)
        arrays = []
        for name in self.arrow_schema.names:
            if name == FILE_PATH:
                arrays.append(pa.array([path] * decoded.num_rows, pa.string()))
            elif name == RECORD:
                arrays.append(record_column(*records))
            else:
                arrays.append(decoded.column(name))
        return pa.RecordBatch.from_arrays(arrays, schema=self.arrow_schema)


def _as_names(columns: Sequence[str]) -> List[str]:
    if isinstance(columns, str):
        raise ConfigError(f"columns must be a list of names, not the string {columns!r}")
    return list(columns)


def _column_type(name: str, tags: Optional[TagSpec] = None) -> Tuple[pa.DataType, bool]:
    if name == TYPED_TAGS:
        if tags is None:
            raise ConfigError(f"column {TYPED_TAGS} needs the tags option (e.g. tags='NM:i,MD:Z' or 'auto')")
        return tags.arrow_type(), False
    if name in COLUMNS:
        return COLUMNS[name]
    if name in EXTRA_COLUMNS:
        return EXTRA_COLUMNS[name]
    valid = ", ".join(list(DEFAULT_COLUMNS) + list(EXTRA_COLUMNS))
    raise ConfigError(f"unknown column {name!r}; valid columns are {valid}")
