"""The loaders on real engines: local[2], a standalone cluster, and Spark Connect.

Exactly-once is proven exhaustively in test_splits_exactly_once.py on the same executor
code; here the point is that tasks, options, schemas and errors survive the trip through
each engine, and that every loader returns each record once.
"""
from __future__ import annotations

import shutil
from collections import defaultdict

import pytest

from spark.decoy import write_decoy_bam
from spark.engines import spark_engine  # noqa: F401  (session fixture shared by the Spark tests)
from sparkbam_py.testing.http_server import RangeHTTPServer
from sparkbam_py.errors import ConfigError
from sparkbam_py.pos import Pos
from sparkbam_py.spark import api
from sparkbam_py.bam.splits import SplitReader, plan_file, splits_from_starts

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Layouts that make split boundaries hard, plus a header-only file and one whose 5,000
# references are not shipped with the tasks (the executors read that header themselves).
LOADED = ("short_reads.htsjdk", "short_reads.empty_midfile", "short_reads.mixed", "long_reads.block_aligned",
          "secondary_no_seq.tiny_blocks", "many_references.htsjdk", "header_only.block_aligned",
          "odd_names.no_eof")
SPLIT_SIZE = 16_384


@pytest.fixture(scope="module")
def loaded(bam_fixtures):
    return {bam_fixtures[name].path.as_posix(): bam_fixtures[name] for name in LOADED}


def by_file(rows, path_column="file_path"):
    files = defaultdict(list)
    for row in rows:
        files[row[path_column]].append((row["file_position"], row["query_name"]))
    return {path: sorted(records) for path, records in files.items()}


def truth_of(fixture):
    return [(pos.virtual, name) for pos, name in zip(fixture.record_pos, fixture.query_names)]


def test_many_files_in_one_load_give_every_record_once(spark_engine, loaded):
    frame = api.load_reads_and_positions(spark_engine.spark, list(loaded), SPLIT_SIZE, ["query_name", "file_path"])
    files = by_file(frame.collect())
    for path, fixture in loaded.items():
        assert files.get(path, []) == truth_of(fixture), fixture.name


def test_count_reads_walks_every_split(spark_engine, loaded):
    total = sum(f.n_records for f in loaded.values())
    assert api.count_reads(spark_engine.spark, list(loaded), SPLIT_SIZE * 4) == total
    # Under Connect count_reads already runs on format("bam_splits"); read it directly everywhere.
    api.register(spark_engine.spark)
    rows = (spark_engine.spark.read.format("bam_splits").option("splitSize", str(SPLIT_SIZE * 4))
            .option("count", "true").load(list(loaded)).collect())
    per_file = defaultdict(int)
    for row in rows:
        per_file[row.path] += row.records
        assert (row.first_record is None) == (row.records == 0)
    assert per_file == {path: fixture.n_records for path, fixture in loaded.items()}


def test_compute_splits_are_the_ones_the_executors_use(spark_engine, bam_fixtures):
    fixture = bam_fixtures["short_reads.htsjdk"]
    _, tasks = plan_file(str(fixture.path), SPLIT_SIZE)
    starts = []
    for task in tasks:
        with SplitReader(task) as split:
            starts.append(split.start)
    expected = splits_from_starts(starts, fixture.file_size)
    splits, reads = api.load_splits_and_reads(spark_engine.spark, str(fixture.path), SPLIT_SIZE, ["query_name"])
    assert splits == expected and splits[0].start == fixture.header_end and len(splits) > 5
    assert splits[-1].end == Pos(fixture.file_size, 0)
    assert reads.count() == fixture.n_records


