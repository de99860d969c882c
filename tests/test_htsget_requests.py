"""Bad requests get the spec's error JSON and status (htsget 1.3 "Errors"), never a 500 and never
data; the file endpoint serves Range requests of files under the folders and nothing else."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from htsget_support import call, make_bam, make_vcf
from sparkbam_py.serve.htsget import create_htsget_app, service_info

BAD_GETS = [
    ("/reads/runs/a", "format=SAM", 400, "UnsupportedFormat"),
    ("/reads/runs/a", "format=CRAM", 400, "UnsupportedFormat"),      # served as BAM only
    ("/variants/calls", "format=BCF", 400, "UnsupportedFormat"),
    ("/reads/runs/a", "class=body", 400, "InvalidInput"),
    ("/reads/runs/a", "class=header&referenceName=chr1", 400, "InvalidInput"),
    ("/reads/runs/a", "start=5", 400, "InvalidInput"),
    ("/reads/runs/a", "referenceName=*&start=1", 400, "InvalidInput"),
    ("/reads/runs/a", "referenceName=chr1&start=10&end=5", 400, "InvalidRange"),
    ("/reads/runs/a", "referenceName=chr1&start=-1", 400, "InvalidInput"),
    ("/reads/runs/a", "referenceName=chr1&start=4294967296", 400, "InvalidInput"),
    ("/reads/runs/a", "referenceName=chr1&start=1e3", 400, "InvalidInput"),
    ("/reads/runs/a", "referenceName=chr9", 404, "NotFound"),
    ("/reads/runs/a", "fields=QNAME,NOPE", 400, "InvalidInput"),
    ("/reads/runs/a", "tags=NM,MD&notags=MD", 400, "InvalidInput"),
    ("/reads/runs/a", "tags=NMX", 400, "InvalidInput"),
    ("/reads/runs/a", "bogus=1", 400, "InvalidInput"),
    ("/reads/runs/a", "referenceName=chr1&referenceName=chr2", 400, "InvalidInput"),
    ("/variants/calls", "referenceName=*", 400, "InvalidInput"),
    ("/reads/runs/missing", "", 404, "NotFound"),
    ("/reads/runs/noindex", "", 404, "NotFound"),
    ("/reads/../runs/a", "", 404, "NotFound"),
    ("/reads/runs/../runs/a", "", 404, "NotFound"),
    ("/reads/runs//a", "", 404, "NotFound"),
    ("/reads//etc/passwd", "", 404, "NotFound"),
    ("/reads/runs\\a", "", 404, "NotFound"),
    ("/reads/out", "", 404, "NotFound"),                              # a symlink out of the folder
    ("/reads/runs/a\x00", "", 404, "NotFound"),
    ("/nothing/here", "", 404, "NotFound"),
]
BAD_POSTS = [
    ({"regions": []}, "", 400, "InvalidInput"),
    ({"regions": [{"start": 1}]}, "", 400, "InvalidInput"),
    ({"regions": [{"referenceName": "chr1", "start": 5, "end": 5}]}, "", 400, "InvalidRange"),
    ({"regions": [{"referenceName": "chr1", "start": "5"}]}, "", 400, "InvalidInput"),
    ({"regions": [{"referenceName": "chr1", "stop": 9}]}, "", 400, "InvalidInput"),
    ({"regions": "chr1"}, "", 400, "InvalidInput"),
    ({"class": "header", "regions": [{"referenceName": "chr1"}]}, "", 400, "InvalidInput"),
    ({"format": "bam"}, "referenceName=chr1", 400, "InvalidInput"),
    ({"format": 7}, "", 400, "UnsupportedFormat"),
    ([1, 2], "", 400, "InvalidInput"),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("htsget")
    make_bam(root / "runs", "a", n_reads=300)
    make_vcf(root, "calls", n=300)
    (root / "runs" / "noindex.bam").write_bytes((root / "runs" / "a.bam").read_bytes())
    outside = tmp_path_factory.mktemp("outside")
    make_bam(outside, "secret", n_reads=50)
    for suffix in (".bam", ".bam.bai"):
        os.symlink(outside / f"secret{suffix}", root / f"out{suffix}")
    (root / "runs" / "notes.txt").write_text("not served")
    return create_htsget_app([str(root)])


def assert_error(answer, status, error):
    assert answer.status == status, answer.body
    content = answer.json()
    assert set(content) == {"htsget"} and content["htsget"]["error"] == error and content["htsget"]["message"]
    assert "urls" not in content["htsget"]


@pytest.mark.parametrize("path,query,status,error", BAD_GETS, ids=[f"{p}?{q}" for p, q, _, _ in BAD_GETS])
def test_bad_get(app, path, query, status, error):
    assert_error(call(app, path, query), status, error)


@pytest.mark.parametrize("content,query,status,error", BAD_POSTS, ids=[json.dumps(c)[:40] for c, *_ in BAD_POSTS])
def test_bad_post(app, content, query, status, error):
    assert_error(call(app, "/reads/runs/a", query, "POST", json.dumps(content).encode()), status, error)


def test_post_limits_and_methods(app):
    assert_error(call(app, "/reads/runs/a", "", "POST", b"{" + b" " * (2 << 20) + b"}"), 413, "PayloadTooLarge")
    assert_error(call(app, "/reads/runs/a", "", "POST", b"\xff\xfe"), 400, "InvalidInput")
    assert_error(call(app, "/reads/runs/a", "", "PUT"), 405, "InvalidInput")
    assert_error(call(app, "/reads/runs/a", "", "POST", json.dumps(
        {"regions": [{"referenceName": "chr1"}] * 10_001}).encode()), 413, "PayloadTooLarge")


def test_service_info(app):
    for kind, formats in (("reads", ["BAM", "CRAM"]), ("variants", ["VCF"])):
        answer = call(app, f"/{kind}/service-info")
        assert answer.status == 200 and answer.json() == service_info(kind)
        assert answer.json()["type"] == {"group": "org.ga4gh", "artifact": "htsget", "version": "1.3.0"}
        assert answer.json()["htsget"]["formats"] == formats


def test_file_endpoint_ranges_and_refusals(app, tmp_path_factory):
    whole = call(app, "/htsget/files/runs/a.bam")
    assert whole.status == 200 and whole.body[:2] == b"\x1f\x8b"
    part = call(app, "/htsget/files/runs/a.bam", headers={"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == whole.body[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole.body)}"
    assert_error(call(app, "/htsget/files/runs/a.bam", headers={"Range": f"bytes={len(whole.body)}-"}),
                 416, "InvalidRange")
    assert call(app, "/htsget/files/runs/a.bam.bai.json").json()["chunks"]
    for name in ("runs/notes.txt", "out.bam", "runs/../out.bam", "../outside/secret.bam", "/etc/passwd",
                 "runs/%2e%2e/out.bam", "runs/missing.bam"):
        assert_error(call(app, "/htsget/files/" + name), 404, "NotFound")


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.lists(st.sampled_from(["reads", "variants", "runs", "a", "..", ".", "", "%2F", "service-info",
                                      "htsget", "files", "a.bam", "calls"]) | TEXT, max_size=5),
       query=st.lists(st.tuples(st.sampled_from(["format", "class", "referenceName", "start", "end", "fields",
                                                 "tags", "notags", "x"]) | TEXT, TEXT), max_size=6),
       method=st.sampled_from(["GET", "POST", "HEAD", "DELETE"]), body=st.binary(max_size=60) | TEXT.map(str.encode))
def test_no_request_gets_a_server_error(app, path, query, method, body):
    from urllib.parse import urlencode

    answer = call(app, "/" + "/".join(path), urlencode(query), method, body if method == "POST" else b"")
    assert answer.status < 500, answer.body[:300]
    if answer.status >= 400 and method != "HEAD":
        assert set(answer.json()["htsget"]) == {"error", "message"}
