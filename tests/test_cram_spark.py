"""CRAM on real engines (local[2], a standalone cluster, Spark Connect): ``format("cram")``,
``cram_splits``, and the loaders recognising CRAM.  Exactly-once at many split sizes is
proven on the same executor code in test_cram_splits.py; here the point is that tasks,
options and errors survive each engine."""
from __future__ import annotations

import pytest

from cram_truth import our_records, plan, starts_of, truth_records
from fixtures import build_fixture
from fixtures.content import short_reads
from fixtures.cram import SAMTOOLS, convert_to_cram, sq_lines, write_random_reference
from spark.engines import spark_engine  # noqa: F401  (session fixture shared by the Spark tests)
from sparkbam_py.pos import Pos
from sparkbam_py.spark import api

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.skipif(SAMTOOLS is None, reason="samtools is needed to write CRAM")]
SPLIT_SIZE = 12_000


@pytest.fixture(scope="module")
def spark_crams(tmp_path_factory):
    """Two CRAMs (3.0 and 2.1) of reads on the same references, so one reference serves both."""
    directory = tmp_path_factory.mktemp("spark_crams")
    made, reference = {}, None
    for name, content, version in (("paired", short_reads(900, seed=21), "3.0"),
                                   ("older", short_reads(300, seed=22), "2.1")):
        bam = build_fixture(content, "block_aligned", directory, name).path
        reference = reference or write_random_reference(sq_lines(bam), directory / "reference.fa")
        cram = directory / f"{name}.cram"
        assert convert_to_cram(bam, cram, reference, version, seqs_per_slice=40)
        made[name] = (cram, reference, truth_records(str(cram), str(reference)))
    return made


def test_format_cram_reads_every_record_once(spark_engine, spark_crams):
    api.register(spark_engine.spark)
    paths = [str(cram) for cram, _, _ in spark_crams.values()]
    reference = str(spark_crams["paired"][1])
    frame = (spark_engine.spark.read.format("cram").option("splitSize", str(SPLIT_SIZE))
             .option("reference", reference).load(paths))
    expected = [record for _, _, truth in spark_crams.values() for record in truth]
    assert sorted(our_records(frame.toArrow())) == sorted(expected)


def test_count_and_splits_on_cram(spark_engine, spark_crams):
    spark = spark_engine.spark
    cram, reference, truth = spark_crams["paired"]
    assert api.count_reads(spark, [str(c) for c, _, _ in spark_crams.values()], SPLIT_SIZE) == \
        sum(len(t) for _, _, t in spark_crams.values())
    splits = api.compute_splits(spark, str(cram), SPLIT_SIZE)
    assert [s.start.block_pos for s in splits] == starts_of(plan(cram, SPLIT_SIZE))
    assert splits[-1].end == Pos(cram.stat().st_size, 0) and len(splits) > 3
    names = api.load_reads(spark, str(cram), SPLIT_SIZE, ["query_name", "file_path"]).collect()
    assert sorted(row.query_name for row in names) == sorted(row[0] for row in truth)


def test_format_bam_on_a_cram_points_to_format_cram(spark_engine, spark_crams):
    api.register(spark_engine.spark)
    cram, _, _ = spark_crams["paired"]
    with pytest.raises(Exception, match="format\\('cram'\\)"):
        spark_engine.spark.read.format("bam").load(str(cram)).count()
    with pytest.raises(Exception, match="file_position"):
        spark_engine.spark.read.format("cram").schema("query_name string, file_position bigint").load(str(cram)).count()
