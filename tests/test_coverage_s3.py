"""Coverage stores on S3 (a moto server on loopback): written there by the tasks, read back
by byte range, served by ``create_app("s3://...")`` with the answers of the local store,
exported to S3; missing or unfinished remote stores are clear errors."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("moto")
pytest.importorskip("s3fs")
pytest.importorskip("waitress")
requests = pytest.importorskip("requests")

from depth_fixtures.data import CONTIGS, write_coverage_bam  # noqa: E402 (after the skip guards)
from depth_fixtures.server import ServedApp  # noqa: E402 (after the skip guards)
from sparkbam_py.testing.moto_s3 import MotoS3  # noqa: E402 (after the skip guards)
from sparkbam_py.coverage.compute import compute_coverage_local  # noqa: E402 (after the skip guards)
from sparkbam_py.coverage.export import export_bedgraph  # noqa: E402 (after the skip guards)
from sparkbam_py.coverage.store import CoverageStore  # noqa: E402 (after the skip guards)
from sparkbam_py.coverage.store_commit import IncompleteStoreError, prepare_store  # noqa: E402
from sparkbam_py.errors import MissingInputError  # noqa: E402 (after the skip guards)
from sparkbam_py.serve.app import create_app  # noqa: E402 (after the skip guards)

BUCKET = "coverage"
GROUPINGS = ("strand", "read_group")


@pytest.fixture(scope="module")
def s3():
    with MotoS3() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def stores(s3, tmp_path_factory):
    """The same coverage built into a local folder and straight into S3."""
    directory = tmp_path_factory.mktemp("s3-coverage")
    bam = write_coverage_bam(directory, "s3", n=2000, seed=41)
    options = dict(split_size=40_000, groupings=GROUPINGS, chunk_length=2048)
    compute_coverage_local([str(bam)], str(directory / "local"), **options)
    compute_coverage_local([str(bam)], f"s3://{BUCKET}/store", storage_options=s3.storage_options, **options)
    return CoverageStore(directory / "local"), f"s3://{BUCKET}/store"


def test_a_store_written_to_s3_reads_back_equal(s3, stores):
    local, url = stores
    remote = CoverageStore(url, s3.storage_options)
    assert remote.manifest["chunks"] == local.manifest["chunks"] and remote.tracks == local.tracks
    for name, length in CONTIGS:
        assert np.array_equal(remote.values(name, 0, length), local.values(name, 0, length)), name
        assert np.allclose(remote.binned(name, 0, length, 50), local.binned(name, 0, length, 50)), name
    listed = {path.split("/", 2)[2] for path in remote.source.fs.find(f"{BUCKET}/store")}
    assert listed == {"manifest.json", remote.manifest["index"], *remote.manifest["parts"]}


def test_the_service_answers_the_same_from_s3(s3, stores):
    local, url = stores
    queries = ["/api/contigs", "/api/coverage/chrA?start=17&end=19500&bins=333",
               "/api/coverage/chrB?start=100&end=200", "/api/coverage/chrA?start=0&end=20000&track=-"]
    with ServedApp(create_app(local.url)) as here, ServedApp(create_app(url, storage_options=s3.storage_options,
                                                                        cache_bytes=1 << 20)) as there:
        for query in queries:
            expected = requests.get(here.url(query), timeout=30).json()
            answer = requests.get(there.url(query), timeout=30).json()
            if query == "/api/contigs":
                expected["files"] = answer["files"] = []  # a remote store's files are not served
            assert answer == expected, query
        png = requests.get(there.url("/api/coverage/chrA?width=300&height=100"), timeout=30)
        assert png.status_code == 200 and png.content == requests.get(
            here.url("/api/coverage/chrA?width=300&height=100"), timeout=30).content


def test_export_to_s3_and_clear_errors_for_missing_or_unfinished_stores(s3, stores):
    local, _ = stores
    export_bedgraph(local, "all", f"s3://{BUCKET}/out/all.bedgraph", s3.storage_options)
    import fsspec

    fs = fsspec.filesystem("s3", **s3.storage_options)
    assert fs.cat_file(f"{BUCKET}/out/all.bedgraph").count(b"\n") > 10
    with pytest.raises(MissingInputError, match="no coverage store"):
        CoverageStore(f"s3://{BUCKET}/nothing", s3.storage_options)
    compute_coverage_local([local.manifest["sources"][0]], f"s3://{BUCKET}/again", storage_options=s3.storage_options)
    prepare_store(f"s3://{BUCKET}/again", s3.storage_options)  # a rebuild starts, then dies
    with pytest.raises(IncompleteStoreError):
        CoverageStore(f"s3://{BUCKET}/again", s3.storage_options)
