"""The user-facing loaders, named after spark-bam's (``loadReads`` -> ``load_reads``...).

Each asks the format registry (:mod:`sparkbam_py.formats`) which format its input is, among
the formats it takes (BAM and CRAM for the read loaders), and reads through that format's
object; nothing here knows a format.  On Spark >= 4 the DataFrame loaders go through the
Python data source, so they also work under Spark Connect (Databricks notebooks), where
RDDs do not exist; on Spark 3.5 they fall back to ``mapInArrow`` over a DataFrame of pickled
split tasks (planned on the driver).  ``count_reads`` and ``compute_splits`` run plain RDD
tasks on a classic session (cheaper than a data source job) and the ``<format>_splits``
data source under Connect.  ``map_partitions`` uses the RDD API and so needs a classic
session; ``map_splits`` (:mod:`.map_splits`) runs the same function on any session.
"""
from __future__ import annotations

import pickle
from functools import partial
from typing import Callable, List, Optional, Sequence, Tuple

from ..bam.columns import ColumnPlan
from ..bam.pysam_split import apply_to_split, pysam_path
from ..errors import ConfigError
from ..formats import READ_FORMATS, Format, FormatRead, open_read, options_of
from ..formats.paths import PathsArgument, load_argument
from ..formats.sizing import count_split_size_for
from ..split import Split, splits_from_starts
from .executor import read_task_column
from .schemas import spark_of
from .session import is_connect, spark_major_version
from .slots import task_slots
from .source_names import COUNT_OPTION, SPLITS_SUFFIX

DATASOURCE, ARROW = "datasource", "mapInArrow"
METHODS = ("auto", DATASOURCE, ARROW)
FIRST_DATASOURCE_SPARK = 4


def register(spark, pushdown: bool = False) -> None:
    """Make ``spark.read.format(name)`` available in this session for every format.

    The names are ``bam``, ``cram``, ``vcf``, ``bed``, ``gff``, ``tabix``, ``bgzf_text``,
    ``bam_splits`` and ``cram_splits``; ``df.write.format("bam")`` too. Needs Spark 4 (Python
    data sources); works on a classic session and over Spark Connect.

    Args:
        spark: the session to register in.
        pushdown: also read filters on the contig and start columns through the index
            (sets ``spark.sql.python.filterPushdown.enabled``).

    Raises:
        ConfigError: on Spark 3.5, naming the version (the loader functions work there).
    """
    if spark_major_version(spark) < FIRST_DATASOURCE_SPARK:
        raise ConfigError(f"Python data sources need Spark >= 4.0 (this is {spark.version}); "
                          "load_reads and count_reads work there through mapInArrow")
    from .sources import register as register_sources

    register_sources(spark, pushdown)


def load_reads(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, *,
               reads_to_check=None, max_read_size=None, bgzf_blocks_to_check=None, verify_splits: bool = True,
               method: str = "auto", verify_checksums: bool = True):
    """A DataFrame of the reads of BAM or CRAM files, one partition per split.

    The format is found from the file's bytes. On Spark 4 this reads through the ``bam`` (or
    ``cram``) data source, so it also works over Spark Connect; on Spark 3.5 through
    ``mapInArrow`` over split tasks planned on the driver.

    Args:
        spark: a SparkSession (classic or Connect).
        path: a file, glob, directory or list of them; local or any fsspec/HTTP URL.
        split_size: bytes per partition (default 32 MiB; ``"64m"`` accepted).
        columns: the columns to decode, by pysam's names (default all); ``file_position`` and
            ``file_path`` may be added.
        reads_to_check: records a candidate record start must chain through (BAM; default 10).
        max_read_size: positions searched for a record start before giving up (BAM; default 1e8).
        bgzf_blocks_to_check: block headers a candidate block must chain through (BAM; default 5).
        verify_splits: check that each partition's last record chains onto the next one's first.
        method: ``"auto"``, ``"datasource"`` or ``"mapInArrow"`` (Spark 3.5's path, on any version).
        verify_checksums: check every BGZF block's CRC32 (on by default).

    Returns:
        A ``pyspark.sql.DataFrame`` with pysam's column names.

    Raises:
        UnsupportedFormatError: the input is another format (a VCF...), named in the message.
    """
    options = dict(reads_to_check=reads_to_check, max_read_size=max_read_size,
                   bgzf_blocks_to_check=bgzf_blocks_to_check, verify_splits=verify_splits,
                   verify_checksums=verify_checksums, method=method)
    return _load_as(spark, path, READ_FORMATS, "load_reads", columns, split_size, options)


