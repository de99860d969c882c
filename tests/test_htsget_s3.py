"""The same htsget service over an object store: ``sparkbam serve --htsget-dir s3://bucket/prefix``
against a real S3-protocol server (moto) on loopback, credentials from the environment.
Headers and index slices are read from the store by range; tickets point at URLs the store
signed, which samtools and bcftools follow (with the ticket's Range headers) and decode."""
from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys

import pytest
import requests

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")
pytest.importorskip("waitress")
from htsget_support import download, make_bam, make_cram, make_vcf  # noqa: E402 (after the skip guards)
from sparkbam_py.testing.moto_s3 import MotoS3  # noqa: E402

TOKEN = "s3-token-0123456789abcdefghij"
pytestmark = pytest.mark.skipif(not shutil.which("samtools"), reason="samtools absent")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    local = tmp_path_factory.mktemp("upload")
    bam = make_bam(local, "a", n_reads=1500)
    make_cram(bam, local, "c")
    make_vcf(local, "calls", n=900)
    with MotoS3() as s3:
        s3.create_bucket("genomes")
        for path in sorted(local.iterdir()):
            s3.upload("genomes", f"runs/{path.name}", path)
        tokens = local.parent / "s3-tokens"
        tokens.write_text(f"{TOKEN} runs/*\n")
        env = dict(os.environ, **s3.environment, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_CONFIG_FILE=os.devnull)
        server = subprocess.Popen([sys.executable, "-m", "sparkbam_py", "serve", "--htsget-dir", "s3://genomes",
                                   "--token-file", str(tokens), "--port", "0"], stdout=subprocess.PIPE, text=True,
                                  env=env)
        try:
            base = server.stdout.readline().rsplit(" at ", 1)[1].strip().rstrip("/")
            yield local, base, env
        finally:
            server.terminate()
            server.wait(timeout=30)


def ticket(base, path, query=""):
    answer = requests.get(f"{base}{path}?{query}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def fetch(url, headers):
    answer = requests.get(url, headers=headers, timeout=60)
    assert answer.status_code == 206, (answer.status_code, answer.text[:200])
    return answer.content


def test_tickets_point_at_store_signed_urls_and_hold_the_region(store, tmp_path):
    local, base, env = store
    content = ticket(base, "/reads/runs/a", "referenceName=chr1&start=100000&end=400000")
    urls = [u["url"] for u in content["htsget"]["urls"] if not u["url"].startswith("data:")]
    assert urls and all("Signature=" in url and "Expires=" in url for url in urls)
    assert all(url.startswith(env["AWS_ENDPOINT_URL"]) for url in urls)
    got = tmp_path / "got.bam"
    got.write_bytes(download(None, content, fetch))
    region = "chr1:100001-400000"
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100000\t400000\n")
    view = ["samtools", "view"]
    assert subprocess.run(view + ["-L", str(bed), str(got)], capture_output=True, text=True).stdout == \
        subprocess.run(view + [str(local / "a.bam"), region], capture_output=True, text=True).stdout
    without = requests.get(urls[0], timeout=30)  # the signature, not the ticket's Range, is what opens it
    assert without.status_code == 200


def test_samtools_and_bcftools_follow_store_tickets(store, tmp_path):
    local, base, env = store
    auth = tmp_path / "token"
    auth.write_text(TOKEN)
    client_env = dict(env, HTS_AUTH_LOCATION=str(auth),
                      HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER="I understand the risks")
    for id_, fmt, path in (("a", "BAM", "a.bam"), ("c", "CRAM", "c.cram")):
        url = f"{base}/reads/runs/{id_}?format={fmt}&referenceName=chr3&start=0&end=2500000"
        bed = tmp_path / "r.bed"
        bed.write_text("chr3\t0\t2500000\n")
        got = subprocess.run(["samtools", "view", "-c", "-L", str(bed), url], env=client_env, capture_output=True,
                             text=True, check=True).stdout
        assert got == subprocess.run(["samtools", "view", "-c", str(local / path), "chr3:1-2500000"],
                                     capture_output=True, text=True, check=True).stdout
    if shutil.which("bcftools"):
        url = f"{base}/variants/runs/calls?referenceName=chr2&start=0&end=150000"
        got = subprocess.run(["bcftools", "view", "-H", "-t", "chr2:1-150000", "--targets-overlap", "1", url],
                             env=client_env, capture_output=True, text=True, check=True).stdout
        assert got == subprocess.run(["bcftools", "view", "-H", "-r", "chr2:1-150000", str(local / "calls.vcf.gz")],
                                     capture_output=True, text=True, check=True).stdout


def test_store_files_redirect_to_signed_urls_and_stay_protected(store):
    _, base, _ = store
    assert requests.get(f"{base}/reads/runs/a", timeout=30).status_code == 401
    answer = requests.get(f"{base}/htsget/files/runs/a.bam.bai.json", headers={"Authorization": f"Bearer {TOKEN}"},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 307 and "Signature=" in answer.headers["Location"]
    assert requests.get(answer.headers["Location"], timeout=30).json()["chunks"]
    host, port = base.split("//", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)  # sends the path as written
    connection.request("GET", "/reads/runs/../runs/a", headers={"Authorization": f"Bearer {TOKEN}"})
    assert connection.getresponse().status == 404
    connection.close()
