"""Genome browsers in headless Chromium, reading from the service across origins (CORS) with a token.

* igv.js shows an htsget alignment track and an htsget variant track over a reference FASTA the
  service serves by Range; the reads it holds for the locus equal samtools' (mapped, not QC-fail
  or duplicate, overlapping igv.js's loaded window) and its variants equal tabix's.
* pileup.js loads a BAM of 3,000 contigs (GRCh38's 24 chromosomes at their lengths, plus small
  ones) with and without ``indexChunks`` from our ``.bai.json``; the bytes of the ``.bai`` it
  fetched are counted: one contig's slice instead of the whole index.

Skipped with a reason when npm, chromium or chromedriver is absent; screenshots go to bench/figures/.
"""
from __future__ import annotations

import json
import mimetypes
import random
import shutil
import subprocess

import pysam
import pytest

pytest.importorskip("waitress")
from browser_support import (FIGURES, ByteCounter, npm_bundle, start_browser, wait_until,  # noqa: E402
                             write_fasta, write_two_bit)
from depth_fixtures.server import ServedApp  # noqa: E402
from htsget_support import REFERENCES, make_bam, make_vcf  # noqa: E402
from index_oracle import make_read  # noqa: E402
from sparkbam_py.index.bai_json import write_bai_json  # noqa: E402
from sparkbam_py.serve.router import build_service  # noqa: E402

TOKEN = "browser-token-0123456789abcdef"
LOCUS = ("chr1", 20_000, 23_000)
pytestmark = pytest.mark.slow

IGV_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body><div id="igv"></div><script src="igv.min.js"></script><script>
const q = new URLSearchParams(location.search), api = q.get("api"), token = q.get("token");
const auth = {Authorization: "Bearer " + token};
igv.createBrowser(document.getElementById("igv"), {
  loadDefaultGenomes: false,
  reference: {id: "generated", fastaURL: api + "/htsget/files/ref.fa?access_token=" + token,
              indexURL: api + "/htsget/files/ref.fa.fai?access_token=" + token},
  locus: q.get("locus"),
  tracks: [
    {type: "alignment", sourceType: "htsget", format: "bam", url: api + "/reads/runs/sample", name: "htsget reads",
     headers: auth, displayMode: "EXPANDED"},
    {type: "variant", sourceType: "htsget", format: "vcf", url: api + "/variants/calls", name: "htsget variants",
     headers: auth}]
}).then(b => { window.igvBrowser = b; document.body.dataset.ready = "1"; },
        e => { document.body.dataset.error = String(e); });
</script></body></html>"""

IGV_LOADED = """
const b = window.igvBrowser; if (!b) return null;
const reads = b.findTracks(t => t.type === "alignment")[0], calls = b.findTracks(t => t.type === "variant")[0];
const rc = reads && reads.trackView.viewports[0].featureCache, vc = calls && calls.trackView.viewports[0].featureCache;
if (!rc || !vc) return null;
const c = rc.features;
return {chr: c.chr, start: c.start, end: c.end,
        reads: c.allAlignments().map(a => [a.readName, a.start, a.flags]),
        variants: vc.features.map(v => [v.chr, v.start, v.end])};
"""

PILEUP_PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="pileup.css">
<style>#p{height:600px}</style></head><body><div id="p"></div>
<script src="pileup.min.js"></script><script>
const q = new URLSearchParams(location.search), api = q.get("api"), token = q.get("token");
const file = name => api + "/htsget/files/" + name + "?access_token=" + token;
fetch(file("many/contigs.bam.bai.json")).then(r => r.json()).then(chunks => {
  const spec = {url: file("many/contigs.bam"), indexUrl: file("many/contigs.bam.bai")};
  if (q.get("chunks") === "1") spec.indexChunks = chunks;
  window.viewer = pileup.create(document.getElementById("p"), {
    range: {contig: "chr1", start: 50000, stop: 50400},
    tracks: [{viz: pileup.viz.genome(), isReference: true, data: pileup.formats.twoBit({url: file("ref.2bit")}),
               name: "Reference"},
             {viz: pileup.viz.pileup(), data: pileup.formats.bam(spec), name: "Alignments"}]});
  document.body.dataset.ready = "1";
});
</script></body></html>"""
GRCH38_CHROMOSOMES = [(f"chr{n}", length) for n, length in zip(
    list(range(1, 23)) + ["X", "Y"],
    [248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973, 145138636, 138394717,
     133797422, 135086622, 133275309, 114364328, 107043718, 101991189, 90338345, 83257441, 80373285,
     58617616, 64444167, 46709983, 50818468, 156040895, 57227415])]


def static_app(files):
    """The pages' own origin: a WSGI app serving ``{path: bytes}`` with their content types."""
    def app(environ, start_response):
        body = files.get(environ.get("PATH_INFO", ""))
        if body is None:
            start_response("404 Not Found", [("Content-Length", "0")])
            return []
        kind = mimetypes.guess_type(environ["PATH_INFO"])[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]
    return app


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def serve_pages(tmp_path, data_root, pages):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"{TOKEN} *\n")
    page_server = ServedApp(static_app(dict(pages, **{"/favicon.ico": b""})))
    origin = page_server.base
    counted = ByteCounter(build_service(htsget_dirs=[str(data_root)], token_file=str(tokens), cors_origins=[origin]))
    return page_server, ServedApp(counted), counted