def load_cram(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None, **options):
    """A DataFrame of the reads of CRAM files, with exactly the columns of :func:`load_reads`.

    Args:
        spark: a SparkSession (classic or Connect).
        path: a CRAM file, glob, directory or list; local or URL.
        split_size: bytes per partition (default 32 MiB).
        columns: the columns to decode (default all; ``file_path`` may be added).
        **options: ``reference`` (a FASTA path or URL, ``.fai`` beside it; default: where
            htslib looks), ``verify_splits``, ``use_index`` (the ``.crai``, default true),
            ``containers_to_check`` (default 3), ``intervals`` (samtools regions).

    Returns:
        A ``pyspark.sql.DataFrame``.
    """
    return _load_as(spark, path, ("cram",), "load_cram", columns, split_size, options)


def load_reads_and_positions(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None,
                             **options):
    """:func:`load_reads` of BAM files plus ``file_position``, each record's BGZF virtual offset.

    Args:
        spark: a SparkSession.
        path: BAM files (a file, glob, directory or list; local or URL).
        split_size: bytes per partition (default 32 MiB).
        columns: the record columns (default all); ``file_position`` is added last.
        **options: :func:`load_reads`' keywords.

    Returns:
        A ``pyspark.sql.DataFrame`` whose ``file_position`` is a bigint (``block << 16 | offset``).
    """
    positioned = ColumnPlan.of(columns, with_file_position=True).arrow_schema
    return _load_as(spark, path, ("bam",), "load_reads_and_positions", positioned, split_size, options)


def load_splits_and_reads(spark, path: PathsArgument, split_size=None, columns: Optional[Sequence[str]] = None,
                          **options) -> Tuple[List[Split], object]:
    """The splits a load uses (as :func:`compute_splits` finds them) and its DataFrame.

    Args:
        spark: a SparkSession.
        path: one BAM or CRAM file.
        split_size: bytes per partition (default 32 MiB).
        columns: the columns to decode (default all).
        **options: :func:`load_reads`' keywords.

    Returns:
        ``(splits, reads)``: a list of :class:`Split` and a ``pyspark.sql.DataFrame``.
    """
    splits = compute_splits(spark, path, split_size, **options)
    return splits, load_reads(spark, path, split_size, columns, **options)


def compute_splits(spark, path: PathsArgument, split_size=None, **options) -> List[Split]:
    """spark-bam's splits of one file, found on the executors by the search the loads use.

    Args:
        spark: a SparkSession (classic or Connect).
        path: one BAM or CRAM file, local or URL.
        split_size: bytes per byte range (default 32 MiB).
        **options: :func:`load_reads`' keywords.

    Returns:
        A list of ``Split(first record, next split's first record)``, one per non-empty
        range, the last ending at ``Pos(file size, 0)`` (CRAM: first containers, as
        ``Pos(offset, 0)``).
    """
    source_format, rows = _rows_of(spark, path, "compute_splits", split_size, options, count=False)
    files = {row[0] for row in rows}
    if len(files) != 1:
        raise ConfigError(f"compute_splits takes one file; {path!r} names {len(files)}")
    rows.sort(key=lambda row: row[1])
    return splits_from_starts([source_format.split_start(row[3]) for row in rows], rows[-1][2])


def count_reads(spark, path: PathsArgument, split_size=None, **options) -> int:
    """How many reads BAM or CRAM files hold, counted without decoding a record.

    Each split walks its block_size chain (CRAM: sums its container headers' counts, so no
    reference is needed). Without ``split_size``, local BAMs are cut into one task per task
    slot: a count's tasks are light, so Spark's fixed cost per task weighs more than balance.

    Args:
        spark: a SparkSession (classic or Connect).
        path: a file, glob, directory or list; local or URL.
        split_size: bytes per split (default 32 MiB).
        **options: :func:`load_reads`' keywords (``verify_checksums``...).

    Returns:
        The number of records.
    """
    if split_size is None:  # one streaming task per slot (formats/sizing.py)
        split_size = count_split_size_for(path, task_slots(spark))
    return sum(row[4] for row in _rows_of(spark, path, "count_reads", split_size, options, count=True)[1])


