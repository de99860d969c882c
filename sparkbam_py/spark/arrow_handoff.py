"""How Spark hands rows to a Python writer in Arrow batches, set for nested rows.

Spark 4 caps each Arrow batch it sends to Python (``mapInArrow``, Python data source
writers) at ``spark.sql.execution.arrow.maxBytesPerBatch`` (64 MB by default) as well as at
``maxRecordsPerBatch`` rows.  To honour the byte cap it asks the open batch for its size after
*every* row, and for list and struct columns Arrow's Java vectors answer that by walking the
whole batch so far: the cost of a batch grows with the square of its rows.  VCF rows with
100 samples' genotypes (a list of structs of lists) spent ~90% of a write there (bench
``bench/bench_text_write.py``).  At ``Int.MaxValue`` Spark skips the size check altogether
(``BatchedPythonArrowInput.underBatchSizeLimit``), and batches are cut by rows alone.

Spark 3.5 has no byte cap (its batches are cut by rows only), so nothing is set there.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from .session import spark_major_version

MAX_BYTES_PER_BATCH = "spark.sql.execution.arrow.maxBytesPerBatch"
UNCHECKED_BYTES = str(2**31 - 1)  # Int.MaxValue: the value at which Spark skips the check
FIRST_SPARK_WITH_BYTE_CAP = 4


@contextmanager
def rows_only_batches(spark) -> Iterator[None]:
    """Within the block, the session cuts Arrow batches to Python by rows only; the
    session's own setting is restored after (also over Spark Connect)."""
    if spark_major_version(spark) < FIRST_SPARK_WITH_BYTE_CAP:
        yield
        return
    before = spark.conf.get(MAX_BYTES_PER_BATCH, None)
    spark.conf.set(MAX_BYTES_PER_BATCH, UNCHECKED_BYTES)
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(MAX_BYTES_PER_BATCH)
        else:
            spark.conf.set(MAX_BYTES_PER_BATCH, before)
