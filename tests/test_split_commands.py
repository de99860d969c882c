"""The baseline's splits, the comparison helpers, and the comparison commands end to end."""
import json
from pathlib import Path

import pytest

from split_truth import truth_splits_for_ranges
from sparkbam_py.bam.file import open_bam
from sparkbam_py.validators.hadoop_bam_splits import (
    BaselineReadError,
    compute_hadoop_bam_splits,
    hadoop_bam_splits,
    iter_baseline_split_counts,
)
from sparkbam_py.cli.comparison import diff_splits, split_length, stats_lines
from sparkbam_py.cli.main import main as cli_main
from sparkbam_py.pos import Pos
from sparkbam_py.bam.splits import ByteRange, Split, compute_byte_ranges

SPARK_BAM = "hammerlab__spark-bam/test-bams__src__main__resources__"
# spark-bam's published splits of 1.bam at 230 KB (spark-bam.md §3.3).
OURS_230K = ["0:45846-239479:312", "239479:312-484396:25", "484396:25-597482:0"]
HADOOP_BAM_230K = ["0:45846-235520:65535", "239479:311-471040:65535", "484396:25-597482:65535"]


def names(splits):
    return [str(split) for split in splits]


# -- the baseline ---------------------------------------------------------------------------


def test_baseline_reproduces_hadoop_bam_on_spark_bam_1_bam(corpus_dir):
    bam = str(corpus_dir / f"{SPARK_BAM}1.bam")
    assert names(compute_hadoop_bam_splits(bam, "230k").splits) == HADOOP_BAM_230K
    # At 240 KB no range starts at a false positive: the same starts as ours.
    assert [str(s.start) for s in compute_hadoop_bam_splits(bam, "240k").splits] == \
        ["0:45846", "263656:191", "508565:287"]


def test_reading_from_the_false_start_fails_as_hadoop_bam_does(corpus_dir):
    bam = str(corpus_dir / f"{SPARK_BAM}1.bam")
    splits = compute_hadoop_bam_splits(bam, "230k").splits
    with pytest.raises(BaselineReadError, match="239479:311"):
        list(iter_baseline_split_counts(bam, splits))


def test_empty_ranges_merge_into_the_previous_split(corpus_dir):
    # spark-bam's 2.bam at 20,000 bytes: some ranges hold no block start at all.
    bam_path = str(corpus_dir / f"{SPARK_BAM}2.bam")
    with open_bam(bam_path) as bam:
        ranges = compute_byte_ranges(bam.size, 20_000)
        splits = hadoop_bam_splits(bam, ranges)
        truth = [Pos.from_virtual(int(v)) for c in bam.iter_record_chunks() for v in c.virtual_offsets()]
    owners = truth_splits_for_ranges(truth, ranges, bam.size)
    assert len(splits) == len(owners) < len(ranges)
    assert [s.start for s in splits] == [start for start, _ in owners]
    # Each split runs to (end << 16) | 0xffff of the last range merged into it.
    range_ends = {r.end for r in ranges}
    assert all(s.end.offset == 0xFFFF and s.end.block_pos in range_ends for s in splits)
    assert splits[-1].end == Pos(bam.size, 0xFFFF)
    assert sum(iter_baseline_split_counts(bam_path, splits)) == len(truth)


