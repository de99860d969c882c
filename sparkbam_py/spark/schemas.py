"""Arrow schemas to Spark's and back: the formats speak Arrow, Spark's APIs speak StructType."""
from __future__ import annotations

from typing import Optional

import pyarrow as pa


def spark_of(arrow: pa.Schema):
    """The Spark ``StructType`` of an Arrow schema."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow)


def arrow_of(schema) -> Optional[pa.Schema]:
    """The Arrow schema of a Spark ``StructType`` (a user's ``.schema(...)``); None for None."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return None if schema is None else to_arrow_schema(schema)
