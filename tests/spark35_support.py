"""What the Spark 3.5 tests compare: DataFrames as Arrow tables, the local driver's reading
of one format, and the same loads, conversions and writes made on the other pyspark line.

Run as a script by another environment's interpreter (``python spark35_support.py
CASES.json OUT``), it starts a local session of *its* pyspark and writes each case's output
through the data sources (``spark.read.format``, ``df.write``), so a test on Spark 3.5 can
compare its loaders with Spark 4's data sources on the same files.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

import sparkbam_py
from sparkbam_py.formats import format_named, read_of
from sparkbam_py.formats.options import options_of

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"
LOADERS = {"bam": "load_reads", "cram": "load_cram", "vcf": "load_vcf", "bed": "load_bed", "gff": "load_gff",
           "tabix": "load_tabix", "bgzf_text": "load_lines"}


@dataclass(frozen=True)
class Case:
    """One load (``kind="read"``), conversion to Parquet or BAM write of ``path``."""

    name: str
    kind: str
    format: str
    path: str
    split_size: str
    options: Dict[str, object] = field(default_factory=dict)  # the loader's keywords


def frame_table(frame) -> pa.Table:
    """A classic session's DataFrame collected as Arrow (``toArrow`` came with Spark 4)."""
    if hasattr(frame, "toArrow"):
        return frame.toArrow()
    from pyspark.sql.pandas.types import to_arrow_schema

    return pa.Table.from_batches(frame._collect_as_arrow(), schema=to_arrow_schema(frame.schema))


def local_table(path: str, format_name: str, split_size: str, options: dict) -> pa.Table:
    """``path`` read as ``format_name`` by the local driver: every task, in order, here."""
    read = read_of(format_named(format_name), path, "local_table", None, split_size=split_size, **options)
    batches = [batch for task in read.tasks() for batch in read.read(task)]
    return pa.Table.from_batches(batches, schema=read.arrow_schema)


def data_source_frame(spark, case: Case):
    """``case`` read through ``spark.read.format`` (Spark >= 4)."""
    sparkbam_py.register(spark)
    return spark.read.format(case.format).options(**options_of(split_size=case.split_size, **case.options)) \
        .load(case.path)


def loader_frame(spark, case: Case, **extra):
    """``case`` read through its loader function (``load_vcf``...)."""
    loader = getattr(sparkbam_py, LOADERS[case.format])
    return loader(spark, case.path, case.split_size, **case.options, **extra)


def write_outputs(spark, cases: List[Case], out: Path, frame_of, engine: str = "auto") -> None:
    """Each case's output under ``out``: ``<name>.arrow`` for a read, a Parquet folder for a
    conversion, ``<name>.bam`` for a write (by ``write_bam``'s ``engine``); reads are made
    by ``frame_of(spark, case)``."""
    for case in cases:
        if case.kind == "read":
            table = frame_table(frame_of(spark, case))
            with ipc.new_file(str(out / f"{case.name}.arrow"), table.schema) as sink:
                sink.write_table(table)
        elif case.kind == "convert":
            sparkbam_py.convert(spark, case.path, str(out / case.name), split_size=case.split_size, **case.options)
        elif case.kind == "write_bam":
            source = frame_of(spark, Case(case.name, "read", "bam", case.path, case.split_size))
            sparkbam_py.write_bam(source, str(out / f"{case.name}.bam"), header_from=case.path, engine=engine)
        else:
            raise ValueError(f"unknown case kind {case.kind!r}")


def read_output(out: Path, case: Case):
    """What :func:`write_outputs` left for ``case``: an Arrow table, or a BAM's path."""
    if case.kind == "read":
        with ipc.open_file(str(out / f"{case.name}.arrow")) as source:
            return source.read_all()
    if case.kind == "convert":
        return pq.read_table(out / case.name)
    return out / f"{case.name}.bam"


def cases_to_json(cases: List[Case]) -> str:
    return json.dumps([asdict(case) for case in cases])


def main(argv: List[str]) -> int:
    from sparkbam_py.spark.session import get_spark

    cases = [Case(**fields) for fields in json.loads(Path(argv[0]).read_text())]
    spark = get_spark("sparkbam-reference", master="local[2]",
                      config={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"})
    try:
        write_outputs(spark, cases, Path(argv[1]), data_source_frame)
        print(spark.version)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
