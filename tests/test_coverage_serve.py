"""The service's answers equal samtools depth and numpy over the store's values (and pysam for reads); every bad
parameter is a 4xx with a JSON message; files are served with HTTP Range; concurrent
requests under waitress get the same answers."""
from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pysam
import pytest
import requests

pytest.importorskip("waitress")
pytest.importorskip("PIL")

from PIL import Image  # noqa: E402 (after the skip guards)

from depth_fixtures.data import samtools_depth  # noqa: E402 (after the skip guards)
from depth_fixtures.served_data import build_served_data  # noqa: E402 (after the skip guards)
from depth_fixtures.server import ServedApp  # noqa: E402 (after the skip guards)
from sparkbam_py.coverage.store import CoverageStore  # noqa: E402 (after the skip guards)
from sparkbam_py.serve.app import create_app  # noqa: E402 (after the skip guards)
from sparkbam_py.serve.png import PALETTE  # noqa: E402 (after the skip guards)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    bam, store = build_served_data(tmp_path_factory.mktemp("served"))
    with ServedApp(create_app(str(store), [str(bam)])) as server:
        yield server, bam, CoverageStore(store)


@pytest.fixture(scope="module")
def truth(served):
    """samtools depth -aa of the served BAM: what the ``all`` track must equal at every base."""
    return samtools_depth(served[1])


def get(server, path, **kwargs):
    return requests.get(server.url(path), timeout=30, **kwargs)


def test_contigs_lists_the_store(served):
    server, bam, store = served
    body = get(server, "/api/contigs").json()
    assert body["contigs"] == store.contigs and body["tracks"] == store.tracks
    assert body["strands"] == {"+": "+", "-": "-"} and body["bams"] == [bam.name]
    assert {bam.name, bam.name + ".bai", bam.name + ".bai.json", "manifest.json"} <= set(body["files"])


@pytest.mark.parametrize("start, end", [(0, 20_000), (123, 124), (4_567, 13_001), (19_999, 20_000)])
def test_means_equal_numpy_over_the_values(served, truth, start, end):
    server, _, store = served
    body = get(server, f"/api/coverage/chrA?start={start}&end={end}").json()
    values = store.values("chrA", start, end).astype(np.float64)
    assert np.array_equal(values[:, 0], truth["chrA"][start:end])
    expected = values.mean(axis=0)
    assert body["contig"] == "chrA" and (body["start"], body["end"]) == (start, end)
    assert list(body["tracks"]) == store.tracks
    assert np.allclose([body["tracks"][name] for name in store.tracks], expected, rtol=1e-12)
    assert np.isclose(body["+"][0], expected[1]) and np.isclose(body["-"][0], expected[2])


def test_bins_and_per_base_values_equal_numpy(served, truth):
    server, _, store = served
    depth = store.values("chrB", 0, store.length("chrB")).astype(np.float64)
    assert np.array_equal(depth[:, 0], truth["chrB"][:len(depth)])
    body = get(server, "/api/coverage/chrB?start=100&end=1100&bins=7").json()
    edges = 100 + (np.arange(8) * 1000) // 7
    for index, name in enumerate(store.tracks):
        expected = [depth[lo:hi, index].mean() for lo, hi in zip(edges[:-1], edges[1:])]
        assert np.allclose(body["tracks"][name], expected)
    per_base = get(server, "/api/coverage/chrB?start=500&end=600&bins=100&track=rg:rg2").json()
    assert list(per_base["tracks"]) == ["rg:rg2"]
    assert per_base["tracks"]["rg:rg2"] == depth[500:600, store.tracks.index("rg:rg2")].tolist()
    by_index = get(server, "/api/coverage/chrB?start=500&end=600&track=2").json()
    assert list(by_index["tracks"]) == ["-"] and "+" not in by_index


def test_png_draws_plus_up_and_minus_down(served):
    server, _, store = served
    response = get(server, "/api/coverage/chrA?start=0&end=20000&width=400&height=200")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    assert image.shape == (200, 400, 3)
    plus_rows = np.flatnonzero((image == PALETTE[1]).all(axis=2).any(axis=1))
    minus_rows = np.flatnonzero((image == PALETTE[2]).all(axis=2).any(axis=1))
    baseline = (200 - 18) // 2
    assert plus_rows.size and minus_rows.size
    assert plus_rows.min() < baseline <= minus_rows.max() and minus_rows.max() > baseline + 5


