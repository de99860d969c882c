"""htsget tickets on generated files whose records and lines cross BGZF blocks: what a client
assembles is a valid file holding every record of the region once (pysam's fetch of the
original is the oracle), for BAM (BAI with and without .bai.json, CSI), CRAM and VCF."""
from __future__ import annotations

import json
import random

import pysam
import pytest

from htsget_support import call, download, fetch_keys, make_bam, make_cram, make_vcf, overlapping_keys
from sparkbam_py.bgzf.constants import EOF_MARKER
from sparkbam_py.serve.htsget import create_htsget_app

REGIONS = [("chr1", 0, 2_000_000), ("chr1", 1000, 1001), ("chr1", 555_000, 600_000), ("chr2", 0, 50),
           ("chr3", 4_000_000, 4_100_000), ("chr2", 299_000, 300_000), ("empty", 0, 900)]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("htsget")
    bam = make_bam(root / "runs", "a")
    make_bam(root / "runs", "plain", bai_json=False)
    make_bam(root / "runs", "csi", csi=True)
    make_cram(bam, root / "runs", "c")
    make_vcf(root / "vcf", "calls")
    return root, create_htsget_app([str(root)])


def ticket_file(app, tmp_path, path, query="", method="GET", body=b"", suffix=".bam"):
    answer = call(app, path, query, method, body)
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("application/vnd.ga4gh.htsget.v1.3.0+json")
    ticket = answer.json()
    classes = [entry["class"] for entry in ticket["htsget"]["urls"]]
    assert classes == sorted(classes, key=lambda c: c != "header"), "header pieces come first"
    out = tmp_path / f"got{suffix}"
    out.write_bytes(download(app, ticket))
    return ticket, out


@pytest.mark.parametrize("name", ["a", "plain", "csi"])
def test_bam_regions_hold_exactly_the_fetched_reads(served, tmp_path, name):
    root, app = served
    original = root / "runs" / f"{name}.bam"
    for ref, start, end in REGIONS:
        _, got = ticket_file(app, tmp_path, f"/reads/runs/{name}", f"referenceName={ref}&start={start}&end={end}")
        assert got.read_bytes().endswith(EOF_MARKER)
        kept = overlapping_keys(got, ref, start, end)
        assert kept == fetch_keys(original, ref, start, end), (name, ref, start, end)
        every = overlapping_keys(got, None)
        assert len(every) == len(set(every)), "a record came twice"


def test_unplaced_whole_and_header_only(served, tmp_path):
    root, app = served
    original = root / "runs" / "a.bam"
    _, got = ticket_file(app, tmp_path, "/reads/runs/a", "referenceName=*")
    assert overlapping_keys(got, None) == fetch_keys(original, "*") and len(fetch_keys(original, "*")) == 50
    _, got = ticket_file(app, tmp_path, "/reads/runs/a")
    assert overlapping_keys(got, None) == overlapping_keys(original, None)
    ticket, got = ticket_file(app, tmp_path, "/reads/runs/a", "class=header&format=BAM")
    with pysam.AlignmentFile(str(got)) as handle, pysam.AlignmentFile(str(original)) as whole:
        assert str(handle.header) == str(whole.header)
        assert list(handle.fetch(until_eof=True)) == []


def test_post_regions_merge_in_file_order(served, tmp_path):
    root, app = served
    body = json.dumps({"format": "bam", "regions": [
        {"referenceName": "chr3", "start": 10, "end": 400_000}, {"referenceName": "chr1"},
        {"referenceName": "chr1", "start": 500, "end": 90_000}, {"referenceName": "*"}]}).encode()
    _, got = ticket_file(app, tmp_path, "/reads/runs/a", method="POST", body=body)
    expected = fetch_keys(root / "runs/a.bam", "chr1") + fetch_keys(root / "runs/a.bam", "chr3", 10, 400_000)
    kept = [key for key in overlapping_keys(got, None)
            if key[2] == "chr1" or (key[2] == "chr3" and key in set(expected))]
    assert sorted(kept) == sorted(expected)
    assert [k for k in overlapping_keys(got, "*")] == fetch_keys(root / "runs/a.bam", "*")
    every = overlapping_keys(got, None)
    assert len(every) == len(set(every))


def test_cram_regions(served, tmp_path):
    root, app = served
    original = root / "runs" / "c.cram"
    for ref, start, end in REGIONS[:5] + [("*", None, None)]:
        query = f"format=CRAM&referenceName={ref}" + (f"&start={start}&end={end}" if start is not None else "")
        ticket, got = ticket_file(app, tmp_path, "/reads/runs/c", query, suffix=".cram")
        assert ticket["htsget"]["format"] == "CRAM"
        if ref == "*":
            assert overlapping_keys(got, "*") == fetch_keys(original, "*")
        else:
            assert overlapping_keys(got, ref, start, end) == fetch_keys(original, ref, start, end)


def test_vcf_regions_equal_tabix(served, tmp_path):
    root, app = served
    original = root / "vcf" / "calls.vcf.gz"
    with pysam.TabixFile(str(original)) as tabix:
        for ref, start, end in REGIONS:
            ticket, got = ticket_file(app, tmp_path, "/variants/vcf/calls",
                                      f"referenceName={ref}&start={start}&end={end}", suffix=".vcf.gz")
            pysam.tabix_index(str(got), preset="vcf", force=True)  # the assembled file is a valid bgzipped VCF
            with pysam.TabixFile(str(got)) as assembled:
                fetched = list(tabix.fetch(ref, start, end)) if ref in tabix.contigs else []
                again = list(assembled.fetch(ref, start, end)) if ref in assembled.contigs else []
                assert again == fetched, (ref, start, end)
                assert assembled.header == tabix.header


@pytest.mark.parametrize("name", ["a", "plain"])
def test_only_the_asked_references_slice_of_the_bai_is_read(served, name):
    """With a .bai.json, or with slice offsets found once in the .bai, a ticket reads one slice."""
    root, _ = served
    app = create_htsget_app([str(root)])
    spans = json.loads((root / "runs/a.bam.bai.json").read_text())["chunks"]  # same BAI layout for both
    assert call(app, f"/reads/runs/{name}", "referenceName=chr2&start=0&end=100").status == 200
    (source,) = app.sources._sources.values()
    chr2 = json.loads(json.dumps(source.index.bai_json.chunks))[1]
    json_bytes = (root / "runs/a.bam.bai.json").stat().st_size if name == "a" else 0
    assert source.index.fetched() == {"requests": 1 + (name == "a"), "bytes_fetched": json_bytes + chr2[1] - chr2[0]}
    assert call(app, f"/reads/runs/{name}", "referenceName=chr2&start=5000&end=9000").status == 200
    assert source.index.fetched()["requests"] == 1 + (name == "a"), "a slice read once is kept"
    if name == "a":
        assert chr2 == spans[1]


def test_random_regions_of_many_sizes(served, tmp_path):
    root, app = served
    rng = random.Random(11)
    for _ in range(12):
        ref, length = rng.choice([("chr1", 2_000_000), ("chr3", 5_000_000)])
        start = rng.randrange(length)
        end = min(length, start + rng.choice([1, 100, 10_000, 1_000_000]))
        _, got = ticket_file(app, tmp_path, "/reads/runs/a", f"referenceName={ref}&start={start}&end={end}")
        assert overlapping_keys(got, ref, start, end) == fetch_keys(root / "runs/a.bam", ref, start, end)
