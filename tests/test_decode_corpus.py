"""Every real-world BAM of the shared corpus that pysam can read decodes exactly as pysam reads it."""
from __future__ import annotations

import gzip
import warnings
import zlib

import pysam
import pytest

from test_decode_oracle import decode_file, decoded_rows, expected_row

# Larger files would only slow the per-record pysam comparison down.
MAX_FILE_BYTES = 8_000_000


def pysam_rows(path):
    """pysam's reading, or None when pysam (or plain gzip) cannot read the file at all."""
    try:
        gzip.decompress(path.read_bytes())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # files without the BGZF EOF marker still count
            with pysam.AlignmentFile(str(path), "rb", check_sq=False, ignore_truncation=True) as bam:
                return [expected_row(segment) for segment in bam.fetch(until_eof=True)]
    except (OSError, ValueError, EOFError, zlib.error):
        return None


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_bams_decode_like_pysam(corpus_dir):
    checked, mismatches = 0, []
    for path in sorted(corpus_dir.rglob("*.bam")):
        if path.stat().st_size > MAX_FILE_BYTES:
            continue
        expected = pysam_rows(path)
        if expected is None:
            continue
        got = decoded_rows(decode_file(path))
        checked += 1
        if got != expected:
            first = next(i for i, (a, b) in enumerate(zip(got + [None], expected + [None])) if a != b)
            mismatches.append(f"{path.name}: record {first}")
    assert checked > 0
    assert mismatches == []
