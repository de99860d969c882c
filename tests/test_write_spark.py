"""Writing BAM through real Spark engines: the data source, mapInArrow, sort, shards, retries.

Grouped by engine so each engine starts once: local (every way to write), standalone
cluster (tasks killed and retried mid-write), Spark Connect (the data source, committed on
the server's driver).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from fixtures import build_fixture
from fixtures.content import short_reads
from spark.engines import activate
from write_helpers import index_disagreements, quickcheck, sam_records, samtools_index

import sparkbam_py
from sparkbam_py.spark.view_api import view_bam
from sparkbam_py.spark.write_api import chosen_engine
from sparkbam_py.write.errors import HeaderMismatchError

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return build_fixture(short_reads(n=3000), "htsjdk", tmp_path_factory.mktemp("write-spark")).path


def load(spark, path, split_size="40k"):
    sparkbam_py.register(spark)
    return spark.read.format("bam").option("splitSize", split_size).load(str(path))


def assert_same_reads(out, source, ordered=True):
    assert quickcheck(out)
    got, expected = sam_records(out), sam_records(source)
    assert (got if ordered else sorted(got)) == (expected if ordered else sorted(expected))


def test_local_every_way_of_writing(source, tmp_path):
    spark = activate("local").spark
    reads = load(spark, source)
    assert reads.rdd.getNumPartitions() > 3
    for engine in ("datasource", "arrow"):
        out = tmp_path / f"{engine}.bam"
        summary = sparkbam_py.write_bam(reads, str(out), header_from=str(source), engine=engine)
        assert summary["records"] == 3000
        assert_same_reads(out, source)
        reference = samtools_index(out, tmp_path / "samtools.bai")
        assert index_disagreements(out, str(out) + ".bai", reference, queries=20) == []
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_local_sort_shuffled_reads(source, tmp_path):
    spark = activate("local").spark
    from pyspark.sql import functions as F

    shuffled = load(spark, source).orderBy(F.rand(5))
    out = tmp_path / "sorted.bam"
    sparkbam_py.write_bam(shuffled, str(out), header_from=str(source), sort=True, partitions=3)
    assert_same_reads(out, source, ordered=False)
    header = os.popen(f"samtools view -H {out}").read()
    assert "SO:coordinate" in header.splitlines()[0]
    reference = samtools_index(out, tmp_path / "samtools.bai")
    assert index_disagreements(out, str(out) + ".bai", reference, queries=30) == []
    positions = [(line.split(b"\t")[2], int(line.split(b"\t")[3])) for line in sam_records(out)]
    placed = [p for p in positions if p[0] != b"*"]
    assert positions[len(placed):] == [(b"*", 0)] * (len(positions) - len(placed))  # unplaced last


def test_local_sort_is_samtools_sort_record_for_record(source, tmp_path):
    """samtools' order exactly, ties (same reference, position and strand) in input order:
    the input is name-sorted, read in several splits, from the decoded columns, from the
    record column, and by view_bam from the splits themselves."""
    import subprocess

    spark = activate("local").spark
    by_name = tmp_path / "by_name.bam"
    subprocess.run(["samtools", "sort", "-n", "-o", str(by_name), str(source)], check=True)
    theirs = tmp_path / "samtools.bam"
    subprocess.run(["samtools", "sort", "-o", str(theirs), str(by_name)], check=True)
    decoded = load(spark, by_name, split_size="30k")
    records = (spark.read.format("bam").option("splitSize", "30k")
               .schema("reference_name string, next_reference_name string, record binary").load(str(by_name)))
    for name, reads in (("decoded", decoded), ("record", records)):
        out = tmp_path / f"{name}.bam"
        summary = sparkbam_py.write_bam(reads, str(out), header_from=str(source), sort=True, partitions=4)
        assert summary["records"] == 3000
        assert sam_records(out) == sam_records(theirs)
    viewed = tmp_path / "view.bam"
    view_bam(spark, str(by_name), str(viewed), sort=True, split_size="30k")
    assert sam_records(viewed) == sam_records(theirs)
    reference = samtools_index(viewed, tmp_path / "samtools.bai")
    assert index_disagreements(viewed, str(viewed) + ".bai", reference, queries=20) == []


def test_local_sharded_and_plain_datasource_writes(source, tmp_path):
    spark = activate("local").spark
    reads = load(spark, source)
    out = tmp_path / "shards"
    (reads.write.format("bam").option("headerFrom", str(source)).option("sharded", "true")
     .mode("append").save(str(out)))
    shards = sorted(out.glob("part-*.bam"))
    assert len(shards) == reads.rdd.getNumPartitions()
    lines = [line for shard in shards for line in sam_records(shard)]
    assert lines == sam_records(source)
    assert all(Path(str(s) + ".bai").exists() and Path(str(s) + ".sbi").exists() for s in shards)
    with pytest.raises(Exception, match="output exists"):
        reads.write.format("bam").option("headerFrom", str(source)).mode("append").save(str(out))


def test_local_write_from_another_thread(source, tmp_path):
    # A write looks the data source up in the JVM thread's active session: a Python thread
    # other than the session's own calls through a JVM thread without one.
    spark = activate("local").spark
    reads = load(spark, source, split_size="1m")
    out, outcome = tmp_path / "threaded.bam", {}

    def write():
        try:
            outcome["summary"] = sparkbam_py.write_bam(reads, str(out), header_from=str(source), engine="datasource")
        except BaseException as error:  # seen by the assertion below, in the test's thread
            outcome["error"] = error

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"]["records"] == 3000
    assert_same_reads(out, source)


def test_local_unknown_reference_fails_before_any_task(source, tmp_path):
    spark = activate("local").spark
    reads = load(spark, source)
    header = "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:2000000\n"
    with pytest.raises(HeaderMismatchError, match="chr2"):
        sparkbam_py.write_bam(reads, str(tmp_path / "x.bam"), header)
    assert list(tmp_path.iterdir()) == []


def _kill_first_attempt(marker_dir):
    """A mapInArrow body that kills its own Python worker the first time each partition runs."""
    def body(batches):
        from pyspark import TaskContext

        marker = Path(marker_dir) / f"p{TaskContext.get().partitionId()}"
        for batch in batches:
            if not marker.exists():
                marker.touch()
                os._exit(9)  # the worker dies mid-partition: the task fails and is retried
            yield batch
    return body


def test_local_auto_engine_commits_in_this_process():
    """``engine="auto"`` on a classic session: ``mapInArrow``, the commit here (the driver is
    this process), not the data source's planning and commit processes."""
    assert chosen_engine(activate("local").spark, "auto") == "arrow"


