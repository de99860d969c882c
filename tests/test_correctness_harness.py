"""bench/correctness.py on a small folder: corpus BAMs (linked, never copied into the repo),
a generated one, and files that are not BAM; its TSV, its summary and its exit status."""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "bench" / "correctness.py"
SPARK_BAM = "hammerlab__spark-bam"


def load_harness():
    spec = importlib.util.spec_from_file_location("correctness_harness", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.spark
@pytest.mark.corpus
@pytest.mark.slow
def test_harness_over_a_small_folder(tmp_path, corpus_dir, bam_fixtures, capsys):
    folder = tmp_path / "bams"
    folder.mkdir()
    for name in ("test-bams__src__main__resources__1.bam", "test-bams__src__main__resources__2.bam"):
        (folder / name).symlink_to(corpus_dir / SPARK_BAM / name)
    (folder / "generated.bam").symlink_to(bam_fixtures["long_reads.htsjdk"].path)
    (folder / "text.bam").write_text("not a BAM at all\n")
    (folder / "empty.bam").write_bytes(b"")
    tsv = tmp_path / "out.tsv"

    status = load_harness().main([str(folder), "--tsv", str(tsv)])

    assert status == 0
    with open(tsv, encoding="utf-8") as handle:
        rows = {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}
    assert list(next(iter(rows.values())).keys()) == ["file", "positions", "reads", "eager_fp", "eager_fn",
                                                      "hadoop_bam_fp", "hadoop_bam_fn", "seconds", "error"]
    one = rows["test-bams__src__main__resources__1.bam"]
    assert (one["positions"], one["reads"], one["eager_fp"], one["eager_fn"]) == ("1608257", "4917", "0", "0")
    assert (one["hadoop_bam_fp"], one["hadoop_bam_fn"], one["error"]) == ("5", "0", "")
    generated = rows["generated.bam"]
    assert generated["reads"] == str(bam_fixtures["long_reads.htsjdk"].n_records)
    assert (generated["eager_fp"], generated["eager_fn"]) == ("0", "0")
    assert rows["text.bam"]["error"].startswith("NotBgzfError") and rows["text.bam"]["positions"] == ""
    assert rows["empty.bam"]["error"]
    out = capsys.readouterr().out
    assert "5 BAMs: 3 checked" in out and "eager: 0 false positives, 0 false negatives, in 0 files" in out


def test_any_eager_false_call_fails_the_run(capsys):
    harness = load_harness()
    good = {"file": "a.bam", "error": "", "positions": 10, "reads": 1, "eager_fp": 0, "eager_fn": 0,
            "hadoop_bam_fp": 3, "hadoop_bam_fn": 0, "eager_examples": []}
    assert harness.report([good], 1.0) == 0
    wrong = dict(good, file="b.bam", eager_fn=1, eager_examples=[("FN", "0:5")])
    assert harness.report([good, wrong], 1.0) == 1
    assert "EAGER WRONG: b.bam" in capsys.readouterr().out
    bug = {"file": "c.bam", "error": "BUG IndexError: index 9 is out of bounds"}
    assert harness.report([good, bug], 1.0) == 1


def test_manifest_lists_the_files_when_present(tmp_path):
    harness = load_harness()
    (tmp_path / "x.sam").write_bytes(b"")
    (tmp_path / "y.bam").write_bytes(b"")
    assert harness.find_bams(tmp_path) == [tmp_path / "y.bam"]
    (tmp_path / "MANIFEST.tsv").write_text("file\tbytes\nx.sam\t0\ny.bam\t0\nmissing.bam\t0\n")
    assert harness.find_bams(tmp_path) == [tmp_path / "x.sam", tmp_path / "y.bam"]