def test_format_bam_reads_a_directory_with_options_and_a_narrow_schema(spark_engine, bam_fixtures, tmp_path):
    chosen = [bam_fixtures[name] for name in ("long_reads.htsjdk", "all_unmapped.mixed")]
    for fixture in chosen:
        shutil.copy(fixture.path, tmp_path / fixture.path.name)
    (tmp_path / "notes.txt").write_text("not a BAM, and not read")
    api.register(spark_engine.spark)
    frame = (spark_engine.spark.read.format("bam").option("splitSize", "20k").option("readsToCheck", "8")
             .schema("file_path string, query_name string, file_position bigint").load(str(tmp_path)))
    assert frame.columns == ["file_path", "query_name", "file_position"]
    files = by_file(frame.collect())
    assert {path.rsplit("/", 1)[-1] for path in files} == {f.path.name for f in chosen}
    for fixture in chosen:
        assert files[(tmp_path / fixture.path.name).as_posix()] == truth_of(fixture)


def test_the_full_schema_holds_what_pysam_reads(spark_engine, bam_fixtures):
    import pysam

    fixture = bam_fixtures["short_reads.mixed"]
    rows = api.load_reads(spark_engine.spark, str(fixture.path), SPLIT_SIZE).collect()
    with pysam.AlignmentFile(str(fixture.path), "rb") as bam:
        segments = list(bam)
    assert len(rows) == len(segments)
    for row, segment in zip(rows, segments):
        assert (row.query_name, row.flag, row.reference_name, row.reference_start, row.reference_end,
                row.mapping_quality, row.cigar, row.query_sequence, row.template_length) == (
                segment.query_name, segment.flag, segment.reference_name, segment.reference_start,
                segment.reference_end, segment.mapping_quality, segment.cigarstring, segment.query_sequence,
                segment.template_length)


def test_a_checker_fooled_at_a_boundary_fails_the_job(spark_engine, tmp_path):
    decoy = write_decoy_bam(tmp_path)
    spark = spark_engine.spark
    unchecked = api.load_reads(spark, str(decoy.path), decoy.hidden_block, ["query_name"], verify_splits=False)
    assert unchecked.count() == decoy.n_records + 1  # the invented read the check exists for
    with pytest.raises(Exception) as error:
        api.load_reads(spark, str(decoy.path), decoy.hidden_block, ["query_name"]).count()
    assert "SplitVerificationError" in str(error.value) and str(decoy.following) in str(error.value)


def test_file_and_http_urls_read_through_the_channel_layer(spark_engine, bam_fixtures):
    fixture = bam_fixtures["short_reads.htsjdk"]
    with RangeHTTPServer(fixture.path.parent) as server:
        urls = [fixture.path.as_uri(), server.url_for(fixture.path.name)]
        frame = api.load_reads_and_positions(spark_engine.spark, urls, SPLIT_SIZE * 4, ["query_name", "file_path"])
        files = by_file(frame.collect())
    assert set(files) == set(urls)
    assert all(records == truth_of(fixture) for records in files.values())


def test_the_map_in_arrow_path_for_spark_3_5(spark_engine, loaded):
    chosen = {path: fixture for path, fixture in loaded.items() if fixture.name in LOADED[:3]}
    frame = api.load_reads_and_positions(spark_engine.spark, list(chosen), SPLIT_SIZE, ["query_name", "file_path"],
                                         method="mapInArrow")
    files = by_file(frame.collect())
    assert files == {path: truth_of(fixture) for path, fixture in chosen.items()}


def test_map_partitions_hands_pysam_segments_to_the_function(spark_engine, bam_fixtures):
    if not spark_engine.has_rdds:
        with pytest.raises(ConfigError, match="RDD"):
            api.map_partitions(spark_engine.spark, "x.bam", len)
        return
    fixture = bam_fixtures["short_reads.empty_midfile"]
    rdd = api.map_partitions(spark_engine.spark, str(fixture.path),
                             lambda segments: [s.query_name for s in segments], SPLIT_SIZE)
    per_split = rdd.collect()
    assert rdd.getNumPartitions() == len(per_split) > 5
    assert [name for names in per_split for name in names] == fixture.query_names
