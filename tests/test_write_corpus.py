"""Every corpus BAM that pysam reads, loaded and written back: the same SAM records.

Spark-free (decoded by the executor code, written by the task code, committed by the
driver code) so that hundreds of files stay within the CI budget; Spark itself is
exercised on a few in ``test_write_spark.py``.  The SAM text is htslib's ``sam_format1``
through pysam's ``to_string``: the formatter ``samtools view`` prints with, without a
process per file (``samtools quickcheck`` still runs on every output).
"""
from __future__ import annotations

import csv
import warnings

import pysam
import pytest

from write_helpers import index_disagreements, quickcheck, samtools_index, write_without_spark

from sparkbam_py.errors import NotBgzfError

# Larger files only slow the SAM-text comparison down; the bench covers big ones.
MAX_FILE_BYTES = 1_000_000
MAX_INDEXED_BYTES = 500_000
# Two ways to cut the same file: one part, and many small parts of small batches.
CUTS = [(1, 100_000), (5, 113)]


def readable_corpus(corpus_dir):
    """Corpus BAMs pysam reads whole (the MANIFEST's quickcheck column), smallest first."""
    with open(corpus_dir / "MANIFEST.tsv") as manifest:
        rows = [row for row in csv.DictReader(manifest, delimiter="\t")
                if row["quickcheck"] == "pass" and int(row["bytes"]) <= MAX_FILE_BYTES]
    return [(corpus_dir / row["file"], row) for row in sorted(rows, key=lambda r: int(r["bytes"]))]


def sam_lines(path):
    """The records as SAM text (htslib's formatter), or None when pysam cannot read the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
                return [read.to_string() for read in bam.fetch(until_eof=True)]
    except (OSError, ValueError):
        return None


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_round_trips(corpus_dir, tmp_path):
    checked, mismatches, indexed = 0, [], 0
    for path, row in readable_corpus(corpus_dir):
        expected = sam_lines(path)
        if expected is None:
            continue
        for parts, rows in CUTS:
            out = tmp_path / "out.bam"
            try:
                write_without_spark(path, out, parts=parts, rows=rows)
            except NotBgzfError:
                break  # plain (un-BGZF'd) BAM streams: the loader does not read them
            if sam_lines(out) != expected or not quickcheck(out):
                mismatches.append(f"{row['file']} ({parts} parts)")
            checked += 1
        bai = tmp_path / "out.bam.bai"
        if bai.exists() and int(row["bytes"]) <= MAX_INDEXED_BYTES:
            reference = samtools_index(tmp_path / "out.bam", tmp_path / "samtools.bai")
            if index_disagreements(tmp_path / "out.bam", bai, reference, queries=15):
                mismatches.append(f"{row['file']}: .bai queries differ")
            indexed += 1
    assert checked > 100 and indexed > 20
    assert mismatches == []
