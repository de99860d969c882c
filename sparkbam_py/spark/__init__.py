"""Spark: a data source per registered format, the DataFrame/RDD loaders and session helpers.

Usage, in a notebook or a spark-submit job::

    import sparkbam_py
    spark = sparkbam_py.get_spark()              # or an existing session (Connect too)
    sparkbam_py.register(spark)
    reads = spark.read.format("bam").option("splitSize", "64m").load("s3://bucket/run/*.bam")
    reads = sparkbam_py.load_reads(spark, "/data/x.bam", columns=["query_name", "flag"])
    total = sparkbam_py.count_reads(spark, "/data/x.bam")

Executors need this library and its dependencies.  Either install it on every node (the
same environment the driver uses: ``pip install sparkbam_py`` in a cluster init script or
image) and point Spark at that interpreter with ``spark.pyspark.python`` (``get_spark``
does this for local sessions; under spark-submit pass ``--conf
spark.pyspark.python=/path/to/python``); or ship the package's own code with
``--py-files`` (an archive from ``python -m sparkbam_py.cli.launcher --build-py-files
sparkbam.zip``), with numpy, pyarrow, pysam, cachetools, fsspec and isal installed on the
nodes.  Under Spark Connect, the package must be importable by the server's Python workers.

Spark 3.5 has no Python data sources: there the loaders (``load_reads``, ``load_cram``,
``load_vcf``, ``load_bed``, ``load_gff``, ``load_tabix``, ``load_lines``) fall back to
``mapInArrow`` over a DataFrame of pickled split tasks (``method="mapInArrow"`` forces it),
and ``register`` refuses with a typed error naming the version.  Which format a path is (BAM, CRAM...) is
decided once, by :mod:`sparkbam_py.formats`; this layer holds no per-format code.
"""
from __future__ import annotations

from .api import (
    compute_splits,
    count_reads,
    load_cram,
    load_reads,
    load_reads_and_positions,
    load_splits_and_reads,
    map_partitions,
    register,
)
from .session import get_spark
from .text_api import load_bed, load_gff, load_lines, load_tabix, load_vcf

__all__ = [
    "compute_splits",
    "count_reads",
    "get_spark",
    "load_bed",
    "load_cram",
    "load_gff",
    "load_lines",
    "load_reads",
    "load_reads_and_positions",
    "load_splits_and_reads",
    "load_tabix",
    "load_vcf",
    "map_partitions",
    "register",
]
