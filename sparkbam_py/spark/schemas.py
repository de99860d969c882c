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


# Where a Spark field's metadata (Glow's ``vcf_header_description``...) travels in Arrow.
SPARK_METADATA_KEY = b"spark.metadata"


def arrow_with_metadata(schema) -> Optional[pa.Schema]:
    """:func:`arrow_of` keeping each field's Spark metadata (JSON, under
    :data:`SPARK_METADATA_KEY`), also of the fields of structs inside arrays."""
    if schema is None:
        return None
    arrow = arrow_of(schema)
    return pa.schema([_with_metadata(a, s) for a, s in zip(arrow, schema.fields)])


def _with_metadata(arrow: pa.Field, spark) -> pa.Field:
    import json

    from pyspark.sql.types import ArrayType, StructType

    data_type, spark_type = arrow.type, spark.dataType
    if isinstance(spark_type, ArrayType) and isinstance(spark_type.elementType, StructType) \
            and pa.types.is_list(data_type):
        inner = pa.struct([_with_metadata(a, s) for a, s in zip(data_type.value_type, spark_type.elementType.fields)])
        arrow = arrow.with_type(pa.list_(inner))
    return arrow.with_metadata({SPARK_METADATA_KEY: json.dumps(spark.metadata)}) if spark.metadata else arrow