def test_a_block_on_a_range_boundary_is_read_twice(bam_fixtures):
    # hadoop-bam's end (e << 16) | 0xffff takes in the whole block at e, which the next
    # split also reads: a range boundary exactly on a block start duplicates its records.
    fixture = bam_fixtures["many_blocks.block_aligned"]
    boundary = fixture.block_starts[len(fixture.block_starts) // 2]
    ranges = [ByteRange(0, boundary), ByteRange(boundary, fixture.file_size)]
    with open_bam(str(fixture.path)) as bam:
        splits = hadoop_bam_splits(bam, ranges)
    in_boundary_block = sum(1 for p in fixture.record_pos if p.block_pos == boundary)
    assert in_boundary_block > 0
    counts = list(iter_baseline_split_counts(str(fixture.path), splits))
    assert sum(counts) == fixture.n_records + in_boundary_block


# -- helpers --------------------------------------------------------------------------------


def test_split_lengths_and_stats_in_spark_bam_wording():
    splits = [Split(Pos.parse(a), Pos.parse(b)) for a, b in (s.split("-") for s in OURS_230K)]
    lengths = [split_length(s) for s in splits]
    assert lengths == [224301, 244822, 113078]
    assert stats_lines(lengths) == ["N: 3, μ/σ: 194067/57877.4, med/mad: 224301/20521",
                                    " elems: 224301 244822 113078", "sorted: 113078 224301 244822"]


def test_diff_by_start():
    a, b, c, d = (Pos(n, 0) for n in (1, 2, 3, 4))
    ours = [Split(a, b), Split(b, d)]
    theirs = [Split(a, Pos(2, 0xFFFF)), Split(c, Pos(4, 0xFFFF))]
    assert diff_splits(ours, theirs) == [(Split(b, d), None), (None, Split(c, Pos(4, 0xFFFF)))]


# -- commands -------------------------------------------------------------------------------


@pytest.mark.spark
def test_compare_splits_command(corpus_dir, tmp_path, capsys):
    listing = tmp_path / "bams.txt"
    listing.write_text(f"{corpus_dir / (SPARK_BAM + '1.bam')}\n\n{corpus_dir / (SPARK_BAM + '2.bam')}\n")
    assert cli_main(["compare-splits", str(listing), "-m", "230k", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["bams"], report["mismatched"], report["errors"]) == (2, 1, 0)
    first = report["results"][0]
    assert first["sparkbam_only"] == [OURS_230K[1].split("-")]
    assert first["hadoop_bam_only"] == [HADOOP_BAM_230K[1].split("-")]
    assert cli_main(["compare-splits", str(listing), "-m", "230k", "-r", "1"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("All 1 BAMs' splits (totals: ") and text[0].endswith(") matched!")
    assert text[2:4] == ["Total split-computation time:", text[3]] and text[3].startswith("\thadoop-bam:\t")
    assert "Ratio: " in "\n".join(text)


def run_json(capsys, *argv):
    assert cli_main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def run_text(capsys, *argv):
    assert cli_main(list(argv)) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.spark
def test_compute_splits_command_on_spark_bam_1_bam(corpus_dir, capsys):
    bam = str(corpus_dir / f"{SPARK_BAM}1.bam")
    report = run_json(capsys, "compute-splits", bam, "-m", "230k")
    assert ["-".join(pair) for pair in report["splits"]] == OURS_230K
    assert ["-".join(pair) for pair in report["hadoop_bam_splits"]] == HADOOP_BAM_230K
    assert report["matched"] is False and set(report["seconds"]) == {"sparkbam", "hadoop_bam"}
    text = run_text(capsys, "compute-splits", bam, "-m", "230k")
    assert text[0].startswith("Get sparkbam splits: ") and text[1].startswith("Get hadoop-bam splits: ")
    assert text[2:] == ["", "2 splits differ (totals: 3, 3):", "\t\t239479:311-471040:65535", "\t239479:312-484396:25"]
    text = run_text(capsys, "compute-splits", bam, "-m", "240k", "-s")
    assert text[1:] == ["", "Split-size distribution:", "N: 3, μ/σ: 194067/74433.1, med/mad: 244941/3497",
                        " elems: 248438 244941 88822", "sorted: 88822 244941 248438", "",
                        "3 splits:", "\t0:45846-263656:191", "\t263656:191-508565:287", "\t508565:287-597482:0"]


@pytest.mark.spark
def test_compute_splits_equal_the_records_truth(corpus_dir, capsys):
    # Ours equal the truth; the baseline's starts differ only where it accepted a position
    # that is not a record start (a false positive) before the range's true first record.
    for records in sorted(corpus_dir.glob("hammerlab__spark-bam/*.bam.records")):
        bam = str(records)[: -len(".records")]
        truth = [Pos(*map(int, line.split(","))) for line in records.read_text().split()]
        true_starts = set(truth)
        size = Path(bam).stat().st_size
        for split_size in sorted({max(1000, size // k) for k in (2, 5, 13)}):
            report = run_json(capsys, "compute-splits", bam, "-m", str(split_size))
            expected = truth_splits_for_ranges(truth, compute_byte_ranges(size, split_size), size)
            assert [tuple(map(Pos.parse, pair)) for pair in report["splits"]] == expected, (records.name, split_size)
            ours = {Pos.parse(a) for a, _ in report["splits"]}
            for start, _ in report["hadoop_bam_splits"]:
                start = Pos.parse(start)
                assert start in ours or start not in true_starts, (records.name, split_size, start)


@pytest.mark.spark
def test_count_reads_command(corpus_dir, capsys):
    bam = str(corpus_dir / f"{SPARK_BAM}1.bam")
    report = run_json(capsys, "count-reads", bam, "-m", "230k")
    assert report["counts"] == {"sparkbam": 4917, "hadoop_bam": None} and report["matched"] is False
    assert "239479:311" in report["hadoop_bam_error"]
    text = run_text(capsys, "count-reads", bam, "-m", "230k", "-s")
    assert text[0].startswith("sparkbam read-count time: ") and text[1].startswith("hadoop-bam read-count time: ")
    assert text[2:4] == ["", "sparkbam found 4917 reads, hadoop-bam threw exception:"]
    assert "BaselineReadError" in text[-1] and "239479:311" in text[-1]
    assert run_text(capsys, "count-reads", bam, "-m", "240k")[-1] == "Read counts matched: 4917"


@pytest.mark.spark
def test_count_reads_shows_the_baseline_duplicating_a_boundary_block(bam_fixtures, capsys):
    fixture = bam_fixtures["many_blocks.block_aligned"]
    boundary = fixture.block_starts[len(fixture.block_starts) // 3]  # range 1 starts on this block
    doubled = sum(1 for p in fixture.record_pos if p.block_pos == boundary)
    report = run_json(capsys, "count-reads", str(fixture.path), "-m", str(boundary))
    assert report["counts"]["sparkbam"] == fixture.n_records
    assert report["counts"]["hadoop_bam"] >= fixture.n_records + doubled > fixture.n_records


@pytest.mark.spark
def test_time_load_command(corpus_dir, capsys):
    bam = str(corpus_dir / f"{SPARK_BAM}1.bam")
    assert run_text(capsys, "time-load", bam, "-m", "240k")[-1] == "All 3 partition-start reads matched"
    report = run_json(capsys, "time-load", bam, "-m", "230k")
    assert len(report["first_reads"]["sparkbam"]) == 3 and "hadoop_bam" not in report["first_reads"]
    assert "239479:311" in report["hadoop_bam_error"]
    text = run_text(capsys, "time-load", bam, "-m", "230k")
    assert text[3:5] == ["sparkbam collected 3 partitions' first-reads", "hadoop-bam threw an exception:"]
