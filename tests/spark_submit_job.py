"""The job ``test_spark_submit_archive`` submits: a load, a count, a coverage job and a BAM
write of one BAM, then where each executor's Python and libraries came from.

Usage: ``spark-submit ... spark_submit_job.py BAM OUT_FOLDER SPLIT_SIZE``; prints one JSON line.
"""
from __future__ import annotations

import json
import os
import sys
import time

PROBE_TASKS = 6


def where_from(_) -> dict:
    """Runs on an executor: its folder, interpreter prefix, and the files its libraries load from."""
    import deflate
    import isal
    import numba
    import numpy
    import pyarrow
    import pysam

    import sparkbam_py
    from sparkbam_py.bgzf import native
    from sparkbam_py.kernels import kernels_in_use

    modules = (sparkbam_py, numpy, pyarrow, pysam, isal, deflate, numba)
    return {"cwd": os.getcwd(), "prefix": sys.prefix, "pid": os.getpid(), "kernels": kernels_in_use(),
            "libdeflate_kernel": native.available(), "modules": {m.__name__: m.__file__ for m in modules}}


def main(bam: str, out: str, split_size: str) -> dict:
    import sparkbam_py
    from sparkbam_py.spark.tasks import run_on_executors

    started = time.monotonic()
    spark = sparkbam_py.get_spark("sparkbam-archive-job")
    reads = sparkbam_py.load_reads(spark, bam, split_size)
    report = {"loaded": reads.count(), "counted": sparkbam_py.count_reads(spark, bam, split_size)}
    sparkbam_py.compute_coverage(spark, bam, os.path.join(out, "coverage"), split_size=split_size)
    report["written"] = sparkbam_py.write_bam(reads, os.path.join(out, "written.bam"), header_from=bam)["records"]
    report["executors"] = run_on_executors(spark, where_from, range(PROBE_TASKS))
    report["job_seconds"] = round(time.monotonic() - started, 1)
    spark.stop()
    return report


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