def test_standalone_killed_tasks_leave_one_copy_of_every_read(source, tmp_path):
    spark = activate("standalone").spark
    reads = load(spark, source, split_size="20k")
    markers = tmp_path / "markers"
    markers.mkdir()
    dying = reads.mapInArrow(_kill_first_attempt(str(markers)), reads.schema)
    for engine in ("datasource", "arrow"):
        out = tmp_path / f"{engine}.bam"
        for marker in markers.iterdir():
            marker.unlink()
        sparkbam_py.write_bam(dying, str(out), header_from=str(source), engine=engine, check_refs=False)
        assert any(markers.iterdir()), "no task was killed"
        assert_same_reads(out, source)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_connect_datasource_write(source, tmp_path):
    spark = activate("connect").spark
    reads = load(spark, source)
    out = tmp_path / "connect.bam"
    summary = sparkbam_py.write_bam(reads, str(out), header_from=str(source))
    assert summary["records"] == 3000
    assert_same_reads(out, source)
    assert Path(str(out) + ".bai").exists()
    viewed = tmp_path / "connect-view.bam"
    assert view_bam(spark, str(source), str(viewed), split_size="40k")["records"] == 3000
    assert_same_reads(viewed, source)


def test_connect_auto_engine_commits_on_the_server():
    """``engine="auto"`` under Connect: the data source, whose commit runs on the server."""
    assert chosen_engine(activate("connect").spark, "auto") == "datasource"


def test_local_view_command_filters_like_samtools(source, tmp_path):
    activate("local")
    from sparkbam_py.cli.main import main

    indexed = tmp_path / "in.bam"
    indexed.write_bytes(Path(source).read_bytes())
    samtools_index(indexed, str(indexed) + ".bai")
    out = tmp_path / "view.bam"
    assert main(["view", str(indexed), "-o", str(out), "--region", "chr1:1-1500000", "--region", "chr2",
                 "-f", "0x2", "-F", "0x10", "-q", "20"]) == 0
    expected = os.popen(f"samtools view -f 0x2 -F 0x10 -q 20 {indexed} chr1:1-1500000 chr2").read()
    assert sam_records(out) == expected.encode().splitlines()
    assert Path(str(out) + ".bai").exists()


def test_local_view_copies_the_kept_records_byte_for_byte(source, tmp_path):
    """Without regions each task copies its split's kept records into its part: the bytes
    samtools view writes, samtools' index, the same .sbi splits."""
    import subprocess

    spark = activate("local").spark
    out = tmp_path / "view.bam"
    summary = view_bam(spark, str(source), str(out), flag_include=0x2, flag_exclude=0x10, min_mapq=20,
                       split_size="40k")
    theirs = tmp_path / "samtools.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-f", "0x2", "-F", "0x10", "-q", "20", "-o", str(theirs),
                    str(source)],
                   check=True)
    assert summary["parts"] > 3 and summary["records"] == len(sam_records(theirs))
    uncompressed = ["samtools", "view", "-u", "--no-PG"]
    body = [subprocess.run(uncompressed + [str(path)], capture_output=True, check=True).stdout
            for path in (out, theirs)]
    import gzip

    assert gzip.decompress(body[0]) == gzip.decompress(body[1])
    reference = samtools_index(out, tmp_path / "samtools.bai")
    assert index_disagreements(out, str(out) + ".bai", reference, queries=20) == []

