"""Writing a bgzipped, tabix-indexed VCF on local Spark, beside ``bgzip -@N`` + ``tabix``.

Usage::

    python bench/bench_text_write.py BIG.vcf.gz [--cores 2] [--repeats 3] [--work DIR] [--json]

``BIG.vcf.gz`` is the bench VCF (``python bench/make_vcf.py big.vcf.gz --size-mb 200
--samples 100``: 208.8 MB, 185,043 lines).  Prepared once, untimed, in ``--work``: its text
(``big.vcf``, what the peer compresses) and its rows as Parquet (what a job's result looks
like before it is written).  Cases, run in turn ``--repeats`` times (medians; the machine
is shared):

* ``bgzip -@N + tabix``: the text compressed with N threads, then ``tabix -p vcf``;
* ``write_vcf from Parquet``: ``write_vcf(spark.read.parquet(rows), OUT, header_from=BIG)``
  on ``local[N]``: Parquet decode, VCF formatting, deflate, index pieces, commit;
* ``write_vcf from VCF``: the same from ``spark.read.format("vcf").load(BIG)`` (the VCF is
  parsed into Glow's columns first: read and write together).

Each Spark case runs in a fresh process: ``write`` is the call alone (session warm),
``process`` the whole process (Python and JVM start-up included).  Outputs are checked:
same record count as the input, ``tabix -l`` equal.  The outputs are removed; the prepared
text and Parquet stay in a ``--work`` given (a re-run skips preparing), a temporary one goes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_shell(command: str) -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "-c", command], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def spark_case(source: str, kind: str, rows: str, out: str, cores: int) -> dict:
    code = f"""
import time, sparkbam_py
from sparkbam_py.spark.session import get_spark
spark = get_spark("bench-text-write", master="local[{cores}]", config={{"spark.ui.enabled": "false",
                  "spark.driver.memory": "4g"}})
sparkbam_py.register(spark)
df = spark.read.parquet({rows!r}) if {kind!r} == "parquet" else spark.read.format("vcf").load({source!r})
spark.range({cores}).count()
started = time.perf_counter()
sparkbam_py.write_vcf(df, {out!r}, header_from={source!r}, overwrite=True)
print(time.perf_counter() - started)
"""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                          env=dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable))
    return {"write": float(done.stdout.strip().splitlines()[-1]), "process": time.perf_counter() - started}


def prepare(source: str, work: Path, cores: int) -> tuple:
    text, rows = work / "big.vcf", work / "rows.parquet"
    if not text.exists():
        subprocess.run(["bash", "-c", f"bgzip -dc -@{cores} {source} > {text}"], check=True)
    if not rows.exists():
        code = f"""
import sparkbam_py
from sparkbam_py.spark.session import get_spark
spark = get_spark("bench-text-prepare", master="local[{cores}]", config={{"spark.ui.enabled": "false"}})
sparkbam_py.register(spark)
spark.read.format("vcf").load({source!r}).write.parquet({str(rows)!r})
"""
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                       env=dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable))
    return text, rows


def check(out: Path, expected_lines: int, reference: Path) -> None:
    lines = int(subprocess.run(["bash", "-c", f"bgzip -dc {out} | grep -vc '^#'"], capture_output=True, text=True,
                               check=True).stdout)
    assert lines == expected_lines, f"{out}: {lines} records, expected {expected_lines}"
    listed = [subprocess.run(["tabix", "-l", str(path)], capture_output=True, text=True, check=True).stdout
              for path in (out, reference)]
    assert listed[0] == listed[1], f"{out}: tabix -l differs from tabix's index"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("vcf")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", default=None, help="where the text, Parquet and outputs go (kept for re-runs)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    temporary = args.work is None
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-text-write-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        text, rows = prepare(args.vcf, work, args.cores)
        records = int(subprocess.run(["bash", "-c", f"grep -vc '^#' {text}"], capture_output=True, text=True,
                                     check=True).stdout)
        peer_out, ours = work / "peer.vcf.gz", work / "ours.vcf.gz"
        results = {"bgzip+tabix": [], "parquet write": [], "parquet process": [], "vcf write": [], "vcf process": []}
        load = [open("/proc/loadavg").read().split()[0]]
        sizes = {}
        for _ in range(args.repeats):
            results["bgzip+tabix"].append(timed_shell(
                f"bgzip -@{args.cores} -c {text} > {peer_out} && tabix -f -p vcf {peer_out}"))
            for kind in ("parquet", "vcf"):
                timing = spark_case(args.vcf, kind, str(rows), str(ours), args.cores)
                results[f"{kind} write"].append(timing["write"])
                results[f"{kind} process"].append(timing["process"])
                check(ours, records, peer_out)
                sizes[f"{kind} output"] = ours.stat().st_size
            sizes["bgzip output"] = peer_out.stat().st_size
        load.append(open("/proc/loadavg").read().split()[0])
        medians = {name: statistics.median(values) for name, values in results.items()}
        summary = {"records": records, "text_bytes": text.stat().st_size, "cores": args.cores, "loadavg": load,
                   "medians_s": medians, "runs_s": results, "output_bytes": sizes,
                   "ratios_to_bgzip_tabix": {name: medians[name] / medians["bgzip+tabix"] for name in medians}}
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(f"{records} records, {text.stat().st_size / 1e6:.0f} MB of text, local[{args.cores}], "
                  f"load {load[0]} -> {load[1]}")
            for name, value in medians.items():
                print(f"{name:16s} median {value:7.2f} s  ({value / medians['bgzip+tabix']:.2f}x bgzip+tabix)  "
                      f"runs {', '.join(f'{v:.1f}' for v in results[name])}")
            print("output bytes: " + ", ".join(f"{name} {value:,}" for name, value in sizes.items()))
    finally:
        for output in (work / "peer.vcf.gz", work / "peer.vcf.gz.tbi", work / "ours.vcf.gz", work / "ours.vcf.gz.tbi"):
            output.unlink(missing_ok=True)
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
