"""``load_intervals``: a DataFrame of the reads overlapping some regions, read via the index.

The driver plans :class:`~sparkbam_py.intervals.IntervalPartition` s (index chunks, merged,
cut at record starts, grouped by estimated size); Spark runs one task per partition.  The
partitions ride in the task closure and ``spark.range(n, numPartitions=n)`` hands task ``i``
the number ``i``, so this works on classic Spark and on Spark Connect alike (no RDDs).
"""
from __future__ import annotations

from typing import Iterator, List, Optional, Sequence

import pyarrow as pa

from ..bam.schema import spark_ddl
from ..formats import format_for
from ..intervals import IntervalPartition, plan_interval_partitions, read_interval_partition
from ..intervals.plan import RegionsLike


def load_intervals(spark, path, intervals: RegionsLike, split_size=None, columns: Optional[Sequence[str]] = None,
                   *, with_file_position: bool = False, index_path: Optional[str] = None,
                   use_bai_json: bool = True, verify_checksums: bool = True):
    """The reads of a BAM overlapping some regions, each once, in file order, via its index.

    Needs a ``.bai``/``.csi`` (or ``.bai.json`` + ``.bai``) beside the BAM, or ``index_path``.
    Overlap follows htslib's rule; a read overlapping several regions comes back once.

    Args:
        spark: a SparkSession (classic or Connect).
        path: one BAM, local or URL.
        intervals: samtools region strings, as a list or one comma-separated string
            (``["chr1:1000-2000", "chr2", "*"]``; ``"*"`` is the unplaced unmapped reads), or
            ``sparkbam_py.index.regions.Region`` objects.
        split_size: caps the estimated compressed bytes per partition (default 32 MiB;
            ``"4m"`` works).
        columns: the columns to decode (pysam names; default all).
        with_file_position: add each read's virtual offset as ``file_position``.
        index_path: the index, when it is not beside the BAM.
        use_bai_json: read a ``.bai.json`` beside the ``.bai`` when there is one.
        verify_checksums: check every BGZF block's CRC32.

    Returns:
        A ``pyspark.sql.DataFrame`` (empty when no region holds a read).
    """
    format_for(path, ("bam",), "load_intervals")  # CRAM: load_cram(..., intervals=...) reads through the .crai
    partitions = plan_interval_partitions(path, intervals, split_size, index_path=index_path,
                                          use_bai_json=use_bai_json, verify_checksums=verify_checksums)
    return dataframe_of_partitions(spark, partitions, columns, with_file_position)


def dataframe_of_partitions(spark, partitions: List[IntervalPartition], columns: Optional[Sequence[str]] = None,
                            with_file_position: bool = False):
    """One Spark partition per planned partition (an empty DataFrame when there are none)."""
    schema = spark_ddl(columns, with_file_position)
    if not partitions:
        return spark.createDataFrame([], schema)
    columns = None if columns is None else list(columns)

    def read_partitions(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for number in batch.column(0).to_pylist():
                yield from read_interval_partition(partitions[number], columns, with_file_position)

    count = len(partitions)
    return spark.range(0, count, 1, count).mapInArrow(read_partitions, schema)
