"""The Spark-free driver: the executor code run in this process or in local worker processes.

    import sparkbam_py
    table = sparkbam_py.read_table("sample.bam", columns=["query_name", "flag"], workers=2)
    for batch in sparkbam_py.iter_batches("runs/*.bam", split_size="64m"):
        ...
    sparkbam_py.convert_local("sample.bam", "sample.parquet", workers=2)
"""
from __future__ import annotations

from .convert import convert_local
from .reader import iter_batches, read_table

__all__ = ["convert_local", "iter_batches", "read_table"]
