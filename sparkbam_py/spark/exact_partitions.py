"""Rows sent to the partition we choose, through Spark's own hash partitioning, no sampling.

``repartitionByRange`` decides its bounds by computing its whole input once before the
shuffle (a sampling job), which for BAM means reading and decoding everything twice.  When
we know each row's partition already, ``repartition(n, column)`` can place it exactly: that
hash-partitions on ``pmod(hash(column), n)``, so the column holds, for partition p, an int
whose hash lands in p.  Those ints are asked of the running Spark itself (one tiny job), so
they hold for its hash function whatever its version.  Adaptive execution keeps a
user-given partition count; where it merges neighbouring partitions, their order stays.
"""
from __future__ import annotations

from typing import List

# Ints searched per partition wanted: about n log n draws fill every one of n partitions.
_SEARCH_FACTOR = 64


def partition_values(spark, partitions: int) -> List[int]:
    """``values[p]``: an int that ``repartition(partitions, column)`` sends to partition p."""
    from pyspark.sql import functions as F

    search = _SEARCH_FACTOR * max(partitions, 1)
    while True:
        ints = spark.range(search).select(F.col("id").cast("int").alias("value"))
        landing = ints.select("value", F.pmod(F.hash("value"), F.lit(partitions)).alias("partition"))
        found = {row.partition: row.value for row in landing.groupBy("partition").agg(F.min("value").alias("value"))
                 .collect()}
        if len(found) == partitions:
            return [found[p] for p in range(partitions)]
        search *= 4  # pragma: no cover - 64 draws per partition miss one with negligible odds


def exactly_partitioned(df, column: str, partitions: int):
    """``df`` shuffled so that a row whose ``column`` is ``partition_values(...)[p]`` lands in p."""
    return df.repartition(partitions, column)
