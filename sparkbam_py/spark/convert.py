"""BAM to Parquet or Delta, written by the executors themselves (no JVM row conversion).

The ``bam_convert`` data source (``convert_source``) does the work: each partition decodes
its split into Arrow and writes its Parquet files itself (pyarrow, into a staging folder,
under attempt-unique names), then yields one row per file.  The driver collects those rows
(Spark keeps only the successful attempt's) and commits exactly those files.  Being a data
source, it runs the same under Spark Connect (the server plans and writes; the client only
collects a few rows).  pyspark is imported when ``convert`` runs, not when this module is.
"""
from __future__ import annotations

import json
import os
from typing import Callable, List, Optional, Sequence

from ..bam.typed_tags import AUTO, TYPED_TAGS, resolve_tag_spec
from ..convert.commit import ConvertResult, abort, commit, prepare_output
from ..convert.target import OutputTarget, storage_items
from ..convert.writer import WrittenFile
from ..errors import ConfigError
from ..text.read import text_format_of
from .paths import PathsArgument, expand_paths
from .plan import ColumnPlan, ReadOptions
from .task_sizing import balanced_split_size_for, task_slots


def convert(spark, paths: PathsArgument, out: str, *, to: str = "parquet", partition_by: Optional[str] = None,
            columns: Optional[Sequence[str]] = None, mode: str = "error", split_size=None,
            row_group_bytes: Optional[int] = None, compression: Optional[str] = None,
            storage_options: Optional[dict] = None, tags: Optional[str] = None, format: Optional[str] = None,
            **read_options) -> ConvertResult:
    """Convert BAMs to Parquet files (with ``_SUCCESS``) or a Delta table at ``out`` (any fsspec URL).

    Bgzipped text converts too (``spark.text_convert``): ``format`` (``vcf``, ``bed``, ``gff``,
    ``tabix``, ``bgzf_text``; default: from the first path's name, ``calls.vcf.gz`` is ``vcf``),
    with that source's options as ``read_options`` (``includeSampleIds="false"``...).

    The columns and types are exactly those of ``spark.read.format("bam")`` (``columns``
    narrows them), so reading the output back gives the same rows.  ``partition_by``
    (``"reference_name"``) writes Hive-style folders.  ``mode``: ``error`` (default) refuses
    a non-empty output, ``overwrite`` replaces it, ``append`` adds to a Delta table.
    Without ``split_size``, local inputs are cut into equal tasks filling whole waves of the
    session's task slots (``spark.task_sizing``).
    ``tags`` (``"NM:i,MD:Z"`` or ``"auto"``) adds the ``typed_tags`` struct column, as the
    ``bam`` source's ``tags`` option does.  ``read_options`` are the ``bam`` source's (``reads_to_check``, ``verify_splits``, ...).
    """
    text_format = format or text_format_of(paths)
    if text_format not in (None, "bam"):
        if columns is not None or tags is not None:
            raise ConfigError("columns and tags apply to BAM; a text conversion writes the format's columns")
        from .text_convert import convert_text  # imports pyspark

        return convert_text(spark, paths, out, text_format, to=to, partition_by=partition_by, mode=mode,
                            split_size=split_size, row_group_bytes=row_group_bytes, compression=compression,
                            storage_options=storage_options, options=read_options)
    if split_size is None:
        split_size = balanced_split_size_for(paths, task_slots(spark))
    conversion = Conversion.prepare(paths, out, to=to, partition_by=partition_by, columns=columns, mode=mode,
                                    split_size=split_size, row_group_bytes=row_group_bytes, compression=compression,
                                    storage_options=storage_options, tags=tags, **read_options)
    return conversion.run(lambda: _write_files(spark, paths, conversion.options, conversion.plan, conversion.target))


class Conversion:
    """What a conversion writes and how it commits, whoever runs its tasks (Spark or local)."""

    def __init__(self, options: ReadOptions, plan: ColumnPlan, target: OutputTarget, to: str, mode: str):
        self.options, self.plan, self.target, self.to, self.mode = options, plan, target, to, mode

    @classmethod
    def prepare(cls, paths: PathsArgument, out: str, *, to: str, partition_by: Optional[str], columns, mode: str,
                split_size, row_group_bytes: Optional[int], compression: Optional[str],
                storage_options: Optional[dict], tags: Optional[str], **read_options) -> "Conversion":
        """Options and columns checked, the output target named (nothing written yet)."""
        options = ReadOptions.of(split_size=split_size, **read_options)
        plan = _column_plan(paths, columns, tags)
        if partition_by is not None and partition_by not in plan.arrow_schema.names:
            raise ConfigError(f"partition column {partition_by!r} is not among the converted columns")
        extra = {k: v for k, v in (("row_group_bytes", row_group_bytes), ("compression", compression)) if v is not None}
        target = OutputTarget(os.fspath(out), to, partition_by=partition_by,
                              storage_options=storage_items(storage_options), **extra)
        return cls(options, plan, target, to, mode)

    def run(self, write_files: Callable[[], List[WrittenFile]]) -> ConvertResult:
        """Prepare the output, let ``write_files`` write every task's files, commit exactly
        those; on any failure remove what was staged."""
        prepare_output(self.target, self.to, self.mode)
        try:
            return commit(self.target, self.to, self.mode, self.plan.arrow_schema, write_files())
        except BaseException:
            abort(self.target)
            raise


def _write_files(spark, paths, options: ReadOptions, plan: ColumnPlan, target: OutputTarget) -> List[WrittenFile]:
    from .convert_source import COLUMNS_OPTION, CONVERT_FORMAT, TARGET_OPTION, BamConvertDataSource, target_to_json
    from .plan import TAGS_OPTION

    spark.dataSource.register(BamConvertDataSource)
    reader = (spark.read.format(CONVERT_FORMAT).options(**options.to_options())
              .option(TARGET_OPTION, target_to_json(target))
              .option(COLUMNS_OPTION, json.dumps(list(plan.arrow_schema.names))))
    if plan.tag_spec is not None:
        reader = reader.option(TAGS_OPTION, str(plan.tag_spec))
    load_argument = os.fspath(paths) if isinstance(paths, (str, os.PathLike)) else [os.fspath(p) for p in paths]
    return [WrittenFile(*row) for row in reader.load(load_argument).collect()]


def _column_plan(paths, columns: Optional[Sequence[str]], tags: Optional[str]) -> ColumnPlan:
    if tags is None:
        return ColumnPlan.of(columns)
    first = next(iter(expand_paths(paths)), None) if str(tags).strip().lower().startswith(AUTO) else None
    spec = resolve_tag_spec(tags, first)
    if columns is not None and TYPED_TAGS not in columns:
        columns = list(columns) + [TYPED_TAGS]
    return ColumnPlan.of(columns, tags=spec)
