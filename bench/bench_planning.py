"""Planning a load of many small BAMs on S3 with latency: time and requests, by file size.

Usage::

    python bench/bench_planning.py BAM [--files 1000] [--records 2000,20000] [--delay 0.02]
        [--spark] [--json]

For each size in ``--records``, a BAM of BAM's first N records is uploaded ``--files`` times
to moto's S3 server, behind a proxy that delays every request by ``--delay`` seconds and
counts them; both run in a child process, so their Python does not share this process's GIL
with the planner being timed.  Then the driver's planning of ``s3://bucket/N/`` (the
listing, every header, every split: what ``format("bam").load()`` runs before any task) is
timed from a cold filesystem cache.  Planning must cost per file, not per byte: the two
sizes should take the same time and requests.  ``--spark`` also times a whole
``load().count()`` on ``local[2]`` (one task per small file).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sparkbam_py.bam.options import ReadOptions
from sparkbam_py.channel.storage import storage_options_applied
from sparkbam_py.formats.bam import plan_reads
from sparkbam_py.testing.fault_proxy import FaultProxy
from sparkbam_py.testing.moto_s3 import MotoS3

BUCKET = "planning"


class DelayProxy(FaultProxy):
    """The fault proxy with no faults and ``delay`` seconds added to every request."""

    def __init__(self, upstream: str, delay: float):
        super().__init__(upstream)
        self.delay = delay
        self.methods: Counter = Counter()
        self.bytes = 0
        self._tally = threading.Lock()

    def forward(self, method, target, headers, body):
        time.sleep(self.delay)
        status, answer_headers, payload = super().forward(method, target, headers, body)
        with self._tally:
            self.methods[method] += 1
            self.bytes += len(payload)
        return status, answer_headers, payload

    def reset(self) -> None:
        with self._tally:
            self.methods.clear()
            self.bytes = 0


def serve_store(connection, delay: float) -> None:
    """The child process: moto behind the delay proxy; answers the parent's commands."""
    with MotoS3() as s3, DelayProxy(s3.endpoint_url, delay) as proxy:
        s3.create_bucket(BUCKET)
        connection.send({**s3.storage_options, "proxy_url": proxy.url})
        while True:
            command = connection.recv()
            if command == "stop":
                return
            if command == "reset":
                proxy.reset()
                connection.send(None)
            elif command == "counts":
                connection.send((dict(proxy.methods), proxy.bytes))


def first_records(bam: str, count: int, out: Path) -> Path:
    import pysam

    with pysam.AlignmentFile(bam, "rb") as source, pysam.AlignmentFile(str(out), "wb", template=source) as sink:
        for number, read in enumerate(source):
            if number == count:
                break
            sink.write(read)
    return out


def upload(endpoint: dict, key: str, data: bytes) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint["endpoint_url"], aws_access_key_id=endpoint["key"],
                          aws_secret_access_key=endpoint["secret"], region_name="us-east-1")
    client.put_object(Bucket=BUCKET, Key=key, Body=data)


def time_planning(url: str, storage: dict, store) -> dict:
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # cold: no listing or file cached from before
    store.send("reset")
    store.recv()
    started, cpu = time.perf_counter(), time.process_time()
    with storage_options_applied(storage, [url]):
        tasks = plan_reads([url], ReadOptions.of())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.send("counts")
    methods, read = store.recv()
    return {"seconds": round(seconds, 2), "driver_cpu_s": round(cpu, 2), "tasks": len(tasks), "requests": methods,
            "bytes_read": read}


def time_spark_count(url: str, storage: dict) -> dict:
    import sparkbam_py
    from sparkbam_py.spark.session import get_spark

    spark = get_spark("bench-planning", master="local[2]", config={"spark.ui.enabled": "false"})
    sparkbam_py.register(spark)
    reader = spark.read.format("bam")
    for key, value in storage.items():
        reader = reader.option(f"storage.{key}", str(value))
    started = time.perf_counter()
    count = reader.load(url).count()
    return {"seconds": round(time.perf_counter() - started, 2), "records": count}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bam")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--records", default="2000,20000")
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = {"files": args.files, "delay_s": args.delay, "sizes": {}}
    store, child_end = multiprocessing.Pipe()
    child = multiprocessing.Process(target=serve_store, args=(child_end, args.delay), daemon=True)
    child.start()
    try:
        endpoint = store.recv()
        storage = {"key": endpoint["key"], "secret": endpoint["secret"], "endpoint_url": endpoint["proxy_url"]}
        with tempfile.TemporaryDirectory() as work:
            for count in (int(text) for text in args.records.split(",")):
                data = first_records(args.bam, count, Path(work) / f"first{count}.bam").read_bytes()
                for number in range(args.files):
                    upload(endpoint, f"n{count}/f{number:05d}.bam", data)
                url = f"s3://{BUCKET}/n{count}/"
                figures = {"file_bytes": len(data), "planning": time_planning(url, storage, store)}
                if args.spark:
                    figures["spark_count"] = time_spark_count(url, storage)
                report["sizes"][count] = figures
                print(json.dumps({count: figures}), file=sys.stderr, flush=True)
    finally:
        store.send("stop")
        child.join(timeout=30)
    print(json.dumps(report, indent=1) if args.json else report)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    sys.exit(main())