def settled(measure, polls: int = 8):
    """A condition true once ``measure()`` is positive and unchanged for ``polls`` polls in a row."""
    seen = []

    def condition():
        seen.append(measure())
        return seen[-1] > 0 and len(seen) >= polls and len(set(seen[-polls:])) == 1
    return condition


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_igv_shows_htsget_reads_and_variants(browser, tmp_path):
    bundle = npm_bundle("igv")
    root = tmp_path / "data"
    bam = make_bam(root / "runs", "sample", n_reads=6000)
    vcf = make_vcf(root, "calls", n=6000)
    write_fasta(root / "ref.fa", REFERENCES)
    pages = {"/igv.html": IGV_PAGE.encode(), "/igv.min.js": bundle.read_bytes()}
    page_server, api_server, counted = serve_pages(tmp_path, root, pages)
    chrom, start, end = LOCUS
    with page_server, api_server:
        browser.get(page_server.url(f"/igv.html?api={api_server.base}&token={TOKEN}&locus={chrom}:{start + 1}-{end}"))
        loaded = wait_until(lambda: browser.execute_script(IGV_LOADED), "igv.js to load both htsget tracks")
        assert not browser.execute_script("return document.body.dataset.error")
        window = (loaded["chr"], loaded["start"], loaded["end"])
        assert window[0] == chrom and window[1] <= start and window[2] >= end
        expected = subprocess.run(["samtools", "view", "-F", "0x604", str(bam), f"{chrom}:{window[1] + 1}-{window[2]}"],
                                  capture_output=True, text=True, check=True).stdout.splitlines()
        want = sorted((line.split("\t")[0], int(line.split("\t")[3]) - 1) for line in expected)
        assert sorted((name, pos) for name, pos, _ in loaded["reads"]) == want and len(want) > 20
        with pysam.TabixFile(str(vcf)) as tabix:
            calls = sorted((r.contig, r.pos) for r in tabix.fetch(chrom, start, end, parser=pysam.asVCF()))
        drawn = sorted((c, s) for c, s, e in loaded["variants"] if s < end and e > start)
        assert drawn == calls and len(calls) > 0
        FIGURES.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(tmp_path / "igv.png"))
        shutil.copy(tmp_path / "igv.png", FIGURES / "igv-htsget.png")
        assert console_errors(browser) == [], console_errors(browser)
        assert counted.total("/reads/runs/sample") > 0 and counted.total(".fa") > 0


def many_contig_bam(folder):
    """GRCh38's chromosomes at full length and 2,976 small contigs; a read at each end of each, so
    every reference's linear index spans its whole length, as in a deep whole-genome BAM."""
    references = GRCH38_CHROMOSOMES + [(f"chrUn_{i:04d}", 40_000) for i in range(3000 - len(GRCH38_CHROMOSOMES))]
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6", "SO": "coordinate"},
                                              "SQ": [{"SN": n, "LN": ln} for n, ln in references]})
    rng = random.Random(1)
    bam = folder / "contigs.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for ref_id, (_, length) in enumerate(references):
            positions = [100, length - 200] + ([50_000 + 7 * i for i in range(60)] if ref_id == 0 else [])
            for k, pos in enumerate(sorted(positions)):
                out.write(make_read(header, rng, f"r{ref_id}_{k}", 0, ref_id, pos, "60M", 60))
    pysam.index(str(bam))
    write_bai_json(str(bam) + ".bai")
    return bam, references


def test_pileup_fetches_one_contigs_slice_with_index_chunks(browser, tmp_path):
    bundle = npm_bundle("pileup")
    root = tmp_path / "data"
    (root / "many").mkdir(parents=True)
    bam, references = many_contig_bam(root / "many")
    rng = random.Random(2)
    write_two_bit(root / "ref.2bit", [("chr1", "".join(rng.choice("ACGT") for _ in range(100_000)))])
    pages = {"/pileup.html": PILEUP_PAGE.encode(), "/pileup.min.js": bundle.read_bytes(),
             "/pileup.css": (bundle.parents[1] / "style" / "pileup.css").read_bytes()}
    bai_size = (root / "many/contigs.bam.bai").stat().st_size
    slice_size = json.loads((root / "many/contigs.bam.bai.json").read_text())["chunks"][0]
    slice_size = slice_size[1] - slice_size[0]
    fetched = {}
    for chunks in ("0", "1"):
        page_server, api_server, counted = serve_pages(tmp_path, root, pages)
        with page_server, api_server:
            browser.get(page_server.url(f"/pileup.html?api={api_server.base}&token={TOKEN}&chunks={chunks}"))
            wait_until(lambda: browser.execute_script("return document.body.dataset.ready"), "the page")
            wait_until(settled(lambda: counted.total(".bam")), "pileup.js to fetch the reads of the range")
            fetched[chunks] = {"bai": counted.total(".bai"), "bam": counted.total(".bam"),
                               "bai.json": counted.total(".bai.json")}
            browser.save_screenshot(str(tmp_path / f"pileup-{chunks}.png"))
            assert console_errors(browser) == []
    FIGURES.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "pileup-1.png", FIGURES / "pileup-index-chunks.png")
    (FIGURES / "pileup-index-chunks.json").write_text(json.dumps(
        {"references": len(references), "bai_bytes": bai_size, "chr1_slice_bytes": slice_size,
         "fetched_without_index_chunks": fetched["0"], "fetched_with_index_chunks": fetched["1"]}, indent=1) + "\n")
    assert fetched["0"]["bai"] >= bai_size, "without indexChunks pileup.js reads the whole .bai"
    assert fetched["1"]["bai"] <= slice_size + 1, "with indexChunks only chr1's slice (pileup asks one byte more)"
