"""VCF rows equal pysam's VariantFile parsing on every VCF of the real-world text corpus.

Every data line of every file is parsed; the field-by-field comparison with pysam covers the
first records of each file up to a budget of record x sample cells, so the many-sample files
stay fast.  Files that break the VCF spec must raise a typed error naming the path, the
line and the reason (and load in PERMISSIVE mode with the line in ``_corrupt_record``).
"""
from __future__ import annotations

import csv
import gzip
import itertools
from pathlib import Path

import pyarrow as pa
import pysam
import pytest

from sparkbam_py.text.format import LineSource, MalformedLineError
from sparkbam_py.text.vcf import VCF
from vcf_oracle import actual_row, expected_rows

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"
CELL_BUDGET = 20_000  # records x samples compared with pysam per file
MAX_RECORDS = 2_000
# Files that break the VCF spec, and the reason the parser must give.
MALFORMED = {
    "Illumina__hap.py/src__data__faulty_gt.vcf.gz": "GT names an allele index beyond",
    "ga4gh__htsget-refserver/data__test__sources__giab__HG002_GIAB.filtered.vcf.gz":
        "INFO datasetsmissingcall is not Integer",
    "zhanxw__rvtests/example__experimental__1k.1m.vcf.gz": "an ALT allele is empty",
}


def _corpus_vcfs():
    manifest = CORPUS_TEXT / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    # Truncated-on-purpose files are the split layer's business (a typed truncation error).
    return [r["file"] for r in rows if r["kind"] == "vcf"
            and "truncated" not in r["notes"] and "BGZF ERRORS" not in r["notes"]]


def read_lines(path: Path):
    """(header lines, data lines) of a gzip/BGZF text file, terminators removed."""
    with gzip.open(path, "rt", newline="") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    header = [line for line in lines if line.startswith("#")]
    return header, [line for line in lines if line and not line.startswith("#")]


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("name", _corpus_vcfs() or ["<absent>"])
def test_corpus_vcf_matches_pysam(name, tmp_path):
    if name == "<absent>":
        pytest.skip(f"text corpus not found at {CORPUS_TEXT}")
    path = CORPUS_TEXT / name
    header_lines, data = read_lines(path)
    header = VCF.parse_header(header_lines, {})
    lines = pa.array(data, pa.string())
    if name in MALFORMED:
        _check_malformed(path, lines, header, MALFORMED[name])
        return
    batch = VCF.parse(lines, header, {}, LineSource(str(path)))
    assert batch.num_rows == len(data)
    oracle = _oracle_path(path, header_lines, data, tmp_path)
    if oracle is None or any(d.number == "G" for d in header.info.values()):
        # pysam refuses this header, or INFO Number=G values (htslib: FORMAT-only).
        return
    count = min(MAX_RECORDS, max(20, CELL_BUDGET // max(1, len(header.samples))))
    expected = list(itertools.islice(expected_rows(oracle, header, data), count))
    assert len(expected) == min(count, len(data))
    for index, (want, got) in enumerate(zip(expected, batch.slice(0, count).to_pylist())):
        assert actual_row(got, header) == want, f"{name} record {index}: {data[index][:200]}"


def _oracle_path(path: Path, header_lines, data, tmp_path):
    """A path pysam can read with the same records, or None when htslib rejects the header."""
    pysam.set_verbosity(0)
    try:
        with pysam.VariantFile(str(path)) as vcf:
            next(iter(vcf), None)
        return path
    except NotImplementedError:  # plain gzip: htslib cannot seek; give it the text instead
        plain = tmp_path / "plain.vcf"
        plain.write_text("\n".join(header_lines + data) + "\n")
        return plain
    except ValueError:  # htslib refuses this header (e.g. Number=G on INFO, ##format=VCRv3.2)
        return None


def _check_malformed(path: Path, lines: pa.Array, header, reason: str):
    with pytest.raises(MalformedLineError) as caught:
        VCF.parse(lines, header, {}, LineSource(str(path)))
    assert str(path) in str(caught.value) and reason in str(caught.value)
    loose = VCF.parse(lines, header, {"mode": "PERMISSIVE"}, LineSource(str(path)))
    corrupt = loose.column("_corrupt_record")
    assert loose.num_rows == len(lines) and corrupt.null_count < len(lines)
    kept = loose.filter(corrupt.is_null())
    assert kept.column("contigName").null_count == 0
