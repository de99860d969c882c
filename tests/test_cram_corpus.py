"""CRAMs converted from the real-world corpus: exactly once at several split sizes, equal to
pysam's sequential read.

Which files: every corpus BAM of at most 400 KB and 5,000 records (299 of the 348 today),
converted ``no_ref``; every fourth of them also with a generated reference when its @SQ
lines total at most 20 Mbp (a random FASTA of that size is cheap).  Files samtools refuses
to convert are counted and listed, not failed.  Conversion is time-boxed
(``CONVERT_BUDGET_SECONDS``): on a slow machine the rest is left out and the test says how
many it covered.
"""
from __future__ import annotations

import csv
import time

import pytest

from cram_truth import count_tasks, our_records, plan, read_tasks, truth_records
from fixtures.cram import SAMTOOLS, convert_to_cram, sq_lines, write_random_reference

pytestmark = [pytest.mark.slow, pytest.mark.skipif(SAMTOOLS is None, reason="samtools is needed to write CRAM")]

MAX_BYTES, MAX_RECORDS = 400_000, 5_000
WITH_REFERENCE_EVERY = 4
MAX_REFERENCE_BASES = 20_000_000
CONVERT_BUDGET_SECONDS = 150


def _selected(corpus_dir):
    with open(corpus_dir / "MANIFEST.tsv") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    # "NA" records: files the manifest could not count (corrupt or truncated on purpose).
    return [corpus_dir / row["file"] for row in rows
            if row["records"].isdigit() and int(row["bytes"]) <= MAX_BYTES and int(row["records"]) <= MAX_RECORDS]


@pytest.fixture(scope="module")
def corpus_crams(corpus_dir, tmp_path_factory):
    directory = tmp_path_factory.mktemp("corpus_crams")
    selected = _selected(corpus_dir)
    made, refused, started = [], [], time.monotonic()
    for number, bam in enumerate(selected):
        if time.monotonic() - started > CONVERT_BUDGET_SECONDS:
            break
        stem = f"{number:03d}"
        out = directory / f"{stem}.noref.cram"
        if convert_to_cram(bam, out):
            made.append((bam, out, None))
        else:
            refused.append(bam.name)
            continue
        references = sq_lines(bam)
        if number % WITH_REFERENCE_EVERY == 0 and references and sum(n for _, n in references) <= MAX_REFERENCE_BASES:
            fasta = write_random_reference(references, directory / f"{stem}.fa")
            out = directory / f"{stem}.ref.cram"
            if convert_to_cram(bam, out, fasta, version="3.1" if number % 8 == 0 else "2.1"):
                made.append((bam, out, fasta))
    print(f"\ncorpus CRAMs: {len(made)} from {len(selected)} selected BAMs "
          f"({number + 1} tried in the time box); samtools refused {len(refused)}: {refused[:10]}")
    return made


def test_corpus_crams_read_exactly_once(corpus_crams):
    assert corpus_crams, "no corpus BAM converted"
    failures = []
    for bam, cram, fasta in corpus_crams:
        reference = fasta and str(fasta)
        try:
            truth = truth_records(str(cram), reference)
        except (OSError, ValueError) as error:  # pysam itself cannot read it back: not ours to judge
            print(f"skipped {bam.name}: pysam cannot read its CRAM back ({error})")
            continue
        size = cram.stat().st_size
        for split_size in (size // 3 + 1, 3_000):
            tasks = plan(cram, split_size, reference)
            if count_tasks(tasks) != len(truth) or our_records(read_tasks(tasks)) != truth:
                failures.append((bam.name, cram.name, split_size))
    assert not failures
