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

Rows that each hold many nested elements (a VCF line's genotypes, one per sample) also go in
fewer rows per batch (``maxRecordsPerBatch``, 10,000 by default): about
:data:`ELEMENTS_PER_BATCH` elements each.  Spark's Arrow writer fills its vectors row by row,
and for 100-sample lines batches of 1,000 rows took less of its time than batches of 10,000
(bench ``bench/bench_text_write.py``); batches of flat rows keep the session's size, since
each batch costs the Python writer a fixed number of Arrow calls.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from .session import spark_major_version

MAX_BYTES_PER_BATCH = "spark.sql.execution.arrow.maxBytesPerBatch"
MAX_RECORDS_PER_BATCH = "spark.sql.execution.arrow.maxRecordsPerBatch"
ELEMENTS_PER_BATCH = 100_000
MIN_ROWS_PER_BATCH = 1_000
UNCHECKED_BYTES = str(2**31 - 1)  # Int.MaxValue: the value at which Spark skips the check
FIRST_SPARK_WITH_BYTE_CAP = 4


def rows_per_batch(elements_per_row: int, session_rows: int) -> Optional[int]:
    """The rows per batch for rows of ``elements_per_row`` nested elements each; None where
    the session's ``session_rows`` stand."""
    rows = max(MIN_ROWS_PER_BATCH, ELEMENTS_PER_BATCH // max(elements_per_row, 1))
    return rows if rows < session_rows else None


@contextmanager
def rows_only_batches(spark, elements_per_row: int = 0) -> Iterator[None]:
    """Within the block, the session cuts Arrow batches to Python by rows only, fewer rows
    when each has ``elements_per_row`` nested elements; the session's own settings are
    restored after (also over Spark Connect)."""
    settings = {}
    if spark_major_version(spark) >= FIRST_SPARK_WITH_BYTE_CAP:
        settings[MAX_BYTES_PER_BATCH] = UNCHECKED_BYTES
    rows = rows_per_batch(elements_per_row, int(spark.conf.get(MAX_RECORDS_PER_BATCH, "10000")))
    if rows is not None:
        settings[MAX_RECORDS_PER_BATCH] = str(rows)
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
