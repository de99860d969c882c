"""Writing BAM without Spark: every generated content kind comes back record for record.

Each source is decoded as the executors decode it and written by the task code in several
parts; ``samtools view`` of the output must equal that of the source (header aside, tags
included), ``samtools quickcheck`` must pass, and the merged ``.bai`` must fetch the same
reads as ``samtools index`` of the same output.
"""
from __future__ import annotations

import pytest

from fixtures import CONTENT_KINDS, build_fixture
from write_helpers import (
    ATTEMPT,
    decoded_batches,
    index_counts,
    index_disagreements,
    quickcheck,
    sam_records,
    samtools_index,
    write_without_spark,
)

from test_sbi import search_splits

from sparkbam_py.bam.file import open_bam
from sparkbam_py.index.sbi import compute_sbi, read_sbi, splits_from_sbi
from sparkbam_py.write.commit import UnsortedOutputWarning, commit
from sparkbam_py.write.header import header_from_bam
from sparkbam_py.write.job import WriteJob


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    directory = tmp_path_factory.mktemp("write-sources")
    return {kind: build_fixture(make(), "block_aligned", directory).path for kind, make in CONTENT_KINDS.items()}


@pytest.mark.parametrize("kind", sorted(CONTENT_KINDS))
@pytest.mark.parametrize("parts,rows", [(1, 100_000), (3, 257), (7, 31)])
def test_round_trip_equals_source(sources, tmp_path, kind, parts, rows):
    out = tmp_path / "out.bam"
    summary = write_without_spark(sources[kind], out, parts=parts, rows=rows)
    assert quickcheck(out)
    assert sam_records(out) == sam_records(sources[kind])
    assert summary["records"] == len(sam_records(out))


@pytest.mark.parametrize("kind", ["short_reads", "long_reads", "long_cigar", "many_references", "secondary_no_seq"])
def test_merged_bai_fetches_like_samtools_index(sources, tmp_path, kind):
    out = tmp_path / "out.bam"
    summary = write_without_spark(sources[kind], out, parts=4, rows=97)
    assert str(out) + ".bai" in summary["indexes"]
    reference = samtools_index(out, tmp_path / "samtools.bai")
    assert index_disagreements(out, str(out) + ".bai", reference, queries=60) == []
    assert index_counts(out, str(out) + ".bai") == index_counts(out, reference)


def test_unsorted_rows_get_no_bai_and_lose_no_stale_one(sources, tmp_path):
    out = tmp_path / "out.bam"
    (tmp_path / "out.bam.bai").write_bytes(b"stale")
    batches = list(decoded_batches(sources["short_reads"], 100))
    job = WriteJob.create(str(out), header_from_bam(str(sources["short_reads"])), overwrite=True)
    summaries = [job.write_part(batches[::-1], 0, ATTEMPT)]
    with pytest.warns(UnsortedOutputWarning, match="not coordinate-sorted"):
        summary = commit(job, summaries)
    assert summary["indexes"] == [str(out) + ".sbi"]
    assert not (tmp_path / "out.bam.bai").exists()
    assert sorted(sam_records(out)) == sorted(sam_records(sources["short_reads"]))


@pytest.mark.parametrize("split_size", [4_096, 65_536, 200_000])
def test_sbi_gives_the_splits_search_finds(sources, tmp_path, split_size):
    out = tmp_path / "out.bam"
    write_without_spark(sources["short_reads"], out, parts=3, rows=200, sbi_granularity=1)
    sbi = read_sbi(str(out) + ".sbi")
    with open_bam(str(out)) as bam:
        assert sbi == compute_sbi(bam, granularity=1)  # every record's offset, as a walk finds them
    assert splits_from_sbi(sbi, out.stat().st_size, split_size) == search_splits(out, split_size)


def test_sharded_output_is_one_complete_bam_per_part(sources, tmp_path):
    out = tmp_path / "shards"
    summary = write_without_spark(sources["short_reads"], out, parts=3, rows=300, sharded=True)
    shards = summary["shards"]
    assert len(shards) == 3
    lines = []
    for shard in shards:
        assert quickcheck(shard)
        lines += sam_records(shard)
        reference = samtools_index(shard, tmp_path / "ref.bai")
        assert index_disagreements(shard, shard + ".bai", reference, queries=10) == []
    assert lines == sam_records(sources["short_reads"])
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
