"""Real htsget clients against the served corpus, with a bearer token: samtools (htslib, token
from HTS_AUTH_LOCATION), pysam, the PyPI ``htsget`` client and bcftools agree with samtools,
bcftools and tabix reading the files themselves, on random regions of corpus BAMs, CRAMs made from them,
and corpus VCFs.  A ticket may hold extra records (the spec allows a superset), so the
client's records are filtered to the region, and must then equal the indexed query exactly."""
from __future__ import annotations

import gzip
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pysam
import pytest

pytest.importorskip("waitress")
from depth_fixtures.server import ServedApp  # noqa: E402 (after the skip guard)
from index_oracle import corpus_indexed_bams, random_regions  # noqa: E402
from sparkbam_py.serve.router import build_service  # noqa: E402

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"
TOKEN = "clients-token-0123456789abcdef"
N_BAMS, N_VCFS, N_REGIONS = 10, 12, 3
needs_tools = pytest.mark.skipif(not (shutil.which("samtools") and shutil.which("bcftools")),
                                 reason="samtools/bcftools absent")
pytestmark = [pytest.mark.slow, needs_tools]


def chosen(items, count):
    """An even spread of ``count`` items (deterministic, so every run tests the same files)."""
    return items[:: max(1, len(items) // count)][:count]


def usable_bams():
    found = []
    for bam, index in corpus_indexed_bams():
        if not str(index).endswith(".bai") or bam.stat().st_size < 20_000:
            continue
        try:
            with pysam.AlignmentFile(str(bam), index_filename=str(index)) as handle:
                if handle.mapped > 50 and handle.nreferences < 5000:
                    found.append((bam, index))
        except (OSError, ValueError):
            continue
    return chosen(found, N_BAMS)


def usable_vcfs():
    if not (CORPUS_TEXT / "MANIFEST.tsv").is_file():
        return []
    rows = [line.split("\t") for line in (CORPUS_TEXT / "MANIFEST.tsv").read_text().splitlines()[1:]]
    vcfs = [CORPUS_TEXT / r[0] for r in rows if r[4] == "vcf" and r[5] == "yes" and r[12] == "yes"
            and int(r[7]) - int(r[8]) > 50]
    return chosen(sorted(vcfs), N_VCFS)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus-served")
    bams, vcfs = usable_bams(), usable_vcfs()
    if not bams and not vcfs:
        pytest.skip("the corpus (../shared/corpus, ../shared/corpus-text) is absent")
    for i, (bam, index) in enumerate(bams):
        shutil.copy(bam, root / f"b{i}.bam")
        shutil.copy(index, root / f"b{i}.bam.bai")
        if i < 3:  # CRAMs of real files: reference-free, so no FASTA is needed to decode them
            pysam.view("-C", "--output-fmt-option", "no_ref=1", "-o", str(root / f"c{i}.cram"), str(bam),
                       catch_stdout=False)
            pysam.index(str(root / f"c{i}.cram"))
    for i, vcf in enumerate(vcfs):
        shutil.copy(vcf, root / f"v{i}.vcf.gz")
        index = next(Path(str(vcf) + ext) for ext in (".tbi", ".csi") if Path(str(vcf) + ext).is_file())
        shutil.copy(index, root / f"v{i}.vcf.gz{index.suffix}")
    (root.parent / "tokens").write_text(f"{TOKEN} *\n")
    (root.parent / "token-for-htslib").write_text(TOKEN + "\n")
    app = build_service(htsget_dirs=[str(root)], token_file=str(root.parent / "tokens"))
    env = dict(os.environ, HTS_AUTH_LOCATION=str(root.parent / "token-for-htslib"),
               HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER="I understand the risks")
    with ServedApp(app) as server:
        yield root, server, env, len(bams), len(vcfs)


def run(args, env, **kwargs) -> str:
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True, timeout=120, **kwargs).stdout


def regions_of(path: Path, seed: int):
    with pysam.AlignmentFile(str(path), check_sq=False) as handle:
        names = handle.references
        return [(names[ref_id], beg, end) for ref_id, beg, end in random_regions(handle, random.Random(seed),
                                                                                  N_REGIONS)]


def test_samtools_over_htsget_counts_like_samtools_on_the_file(served, tmp_path):
    root, server, env, n_bams, _ = served
    ids = [f"b{i}" for i in range(n_bams)] + [p.stem for p in sorted(root.glob("c*.cram"))]
    for id_ in ids:
        path = next(root.glob(f"{id_}.*am"))
        for ref, beg, end in regions_of(root / f"b{id_[1:]}.bam", len(id_) + int(id_[1:])):
            url = server.url(f"/reads/{id_}?referenceName={ref}&start={beg}&end={end}"
                             + ("&format=CRAM" if path.suffix == ".cram" else ""))
            bed = tmp_path / "region.bed"
            bed.write_text(f"{ref}\t{beg}\t{end}\n")
            got = run(["samtools", "view", "-c", "-L", str(bed), url], env)
            want = run(["samtools", "view", "-c", str(path), f"{{{ref}}}:{beg + 1}-{end}"], env)
            assert got == want, (id_, ref, beg, end)
            superset = int(run(["samtools", "view", "-c", url], env))
            assert superset >= int(want)


def test_pysam_over_htsget(served):
    root, server, env, n_bams, _ = served
    script = textwrap.dedent("""
        import sys, pysam
        url, path, ref, beg, end = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        key = lambda r: (r.query_name, r.flag, r.reference_start, r.cigarstring)
        with pysam.AlignmentFile(url) as remote:
            got = [key(r) for r in remote.fetch(until_eof=True) if r.reference_name == ref
                   and r.reference_start < end and (r.reference_end or r.reference_start + 1) > beg]
        with pysam.AlignmentFile(path) as local:
            want = [key(r) for r in local.fetch(ref, beg, end)]
        assert got == want, (len(got), len(want))
        print(len(got))
    """)
    for i in range(n_bams):
        path = root / f"b{i}.bam"
        for ref, beg, end in regions_of(path, i):
            url = server.url(f"/reads/b{i}?referenceName={ref}&start={beg}&end={end}")
            run([sys.executable, "-c", script, url, str(path), ref, str(beg), str(end)], env)


def test_htsget_client_download_equals_samtools_view(served, tmp_path):
    htsget = pytest.importorskip("htsget")
    root, server, env, n_bams, _ = served
    for i in range(n_bams):
        path = root / f"b{i}.bam"
        for ref, beg, end in regions_of(path, 100 + i):
            out = tmp_path / f"got{i}.bam"
            with open(out, "wb") as handle:
                htsget.get(server.url(f"/reads/b{i}"), handle, reference_name=ref, start=beg, end=end,
                           bearer_token=TOKEN)
            pysam.index(str(out))
            region = f"{{{ref}}}:{beg + 1}-{end}"
            assert run(["samtools", "view", str(out), region], env) == run(["samtools", "view", str(path), region],
                                                                             env), (i, region)


def test_bcftools_over_a_variants_ticket_equals_tabix(served):
    root, server, env, _, n_vcfs = served
    if not n_vcfs:
        pytest.skip("the text corpus (../shared/corpus-text) is absent")
    for i in range(n_vcfs):
        path = root / f"v{i}.vcf.gz"
        rng = random.Random(i)
        with gzip.open(path, "rt") as text:
            rows = [(line.split("\t")[0], int(line.split("\t")[1])) for line in text if not line.startswith("#")]
        for _ in range(N_REGIONS):
            ref, pos = rng.choice(rows)
            beg, end = max(0, pos - 1 - rng.choice([0, 10, 5000])), pos + rng.choice([0, 1000, 1_000_000])
            region = f"{{{ref}}}:{beg + 1}-{end}" if ":" in ref else f"{ref}:{beg + 1}-{end}"
            url = server.url(f"/variants/v{i}?referenceName={ref}&start={beg}&end={end}")
            got = run(["bcftools", "view", "-H", "-t", region, "--targets-overlap", "1", url], env)
            # bcftools writes records its own way (1.050 as 1.05): same tool on both sides for the text,
            assert got == run(["bcftools", "view", "-H", "-r", region, str(path)], env), (i, region)
            # and the records themselves (CHROM POS ID REF ALT) equal tabix's on the file.
            columns = [line.split("\t")[:5] for line in got.splitlines()]
            assert columns == [line.split("\t")[:5] for line in run(["tabix", str(path), region], env).splitlines()]
            assert columns, "a region around a record holds it"
