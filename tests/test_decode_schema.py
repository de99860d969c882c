"""The decoder's schema, its Spark DDL twin, and column-name validation."""
from __future__ import annotations

import pyarrow as pa
import pytest

from sparkbam_py.bam.schema import DEFAULT_COLUMNS, FILE_POSITION, bam_schema, resolve_columns, spark_ddl
from sparkbam_py.errors import ConfigError


def test_default_schema_types_and_nullability():
    schema = bam_schema()
    assert schema.names == list(DEFAULT_COLUMNS)
    assert schema.field("flag").type == pa.int32() and not schema.field("flag").nullable
    assert schema.field("reference_end").nullable and schema.field("cigar").nullable
    assert schema.field("query_name").type == pa.string() and not schema.field("query_name").nullable
    assert schema.field("tags").type == pa.map_(pa.string(), pa.string())


def test_file_position_is_last_and_int64():
    schema = bam_schema(["flag"], with_file_position=True)
    assert schema.names == ["flag", FILE_POSITION]
    assert schema.field(FILE_POSITION).type == pa.int64()


def test_spark_ddl_matches_the_schema():
    ddl = spark_ddl(["query_name", "reference_end", "tags"], with_file_position=True)
    assert ddl == (
        "query_name string NOT NULL, reference_end int, tags map<string,string> NOT NULL, "
        "file_position bigint NOT NULL"
    )
    # Every default column has a Spark type.
    assert spark_ddl().count(",") == len(DEFAULT_COLUMNS) - 1 + spark_ddl().count("map<string,")


def test_unknown_columns_list_the_valid_names():
    with pytest.raises(ConfigError) as caught:
        bam_schema(["flag", "sequence"])
    message = str(caught.value)
    assert "'sequence'" in message and "query_sequence" in message and "tags" in message


@pytest.mark.parametrize("columns", ["flag", ["flag", "flag"]])
def test_bad_column_lists(columns):
    with pytest.raises(ConfigError):
        resolve_columns(columns)


def test_caller_order_is_kept():
    assert resolve_columns(["tags", "flag"]) == ("tags", "flag")
    assert resolve_columns(None) == DEFAULT_COLUMNS
