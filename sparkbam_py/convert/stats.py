"""Per-file statistics in Delta's ``stats`` form (numRecords, minValues, maxValues, nullCount).

Delta readers skip files with them (PROTOCOL.md, "Per-file Statistics").  Integer columns
get min/max; every flat column gets its null count; maps and structs only their row count
(Delta allows any subset of columns).
"""
from __future__ import annotations

import json
from typing import Dict

import pyarrow as pa
import pyarrow.compute as pc


class FileStats:
    """Statistics of the batches written to one file, accumulated batch by batch."""

    def __init__(self, schema: pa.Schema):
        self.rows = 0
        self.flat = [f.name for f in schema if not pa.types.is_nested(f.type)]
        self.integers = [f.name for f in schema if pa.types.is_integer(f.type)]
        self.minimum: Dict[str, int] = {}
        self.maximum: Dict[str, int] = {}
        self.nulls: Dict[str, int] = {name: 0 for name in self.flat}

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        for name in self.flat:
            self.nulls[name] += batch.column(name).null_count
        for name in self.integers:
            low, high = pc.min_max(batch.column(name)).values()
            if low.is_valid:
                self.minimum[name] = min(self.minimum.get(name, low.as_py()), low.as_py())
                self.maximum[name] = max(self.maximum.get(name, high.as_py()), high.as_py())

    def to_json(self) -> str:
        return json.dumps({"numRecords": self.rows, "minValues": self.minimum, "maxValues": self.maximum,
                           "nullCount": self.nulls}, separators=(",", ":"))
