"""Exactly once over the real-world corpus (../shared/corpus): 348 BAMs from ~65 writers.

For every file and split sizes from a few hundred bytes to more than the file, the split
reading equals pysam's sequential read (position and name of every record) where pysam reads
the file, and the project's own sequential walk where htslib refuses it.  A file the walk
rejects as damaged must make the split reading raise too, never return a short result.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from spark.oracle import assert_same_records, pysam_records, split_records, split_sizes_for, walk_records
from sparkbam_py.errors import SparkBamError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.tsv"


def corpus_files():
    if not MANIFEST.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"corpus not found at {CORPUS}"))]
    with open(MANIFEST, newline="") as manifest:
        return [row["file"] for row in csv.DictReader(manifest, delimiter="\t")]


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_files())
def test_splits_read_every_corpus_record_once(name):
    path = CORPUS / name
    try:
        walked = walk_records(path)
    except SparkBamError:
        for split_size in split_sizes_for(path.stat().st_size):
            with pytest.raises(SparkBamError):
                split_records(path, split_size)
        return
    truth = pysam_records(path) or walked
    for split_size in split_sizes_for(path.stat().st_size):
        assert_same_records(split_records(path, split_size), truth, f"{name} at split size {split_size}")
