"""check-bam, check-blocks and full-check on spark-bam's test BAMs, through the command line
(local Spark), text and JSON, against the figures spark-bam's own tests expect."""
from __future__ import annotations

import json

import pytest

from sparkbam_py.cli.main import main

pytestmark = [pytest.mark.spark, pytest.mark.corpus, pytest.mark.slow]

SPARK_BAM = "hammerlab__spark-bam"
BAM_1 = "test-bams__src__main__resources__1.bam"
BAM_2 = "test-bams__src__main__resources__2.bam"
FALSE_POSITIVES_1 = ["39374:30965", "239479:311", "484396:46507", "508565:56574", "533464:49472"]


@pytest.fixture(scope="module")
def bam_1(corpus_dir):
    return str(corpus_dir / SPARK_BAM / BAM_1)


@pytest.fixture(scope="module")
def bam_2(corpus_dir):
    return str(corpus_dir / SPARK_BAM / BAM_2)


def run(capsys, *argv):
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_check_bam_text(capsys, bam_1):
    lines = run(capsys, "check-bam", bam_1, "-m", "200k").splitlines()
    assert lines[:4] == ["1608257 uncompressed positions", "583K compressed", "Compression ratio: 2.69", "4917 reads"]
    eager = lines.index("eager: true positives 4917, false positives 0, true negatives 1603340, false negatives 0")
    assert lines[eager + 1] == "All calls matched!"
    hadoop = lines.index("hadoop_bam: true positives 4917, false positives 5, true negatives 1603335, "
                         "false negatives 0")
    assert lines[hadoop + 1] == "5 false positives, 0 false negatives"
    assert "False-positive-site flags histogram:" in lines
    listed = [line for line in lines if line.startswith("\t") and "bytes before" in line]
    assert [line.split(":\t")[0].strip() for line in listed] == FALSE_POSITIVES_1
    assert listed[0].startswith("\t39374:30965:\t1 bytes before D0N7FACXX120305:6:2301:3845:171905 "
                                "(76 unmapped read at 1:24795617). Failing checks: ")
    assert "emptyReadName" in listed[0] and "tooLargeReadPos" in listed[0]


def test_check_bam_json(capsys, bam_1):
    data = json.loads(run(capsys, "check-bam", bam_1, "-m", "200k", "--json"))
    assert (data["positions"], data["reads"]) == (1608257, 4917)
    eager, hadoop = data["checkers"]["eager"], data["checkers"]["hadoop_bam"]
    assert (eager["tp"], eager["fp"], eager["tn"], eager["fn"]) == (4917, 0, 1603340, 0)
    assert eager["false_positives"] == eager["false_negatives"] == []
    assert (hadoop["fp"], hadoop["fn"]) == (5, 0)
    assert hadoop["false_positives"] == FALSE_POSITIVES_1
    detail = hadoop["false_positive_details"][1]
    assert detail["pos"] == "239479:311" and detail["next_read"]["bytes_before"] == 1
    assert detail["next_read"]["contig"] == "1" and detail["next_read"]["start"] == 24973169


def test_check_bam_one_checker_and_ranges(capsys, bam_1):
    data = json.loads(run(capsys, "check-bam", bam_1, "--checkers", "hadoop_bam", "-i", "200k-300k", "--json"))
    assert list(data["checkers"]) == ["hadoop_bam"]
    assert data["checkers"]["hadoop_bam"]["false_positives"] == ["239479:311"]
    assert 0 < data["positions"] < 1608257


def test_check_blocks_text_and_json(capsys, bam_1):
    lines = run(capsys, "check-blocks", bam_1, "-m", "200k").splitlines()
    assert lines[0] == "eager: First read-position matched in 25 BGZF blocks totaling 583KB (compressed)"
    assert "hadoop_bam: First read-position mismatched in 1 of 25 BGZF blocks" in lines
    assert "25871 of 597482 (0.043300049206503294) compressed positions would lead to bad splits" in lines
    assert "\t239479 (prev block size: 25871):\t239479:312\t239479:311" in lines
    assert any(line.startswith("N: 25, μ/σ: 2004/8950, med: 191") for line in lines)
    data = json.loads(run(capsys, "check-blocks", bam_1, "-m", "200k", "--json"))
    assert data["blocks"] == 25 and data["checkers"]["eager"]["mismatched_blocks"] == 0
    hadoop = data["checkers"]["hadoop_bam"]
    assert (hadoop["mismatched_blocks"], hadoop["bad_split_positions"]) == (1, 25871)
    assert hadoop["mismatches"] == [{"block": 239479, "prev_block_size": 25871,
                                     "expected": "239479:312", "actual": "239479:311"}]


def test_full_check_text_and_json(capsys, bam_1, bam_2):
    lines = run(capsys, "full-check", bam_2, "-m", "200k").splitlines()
    assert lines[:5] == ["1606522 uncompressed positions", "519K compressed", "Compression ratio: 3.02",
                         "2500 reads", "All calls matched!"]
    assert "No positions where only one check failed" in lines
    assert "378 positions where exactly two checks failed:" in lines
    assert "\t\t378:\temptyReadName,invalidCigarOp" in lines
    data = json.loads(run(capsys, "full-check", bam_1, "-m", "200k", "--json"))
    assert data["mismatches"] == 0 and data["reads"] == 4917
    totals = data["totals"]
    # The checks defined as spark-bam defines them total what its full-check test expects.
    expected = {"tooLargeReadIdx": 1492210, "tooLargeNextReadIdx": 1492210, "nonNullTerminatedReadName": 1320219,
                "noReadName": 124817, "negativeReadIdx": 71206, "negativeReadPos": 71206,
                "negativeNextReadIdx": 71206, "negativeNextReadPos": 71206, "tooLargeReadPos": 23548,
                "tooLargeNextReadPos": 23548, "emptyReadName": 19866, "tooFewBytesForReadName": 76}
    assert {name: totals[name] for name in expected} == expected
    assert data["one_check_failed"]["count"] == 0
