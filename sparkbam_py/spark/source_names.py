"""Names the data sources and the loaders share, importable on Spark 3.5 (which has no
``pyspark.sql.datasource``, so :mod:`.sources` is imported only where sources are used)."""
from __future__ import annotations

# format(name + "_splits"): one row per partition; its option "count" adds the record counts.
SPLITS_SUFFIX = "_splits"
COUNT_OPTION = "count"
# Off by default in pyspark 4.x; while off, a reader that defines pushFilters fails to read.
PUSHDOWN_CONF = "spark.sql.python.filterPushdown.enabled"
# Inflated bytes decoded per Arrow batch handed to the JVM (~14 k short reads).  Each batch
# crosses from the Python worker to the JVM as one Arrow message; against the walk's 1 MiB
# chunks (~3.5 k reads) these took ~10% less CPU in the worker and the JVM together for the
# full-schema DataFrame of the short-read bench BAM (bench/bench_native.py, noop job), though
# decoding alone is no faster.  Batches that stay in Python (Parquet, local) keep 1 MiB.
SPARK_BATCH_BYTES = 4 << 20
# The rows of a conversion's tasks: one per Parquet file a task wrote (``convert``).
CONVERTED_FILES_SCHEMA = ("staged string, final string, partition_value string, rows bigint, size bigint, "
                          "stats string")
