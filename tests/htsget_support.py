"""Shared by the htsget and auth tests: generated data with records across BGZF blocks, an
in-process WSGI client, and a ticket downloader that follows URLs as a client does.

Data: pysam writes the content; the project's BGZF writer re-blocks it into small blocks
cut at arbitrary bytes (so records and lines cross blocks, as htsjdk and Picard write them);
samtools/tabix index it.  Nothing here uses the code under test to check it.
"""
from __future__ import annotations

import base64
import gzip
import io
import json
import random
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlsplit

import pysam

from index_oracle import read_end, write_indexed_bam
from sparkbam_py.bgzf.constants import EOF_MARKER
from sparkbam_py.bgzf.writer import compress_block
from sparkbam_py.index.bai_json import write_bai_json

REFERENCES = [("chr1", 2_000_000), ("chr2", 300_000), ("empty", 900), ("chr3", 5_000_000)]


def reblock(path: Path, rng: random.Random, low: int = 300, high: int = 3000) -> None:
    """Rewrite a BGZF file in blocks of random sizes, cut anywhere, with an EOF block."""
    data = gzip.decompress(path.read_bytes())
    out, at = [], 0
    while at < len(data):
        size = rng.randint(low, high)
        out.append(compress_block(data[at:at + size]))
        at += size
    path.write_bytes(b"".join(out) + EOF_MARKER)


def make_bam(folder: Path, name: str = "sample", n_reads: int = 3000, seed: int = 7, csi: bool = False,
             bai_json: bool = True) -> Path:
    """A sorted BAM with records across blocks, indexed (BAI, and its .bai.json; or CSI)."""
    folder.mkdir(parents=True, exist_ok=True)
    bam = write_indexed_bam(folder / f"{name}.bam", REFERENCES, n_reads, seed)
    for stale in folder.glob(f"{name}.bam.*"):
        stale.unlink()
    reblock(bam, random.Random(seed))
    pysam.index(*(["-c"] if csi else []), str(bam))
    if bai_json and not csi:
        write_bai_json(str(bam) + ".bai")
    return bam


def make_cram(bam: Path, folder: Path, name: str) -> Path:
    """The BAM as a reference-free CRAM (no_ref: decodable without a FASTA), with its .crai."""
    cram = folder / f"{name}.cram"
    pysam.view("-C", "--output-fmt-option", "no_ref=1", "--output-fmt-option", "seqs_per_slice=300",
               "-o", str(cram), str(bam), catch_stdout=False)
    pysam.index(str(cram))
    return cram


def make_vcf(folder: Path, name: str = "calls", n: int = 4000, seed: int = 3) -> Path:
    """A sorted VCF with deletions and INFO/END records, lines across blocks, tabix-indexed."""
    rng = random.Random(seed)
    lines = ["##fileformat=VCFv4.2", '##INFO=<ID=END,Number=1,Type=Integer,Description="End">']
    lines += [f"##contig=<ID={ref},length={length}>" for ref, length in REFERENCES]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    for ref, length in REFERENCES:
        if ref == "empty":
            continue
        for pos in sorted(rng.randrange(1, length - 500) for _ in range(n // 3)):
            ref_allele = "".join(rng.choice("ACGT") for _ in range(rng.choice([1, 1, 5, 40])))
            info = f"END={pos + rng.randrange(50, 400)}" if rng.random() < 0.05 else "."
            lines.append(f"{ref}\t{pos}\t.\t{ref_allele}\tT\t50\tPASS\t{info}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.vcf.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    reblock(path, rng, 200, 2000)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


# -- an in-process client ----------------------------------------------------------------------


class Answer:
    def __init__(self, status: str, headers: List[Tuple[str, str]], body: bytes):
        self.status = int(status.split()[0])
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    def json(self) -> dict:
        return json.loads(self.body)


def call(app, path: str, query: str = "", method: str = "GET", body: bytes = b"",
         headers: Optional[Dict[str, str]] = None, host: str = "testserver", remote: str = "127.0.0.1") -> Answer:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path.encode("utf-8").decode("latin-1"),
               "QUERY_STRING": query, "wsgi.url_scheme": "http", "HTTP_HOST": host, "SCRIPT_NAME": "",
               "SERVER_NAME": "testserver", "SERVER_PORT": "80", "REMOTE_ADDR": remote,
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "wsgi.errors": sys.stderr}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"], captured["headers"] = status, response_headers

    chunks = app(environ, start_response)
    data = b"".join(chunks)
    return Answer(captured["status"], captured["headers"], data)


def download(app, ticket: dict, fetch_http=None) -> bytes:
    """What a client assembles from a ticket: data: URIs decoded, each URL fetched with its headers
    (from ``app`` in process, or with ``fetch_http(url, headers)`` for URLs elsewhere)."""
    parts = []
    for entry in ticket["htsget"]["urls"]:
        url = entry["url"]
        if url.startswith("data:"):
            parts.append(base64.b64decode(url.split(",", 1)[1]))
            continue
        if fetch_http is not None:
            parts.append(fetch_http(url, entry.get("headers", {})))
            continue
        split = urlsplit(url)
        from urllib.parse import unquote

        answer = call(app, unquote(split.path), split.query, headers=entry.get("headers", {}))
        assert answer.status in (200, 206), (answer.status, answer.body[:200])
        parts.append(answer.body)
    return b"".join(parts)


def overlapping_keys(path: Path, ref: Optional[str], start: int = 0, end: int = 1 << 40) -> List[tuple]:
    """(name, flag, ref, pos) of every record of a BAM/CRAM file overlapping the region, in file order;
    ``ref=None``: every record; ``"*"``: the unplaced ones.  A full sequential read: no index used."""
    keys = []
    with pysam.AlignmentFile(str(path), check_sq=False) as handle:
        for read in handle.fetch(until_eof=True):
            if ref == "*":
                if read.reference_id >= 0:
                    continue
            elif ref is not None:
                if read.reference_name != ref or read.reference_id < 0:
                    continue
                if not (read.reference_start < end and read_end(read) > start):
                    continue
            keys.append((read.query_name, read.flag, read.reference_name, read.reference_start))
    return keys


def fetch_keys(path: Path, ref: str, start: Optional[int] = None, end: Optional[int] = None) -> List[tuple]:
    """The oracle: pysam's indexed fetch of the original file."""
    with pysam.AlignmentFile(str(path), check_sq=False) as handle:
        reads = handle.fetch(ref, start, end) if ref != "*" else handle.fetch("*")
        return [(r.query_name, r.flag, r.reference_name, r.reference_start) for r in reads]