def test_reads_equal_pysam_fetch(served):
    server, bam, _ = served
    body = get(server, "/api/reads/chrA?start=5000&end=6000&limit=10000").json()
    with pysam.AlignmentFile(str(bam)) as reads:
        expected = [(r.query_name, r.reference_start, r.cigarstring) for r in reads.fetch("chrA", 5000, 6000)]
    assert [(r["query_name"], r["reference_start"], r["cigar"]) for r in body["reads"]] == expected
    assert body["truncated"] is False and len(expected) > 10
    limited = get(server, "/api/reads/chrA?start=5000&end=6000&limit=3").json()
    assert limited["truncated"] is True and limited["reads"] == body["reads"][:3]


def test_reads_are_planned_with_the_bai_json(served):
    from sparkbam_py.intervals import BaiJsonIndex, open_index

    _, bam, _ = served
    with open_index(str(bam)) as index:
        assert isinstance(index, BaiJsonIndex)


def test_files_answer_range_requests(served):
    server, bam, _ = served
    data = bam.read_bytes()
    url = f"/files/{bam.name}"
    whole = get(server, url)
    assert whole.status_code == 200 and whole.content == data and whole.headers["Accept-Ranges"] == "bytes"
    part = get(server, url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == data[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert get(server, url, headers={"Range": "bytes=-50"}).content == data[-50:]
    head = requests.head(server.url(url), timeout=30)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data)) and not head.content
    outside = get(server, url, headers={"Range": f"bytes={len(data)}-"})
    assert outside.status_code == 416 and outside.headers["Content-Range"] == f"bytes */{len(data)}"
    bai_json = get(server, f"/files/{bam.name}.bai.json").json()
    assert "minBlockIndex" in bai_json


def test_an_exported_bigwig_is_served_by_range(served):
    server, _, store = served
    path = store.path + "/all.bw"
    if not os.path.exists(path):
        pytest.skip("pybigtools absent: no bigWig exported")
    data = open(path, "rb").read()
    part = get(server, "/files/all.bw", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == data[:4]
    assert int.from_bytes(part.content, "little") == 0x888FFC26  # the bigWig magic


@pytest.mark.parametrize("path, status", [
    ("/api/coverage/nope", 404),
    ("/api/coverage/chrA?start=x", 400),
    ("/api/coverage/chrA?start=-5&end=10", 400),
    ("/api/coverage/chrA?start=10&end=5", 400),
    ("/api/coverage/chrA?start=10&end=10", 400),
    ("/api/coverage/chrA?start=0&end=20001", 400),
    ("/api/coverage/chrA?start=1&start=2", 400),
    ("/api/coverage/chrA?bins=0", 400),
    ("/api/coverage/chrA?start=0&end=10&bins=11", 400),
    ("/api/coverage/chrA?bins=100000", 400),
    ("/api/coverage/chrA?width=10000&height=100", 400),
    ("/api/coverage/chrA?width=100", 400),
    ("/api/coverage/chrA?width=100&height=100&bins=3", 400),
    ("/api/coverage/chrA?track=nope", 400),
    ("/api/coverage/chrA?track=99", 400),
    ("/api/coverage/chrA?colour=red", 400),
    ("/api/coverage/chrA?start=99999999999999999999", 400),
    ("/api/reads/nope?start=0&end=10", 404),
    ("/api/reads/chrA?start=0&end=20000&limit=0", 400),
    ("/api/reads/chrA?limit=100001", 400),
    ("/api/reads/chrA?start=0&end=20001", 400),
    ("/files/../manifest.json", 404),
    ("/files/%2e%2e%2fmanifest.json", 404),
    ("/files/parts/x.bin", 404),
    ("/files/nothing.bam", 404),
    ("/api/nothing", 404),
    ("/?x=1", 400),
])
def test_bad_requests_are_4xx_with_a_json_message(served, path, status):
    server, _, _ = served
    response = get(server, path)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json" and response.json()["error"]


def test_other_methods_are_refused(served):
    server, _, _ = served
    response = requests.post(server.url("/api/contigs"), timeout=30)
    assert response.status_code == 405 and "method" in response.json()["error"]


def test_concurrent_requests_get_the_same_answers(served):
    server, _, store = served
    paths = [f"/api/coverage/chrA?start={s}&end={s + 777}&bins=7" for s in range(0, 19_000, 500)]
    expected = {path: get(server, path).json() for path in paths}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda path: (path, get(server, path).json()), paths * 4))
    assert all(answer == expected[path] for path, answer in answers)


def test_page_and_script_are_our_own(served):
    server, _, _ = served
    page = get(server, "/")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert '<script src="/static/coverage.js">' in page.text and "http" not in page.text.split("<body>")[1]
    script = get(server, "/static/coverage.js")
    assert script.status_code == 200 and "/api/coverage/" in script.text
