"""Spark loading (issue 4): counting, decoding and split-start search, beside the reference tools.

For each BAM, in one warm ``local[2]`` session and the same run:

1. ``count``: ``count_reads`` (each split walks its block_size chain; RDD tasks on this
   classic session, and forced through the ``bam_splits`` data source as under Connect)
   against ``samtools view -c -@2`` on the same file; wall times, medians of ``--repeats``.
2. ``decode``: the full-schema DataFrame (``spark.read.format("bam")``, all 13 columns) reduced
   to ``sum(length(query_sequence))``; the same with only ``query_sequence`` decoded; and
   ``map_partitions`` over pysam on the same splits computing the same sum; records/s per
   core (2 cores).  The sums must agree.  Beside them, the executor code alone in this
   process (walk + decode of all columns, no Spark), which separates Python decoding from
   Spark's Arrow-to-row conversion.
3. ``ingest``: Spark's own cost of taking in our Arrow batches: a data source that decodes one
   split once per task and yields those batches again and again (``--ingest-repeats``);
   the extra time per extra repeat gives records/s per core for Spark alone, for the full
   schema and for ``flag`` only (5 to 40 extra repeats, for ~300k records where possible).  It bounds what any Python decoder can reach through the
   Python data source API.
4. ``search``: every split's start search (block search + record-start check) in this
   process on a fresh channel, at ``--split-size`` and ``--search-split-size``: median and max
   milliseconds, the channel's requests to the file (adjacent missing pages are fetched in
   one request) and the 64 KiB pages they brought in.

Usage: python bench/bench_load.py [BAM ...] [--split-size 32m] [--search-split-size 1m]
       [--repeats 3] [--out bench/out/load.json]
Default BAMs: $SPARKBAM_BENCH_DATA/sr.sorted.bam and lr.sorted.bam.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import warnings
from pathlib import Path

from sparkbam_py.spark import api
from sparkbam_py.bam.batches import read_record_batches
from sparkbam_py.bam.columns import ColumnPlan
from sparkbam_py.spark.schemas import spark_of
from sparkbam_py.spark.session import get_spark
from sparkbam_py.bam.splits import SplitReader, plan_file
from bench_data import LONG_READS, SHORT_READS

DEFAULT_BAMS = (str(SHORT_READS), str(LONG_READS))
CORES = 2
INGEST_RECORDS, INGEST_MIN_EXTRA, INGEST_MAX_EXTRA = 300_000, 5, 40


def timed(function, repeats: int):
    """(median seconds, last result) over ``repeats`` calls."""
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def samtools_count(path: str) -> int:
    out = subprocess.run(["samtools", "view", "-c", "-@2", path], check=True, capture_output=True, text=True)
    return int(out.stdout)


def sequence_length_sum(segments) -> tuple:
    records = bases = 0
    for segment in segments:
        records += 1
        bases += segment.query_length if segment.query_sequence is not None else 0
    return records, bases


def bench_count(spark, path: str, split_size, repeats: int) -> dict:
    samtools_seconds, samtools_records = timed(lambda: samtools_count(path), repeats)
    ours_seconds, ours_records = timed(lambda: api.count_reads(spark, path, split_size), repeats)
    source_seconds, source_records = timed(lambda: api.count_reads(spark, path, split_size, method="datasource"),
                                           repeats)
    assert ours_records == source_records == samtools_records, (ours_records, source_records, samtools_records)
    return {"records": ours_records, "samtools_seconds": samtools_seconds, "count_reads_seconds": ours_seconds,
            "ratio": ours_seconds / samtools_seconds, "count_reads_datasource_seconds": source_seconds,
            "datasource_ratio": source_seconds / samtools_seconds}


def bench_decode(spark, path: str, split_size, repeats: int, records: int) -> dict:
    from pyspark.sql import functions as F

    def dataframe(columns=None):
        frame = api.load_reads(spark, path, split_size, columns)
        return frame.select(F.count(F.lit(1)), F.sum(F.length("query_sequence"))).first()

    def pysam_splits():
        parts = api.map_partitions(spark, path, sequence_length_sum, split_size).collect()
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    frame_seconds, (frame_records, frame_bases) = timed(dataframe, repeats)
    narrow_seconds, (narrow_records, narrow_bases) = timed(lambda: dataframe(["query_sequence"]), repeats)
    pysam_seconds, (pysam_records, pysam_bases) = timed(pysam_splits, repeats)
    assert frame_records == narrow_records == pysam_records == records
    assert frame_bases == narrow_bases == pysam_bases
    return {"bases": frame_bases, "dataframe_seconds": frame_seconds, "narrow_seconds": narrow_seconds,
            "pysam_seconds": pysam_seconds,
            "dataframe_records_per_core_s": records / frame_seconds / CORES,
            "narrow_records_per_core_s": records / narrow_seconds / CORES,
            "pysam_records_per_core_s": records / pysam_seconds / CORES,
            "executor_code_records_per_core_s": executor_code_rate(path, split_size)}


def executor_code_rate(path: str, split_size, max_splits: int = 3) -> float:
    """Records/s of one core running the executor code (walk + full decode), no Spark."""
    _, tasks = plan_file(path, split_size)
    plan = ColumnPlan.of()
    records, started = 0, time.perf_counter()
    for task in tasks[:max_splits]:
        records += sum(batch.num_rows for batch in read_record_batches(task, plan))
    return records / (time.perf_counter() - started)


def bench_ingest(spark, path: str, repeats: int) -> dict:
    """Records/s per core that Spark ingests pre-decoded batches at (full schema; flag only)."""
    from pyspark.sql import functions as F
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

    _, tasks = plan_file(path, "8m")
    chosen = tasks[1:1 + CORES]

    class Reader(DataSourceReader):
        def __init__(self, columns, times):
            self.columns, self.times = columns, times

        def partitions(self):
            return [InputPartition(index) for index in range(len(chosen))]

        def read(self, partition):
            batches = list(read_record_batches(chosen[partition.value], ColumnPlan.of(self.columns)))
            for _ in range(self.times):
                yield from batches

    class Source(DataSource):
        @classmethod
        def name(cls):
            return "bench_cached_batches"

        def schema(self):
            return spark_of(ColumnPlan.of().arrow_schema)

        def reader(self, schema):
            return Reader([field.name for field in schema.fields], int(self.options["times"]))

    spark.dataSource.register(Source)
    records = sum(sum(b.num_rows for b in read_record_batches(task, ColumnPlan.of(["flag"]))) for task in chosen)
    # Enough repeats that the extra ones take clearly longer than the noise: ~300k short
    # reads; long reads are costed by their bytes, so fewer records suffice.
    extra = min(INGEST_MAX_EXTRA, max(INGEST_MIN_EXTRA, -(-INGEST_RECORDS // records)))
    rates = {}
    for label, columns in (("full", None), ("flag", ["flag"])):
        def run(times):
            frame = spark.read.format("bench_cached_batches").schema(spark_of(ColumnPlan.of(columns).arrow_schema))
            return frame.option("times", str(times)).load().select(F.count(F.lit(1))).first()[0]

        once, _ = timed(lambda: run(1), repeats)
        many, counted = timed(lambda: run(1 + extra), repeats)
        assert counted == records * (1 + extra)
        rates[f"{label}_seconds"] = [once, many]
        rates["extra_repeats"] = extra
        rates[f"{label}_records_per_core_s"] = records * extra / (many - once) / CORES
    return rates


def bench_search(path: str, split_size) -> dict:
    """Each split's start search on a fresh channel: wall time and underlying page fetches."""
    _, tasks = plan_file(path, split_size)
    millis, fetches, pages = [], [], []
    for task in tasks[1:]:  # the first split starts at the header's end: nothing to search
        with SplitReader(task) as split:
            started = time.perf_counter()
            _ = split.start
            millis.append((time.perf_counter() - started) * 1000)
            fetches.append(split.channel.stats.requests)
            pages.append(split.channel.stats.misses)
    return {"splits": len(millis), "median_ms": statistics.median(millis), "max_ms": max(millis),
            "median_fetches": statistics.median(fetches), "max_fetches": max(fetches),
            "median_pages": statistics.median(pages), "max_pages": max(pages),
            "page_size": tasks[0].page_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bams", nargs="*", default=list(DEFAULT_BAMS))
    parser.add_argument("--split-size", default="32m")
    parser.add_argument("--search-split-size", default="1m")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench/out/load.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    spark = get_spark("sparkbam-bench-load", master=f"local[{CORES}]", config={"spark.ui.enabled": "false"})
    results = {"split_size": args.split_size, "repeats": args.repeats, "files": {}}
    for path in args.bams:
        # Warm: Python workers of both paths started and imported, the file in the page cache.
        api.count_reads(spark, path, args.split_size)
        api.load_reads(spark, path, args.split_size, ["flag"]).count()
        count = bench_count(spark, path, args.split_size, args.repeats)
        decode = bench_decode(spark, path, args.split_size, args.repeats, count["records"])
        search = {size: bench_search(path, size) for size in (args.split_size, args.search_split_size)}
        ingest = bench_ingest(spark, path, args.repeats)
        results["files"][Path(path).name] = {"bytes": Path(path).stat().st_size, "count": count,
                                             "decode": decode, "ingest": ingest, "search": search}
        print(json.dumps({Path(path).name: results["files"][Path(path).name]}, indent=1), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    spark.stop()


if __name__ == "__main__":
    main()
