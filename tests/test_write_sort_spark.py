"""``view_bam(sort=True)`` through real Spark: blocks through files on a local master, shuffled
by slot otherwise (forced here on local too, and on Connect).

The input is name-sorted (ties on reference, position and strand land in different splits
and flushes), and the output must be samtools sort's record for record, with an index
samtools agrees with; the block files are gone afterwards; when every range's slot is the
same (all collide in one partition), the shuffled output is still the same.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from fixtures import build_fixture
from fixtures.content import short_reads
from spark.engines import activate
from write_helpers import index_disagreements, sam_records, samtools_index

import sparkbam_py.spark.view_api as view_api
import sparkbam_py.write.sort_plan as sort_plan
from sparkbam_py.spark.view_api import view_bam

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def by_name(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sort-spark")
    source = build_fixture(short_reads(n=3000), "htsjdk", folder).path
    path = folder / "by_name.bam"
    subprocess.run(["samtools", "sort", "-n", "-o", str(path), str(source)], check=True)
    return path


@pytest.fixture(scope="module")
def expected(by_name) -> list:
    out = by_name.parent / "samtools.bam"
    subprocess.run(["samtools", "sort", "-o", str(out), str(by_name)], check=True)
    return sam_records(out)


def test_local_blocks_sort_and_a_total_collision(by_name, expected, tmp_path, monkeypatch):
    spark = activate("local").spark
    scratch = tmp_path / "scratch"
    monkeypatch.setattr(view_api, "local_scratch_root", lambda session: str(scratch))
    out = tmp_path / "sorted.bam"
    summary = view_bam(spark, str(by_name), str(out), sort=True, split_size="30k")
    assert summary["records"] == 3000
    assert sam_records(out) == expected
    assert list(scratch.iterdir()) == []  # the block files went with their folder
    reference = samtools_index(out, tmp_path / "samtools.bai")
    assert index_disagreements(out, str(out) + ".bai", reference, queries=20) == []
    # Through Spark's shuffle, every range on one slot: one task writes every part, still one
    # per range, in order (and the splits probed on the executors, as for inputs of many splits).
    monkeypatch.setattr(view_api, "runs_on_this_machine", lambda session: False)
    monkeypatch.setattr(sort_plan, "partition_slots", lambda partitions: np.zeros(partitions, dtype=np.int32))
    monkeypatch.setattr(view_api, "partition_slots", lambda partitions: np.zeros(partitions, dtype=np.int32))
    monkeypatch.setattr(view_api, "DRIVER_PROBED_SPLITS", 0)
    collided = tmp_path / "collided.bam"
    view_bam(spark, str(by_name), str(collided), sort=True, split_size="30k")
    assert sam_records(collided) == expected
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_local_slots_are_where_spark_hashes_them():
    from pyspark.sql import functions as F

    spark = activate("local").spark
    values = list(range(-50, 2000, 7)) + [2**31 - 1, -2**31]
    theirs = [row[0] for row in spark.createDataFrame([(v,) for v in values], "v int")
              .select(F.hash("v")).collect()]
    assert sort_plan.spark_int_hash(np.array(values)).tolist() == theirs
    partitions = 6
    slots = sort_plan.partition_slots(partitions).tolist()
    placed = (spark.createDataFrame([(s, i) for i, s in enumerate(slots)], "slot int, target int")
              .repartition(partitions, "slot").select("target", F.spark_partition_id().alias("p")).collect())
    assert sorted((row.target, row.p) for row in placed) == [(i, i) for i in range(partitions)]


def test_connect_blocks_sort(by_name, expected, tmp_path, monkeypatch):
    spark = activate("connect").spark
    monkeypatch.setattr(view_api, "DRIVER_PROBED_SPLITS", 0)  # the probes too through mapInArrow
    out = tmp_path / "connect-sorted.bam"
    assert view_bam(spark, str(by_name), str(out), sort=True, split_size="30k")["records"] == 3000
    assert sam_records(out) == expected
