"""The htsget service under a bounded load, on a BAM with a GRCh38-sized header: ticket latency
p50/p99, bytes and records per ticket, and samtools over htsget against samtools on the file.

A folder under ``--work`` gets a hard link of ``--bam`` (no copy) and its ``.bai``; the server
(``sparkbam serve --htsget-dir``, waitress, its own process, a token file) answers:

* ``load``: ``--clients`` threads send ``--requests`` GET tickets of random regions (1 kbp to
  1 Mbp, on contigs holding reads, weighted by their reads); latency p50/p99 and tickets/s;
* ``first``: the first ticket of a fresh server (header and index read cold), with and without a
  ``.bai.json`` beside the BAI, median of ``--repeats`` fresh servers each;
* ``regions``: for ``--regions`` regions, the ticket's JSON bytes, data bytes and URLs, the records
  samtools counts over the ticket (a superset) and after filtering to the region, which must equal
  ``samtools view -c file region``; and the wall time of ``samtools view -c URL`` against
  ``samtools view -c file region`` (index, local file), paired A B A B, medians and the ratio.

Usage: python bench/bench_htsget.py [--bam /work/bench-data/human/30x.bam] [--requests 400] [--clients 4]
                                    [--regions 20] [--out bench/out/htsget.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pysam
import requests

TOKEN = "bench-token-0123456789abcdefghij"
DEFAULT_BAMS = ("/work/bench-data/human/30x.bam", "/work/bench-data/bench/sr.sorted.bam")


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def prepare(bam: Path, work: Path, with_json: bool) -> Path:
    folder = work / ("with-json" if with_json else "plain")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.link(bam, folder / "sample.bam")  # same filesystem: no copy of a multi-GB file
    shutil.copy(str(bam) + ".bai", folder / "sample.bam.bai")
    if with_json:
        from sparkbam_py.index.bai_json import write_bai_json

        write_bai_json(str(folder / "sample.bam.bai"))
    (work / "tokens").write_text(f"{TOKEN} *\n")
    return folder


class Server:
    def __init__(self, folder: Path, work: Path, threads: int = 8):
        self.process = subprocess.Popen([sys.executable, "-m", "sparkbam_py", "serve", "--htsget-dir", str(folder),
                                         "--token-file", str(work / "tokens"), "--port", "0",
                                         "--threads", str(threads)], stdout=subprocess.PIPE, text=True,
                                        stderr=subprocess.DEVNULL)
        self.base = self.process.stdout.readline().rsplit(" at ", 1)[1].strip().rstrip("/")

    def ticket(self, query: str):
        started = time.perf_counter()
        answer = requests.get(f"{self.base}/reads/sample?{query}", headers={"Authorization": f"Bearer {TOKEN}"},
                              timeout=120)
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
        return elapsed, answer

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def random_regions(bam: Path, count: int, seed: int):
    with pysam.AlignmentFile(str(bam)) as handle:
        stats = [(s.contig, s.mapped) for s in handle.get_index_statistics() if s.mapped > 0]
        lengths = dict(zip(handle.references, handle.lengths))
    rng = random.Random(seed)
    contigs, weights = zip(*stats)
    regions = []
    for _ in range(count):
        contig = rng.choices(contigs, weights)[0]
        width = rng.choice([1_000, 10_000, 100_000, 1_000_000])
        start = rng.randrange(max(1, lengths[contig] - width))
        regions.append((contig, start, min(lengths[contig], start + width)))
    return regions


def query_of(region) -> str:
    contig, start, end = region
    return f"referenceName={contig}&start={start}&end={end}"


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def bench_load(server: Server, regions, clients: int):
    for region in regions[:clients]:  # warm: headers and the index slices touched first
        server.ticket(query_of(region))
    latencies, sizes, lock = [], [], threading.Lock()

    def one(region):
        elapsed, answer = server.ticket(query_of(region))
        with lock:
            latencies.append(elapsed)
            sizes.append(len(answer.content))

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, regions))
    wall = time.perf_counter() - started
    return {"requests": len(regions), "clients": clients, "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99), "tickets_per_s": len(regions) / wall,
            "json_bytes_median": statistics.median(sizes)}


def bench_first(work: Path, bam: Path, repeats: int, region):
    out = {}
    for with_json in (True, False):
        folder = prepare(bam, work, with_json)
        times = []
        for _ in range(repeats):
            server = Server(folder, work)
            try:
                times.append(server.ticket(query_of(region))[0])
            finally:
                server.close()
        out["with_bai_json" if with_json else "without_bai_json"] = {"first_ticket_ms": 1000 * statistics.median(times)}
    return out


def samtools_count(args, env=None):
    started = time.perf_counter()
    done = subprocess.run(["samtools", "view", "-c", *args], capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - started, int(done.stdout)


def bench_regions(server: Server, bam: Path, regions, work: Path):
    auth = work / "htslib-token"
    auth.write_text(TOKEN)
    env = dict(os.environ, HTS_AUTH_LOCATION=str(auth),
               HTS_ALLOW_UNENCRYPTED_AUTHORIZATION_HEADER="I understand the risks")
    rows, ours, theirs = [], [], []
    for contig, start, end in regions:
        _, answer = server.ticket(query_of((contig, start, end)))
        urls = answer.json()["htsget"]["urls"]
        data_bytes = sum(len(u["url"]) * 3 // 4 if u["url"].startswith("data:") else
                         int(u["headers"]["Range"].split("-")[1]) - int(u["headers"]["Range"].split("=")[1].split("-")[0]) + 1
                         for u in urls)
        url = f"{server.base}/reads/sample?{query_of((contig, start, end))}"
        bed = work / "region.bed"
        bed.write_text(f"{contig}\t{start}\t{end}\n")
        region_text = f"{contig}:{start + 1}-{end}"
        a1, superset = samtools_count([url], env)
        b1, want = samtools_count([str(bam), region_text])
        a2, filtered = samtools_count(["-L", str(bed), url], env)
        b2, _ = samtools_count([str(bam), region_text])
        assert filtered == want, (region_text, filtered, want)
        ours += [a1, a2]
        theirs += [b1, b2]
        rows.append({"region": region_text, "json_bytes": len(answer.content), "urls": len(urls),
                     "data_bytes": data_bytes, "records_in_ticket": superset, "records_in_region": want})
    return {"rows": rows, "all_filtered_counts_equal_samtools": True,
            "samtools_over_htsget_s_median": statistics.median(ours),
            "samtools_on_file_s_median": statistics.median(theirs),
            "ratio": statistics.median(ours) / statistics.median(theirs),
            "data_bytes_per_ticket_median": statistics.median(r["data_bytes"] for r in rows),
            "records_per_ticket_median": statistics.median(r["records_in_ticket"] for r in rows),
            "superset_ratio_median": statistics.median(r["records_in_ticket"] / max(1, r["records_in_region"])
                                                       for r in rows)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bam", default=next((p for p in DEFAULT_BAMS if Path(p).is_file()), None))
    parser.add_argument("--work", default="/work/bench-data/htsget")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="bench/out/htsget.json")
    args = parser.parse_args()
    bam, work = Path(args.bam), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    with pysam.AlignmentFile(str(bam)) as handle:
        header = {"references": handle.nreferences, "genome_bases": sum(handle.lengths)}
    result = {"bam": str(bam), "bam_bytes": bam.stat().st_size, "bai_bytes": Path(str(bam) + ".bai").stat().st_size,
              **header, "loadavg_before": load_average()}
    regions = random_regions(bam, args.requests, seed=1)
    result["first"] = bench_first(work, bam, args.repeats, regions[0])
    server = Server(prepare(bam, work, with_json=True), work)
    try:
        result["load"] = bench_load(server, regions, args.clients)
        result["regions"] = bench_regions(server, bam, random_regions(bam, args.regions, seed=2), work)
    finally:
        server.close()
        shutil.rmtree(work / "with-json", ignore_errors=True)
        shutil.rmtree(work / "plain", ignore_errors=True)
    result["loadavg_after"] = load_average()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: v for k, v in result.items() if k != "regions"}
    summary["regions"] = {k: v for k, v in result["regions"].items() if k != "rows"}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