def map_partitions(spark, path: PathsArgument, fn: Callable, split_size=None, **options):
    """An RDD with ``fn(iterator of pysam.AlignedSegment)`` for every split of a BAM.

    pysam opens the file inside each task (its handles neither pickle nor survive a fork),
    so ``path`` must be something htslib opens: local, ``file://``, ``http(s)://``, ``s3://``, ``gs://``.
    Needs a classic session (RDDs); :func:`map_splits` runs the same function on any session.

    Args:
        spark: a classic SparkSession.
        path: BAM files (a file, glob, directory or list).
        fn: called once per split with an iterator of the split's records.
        split_size: bytes per split (default 32 MiB).
        **options: :func:`load_reads`' checker keywords.

    Returns:
        A ``pyspark.RDD`` with one element per split: what ``fn`` returned.

    Raises:
        ConfigError: on a Spark Connect session.
    """
    if is_connect(spark):
        raise ConfigError("map_partitions needs RDDs, which Spark Connect does not have; "
                          "use map_splits (the same function, any session) or load_reads")
    tasks = open_read(path, ("bam",), "map_partitions", None, split_size=split_size, **options)[1].tasks()
    for task in {task.path: task for task in tasks}.values():
        pysam_path(task.path)
    return spark.sparkContext.parallelize(tasks, max(len(tasks), 1)).map(partial(apply_to_split, fn=fn))


# -- how each loader runs ------------------------------------------------------------------


def _method(spark, method: str) -> str:
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "auto":
        return DATASOURCE if spark_major_version(spark) >= FIRST_DATASOURCE_SPARK else ARROW
    return method


def _load_as(spark, path: PathsArgument, accepted: Sequence[str], entry: str, columns, split_size,
             options: dict):
    method = options.pop("method", "auto")
    source_format, read = open_read(path, accepted, entry, columns, split_size=split_size, **options)
    return _load(spark, path, source_format, read, options_of(split_size=split_size, **options), method)


def _rows_of(spark, path: PathsArgument, entry: str, split_size, options: dict, count: bool):
    method = options.pop("method", "auto")
    source_format, read = open_read(path, READ_FORMATS, entry, None, split_size=split_size, **options)
    split_options = options_of(split_size=split_size, **options)
    return source_format, _split_rows(spark, path, source_format, read, split_options, count, method)


def _load(spark, path: PathsArgument, source_format: Format, read: FormatRead, options: dict, method: str):
    schema = spark_of(read.arrow_schema)
    if _method(spark, method) == DATASOURCE:
        register(spark)
        return spark.read.format(source_format.name).options(**options).schema(schema).load(load_argument(path))
    tasks = read.tasks()
    rows = [(index, pickle.dumps(task)) for index, task in enumerate(tasks)]
    # One task per partition where the range partitioner manages it, in file order.
    frame = (spark.createDataFrame(rows, "task_index int, task binary")
             .repartitionByRange(len(tasks), "task_index").sortWithinPartitions("task_index"))
    return frame.mapInArrow(partial(read_task_column, read=read), schema)


def _split_rows(spark, path: PathsArgument, source_format: Format, read, options: dict, count: bool,
                method: str) -> list:
    """(path, range_start, range_end, first unit or None, records or None) per partition.

    A classic session runs them as plain RDD tasks (each data source job also starts Python
    planning workers, ~1 s that a count should not pay); Spark Connect uses ``<format>_splits``.
    """
    chosen = _method(spark, method)
    if chosen == DATASOURCE and (method == DATASOURCE or is_connect(spark)):
        register(spark)
        reader = (spark.read.format(source_format.name + SPLITS_SUFFIX).options(**options)
                  .option(COUNT_OPTION, str(count).lower()))
        return [tuple(row) for row in reader.load(load_argument(path)).collect()]
    tasks = read.tasks()
    return spark.sparkContext.parallelize(tasks, max(len(tasks), 1)).map(partial(read.split_row, count=count)).collect()
