"""Runs the documentation's examples in a process of their own, and reports each one.

``python docs_runner.py REPORT.json [PAGE...]`` makes the example files in a fresh folder,
starts a moto S3 server holding some of them, moves into that folder, puts the S3 server's
credentials and endpoint in the environment and only then starts Spark: so the executors see
the same folder (relative paths mean the same on both sides, as when a job is started from
the folder of its data) and the same environment, as on a cluster configured for its store.
A process of its own keeps the tests' shared Spark engines, environment and folder untouched.

Each block's result (passed, failed with the error, or skipped with the reason) goes to the
report, in page order; after a failure, the rest of that page is skipped.
"""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Dict, List

from docs_data import BUCKET, make_example_files
from docs_support import (Block, CliServer, blocks_of, documented_pages, environment_and_folder, install_shims,
                          shell_environment)

SHELL_SECONDS = 600
SPARK_CONFIG = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}


def main(argv: List[str]) -> int:
    report, pages = Path(argv[1]), set(argv[2:])
    blocks = [block for page in documented_pages() for block in blocks_of(page)
              if not pages or block.page in pages]
    scratch = Path(tempfile.mkdtemp(prefix="docs-"))  # short: the CLI server's Unix socket lives here
    started = time.monotonic()
    try:
        results = run_all(blocks, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results["total seconds"] = round(time.monotonic() - started, 2)
    report.write_text(json.dumps(results, indent=1))
    return 0


def run_all(blocks: List[Block], scratch: Path) -> Dict[str, dict]:
    from sparkbam_py.spark.session import get_spark
    from sparkbam_py.testing.moto_s3 import MotoS3

    data = scratch / "data"
    data.mkdir()
    keys = make_example_files(data)
    with MotoS3() as s3:
        s3.create_bucket(BUCKET)
        for key, name in keys.items():
            s3.upload(BUCKET, key, data / name)
        # htslib must never fetch a reference from the network: only the @SQ UR files.
        environment = dict(s3.environment, SPARKBAM_REF_CACHE=str(scratch / "references"),
                           REF_PATH=str(scratch / "no-ref-path" / "%s"), REF_CACHE=str(scratch / "no-ref-cache" / "%s"))
        with environment_and_folder(environment, data), CliServer(scratch) as cli:
            spark = get_spark("sparkbam-docs-examples", master="local[2]", config=SPARK_CONFIG)
            try:
                shell_env = shell_environment(install_shims(scratch), cli)
                names = {"spark": spark, "endpoint": s3.endpoint_url, "key": s3.storage_options["key"],
                         "secret": s3.storage_options["secret"]}
                return run_blocks(blocks, data, names, shell_env)
            finally:
                spark.stop()


def run_blocks(blocks: List[Block], folder: Path, names: dict, shell_env: Dict[str, str]) -> Dict[str, dict]:
    namespaces: Dict[str, dict] = {}
    failed = set()
    results = {}
    for block in blocks:
        if block.not_run:
            results[block.id] = {"status": "skipped", "reason": f"not run: {block.not_run}"}
        elif block.page in failed:
            results[block.id] = {"status": "skipped", "reason": f"an earlier example of {block.page} failed"}
        else:
            namespace = namespaces.setdefault(block.page, dict(names, __name__="__main__"))
            started = time.monotonic()
            results[block.id] = run_block(block, folder, namespace, shell_env)
            results[block.id]["seconds"] = round(time.monotonic() - started, 2)
            if results[block.id]["status"] == "failed":
                failed.add(block.page)
    return results


def run_block(block: Block, folder: Path, namespace: dict, shell_env: Dict[str, str]) -> dict:
    if block.language == "sh":
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=folder, env=shell_env,
                              capture_output=True, text=True, timeout=SHELL_SECONDS)
        status = "passed" if done.returncode == 0 else "failed"
        return {"status": status, "output": done.stdout,
                "error": "" if status == "passed" else f"exited with {done.returncode}\n{done.stderr[-4000:]}"}
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            exec(compile(block.code, block.id, "exec"), namespace)
    except BaseException:  # the example's failure is the report's content, whatever it is
        return {"status": "failed", "output": output.getvalue(), "error": traceback.format_exc()[-4000:]}
    return {"status": "passed", "output": output.getvalue(), "error": ""}


if __name__ == "__main__":
    sys.exit(main(sys.argv))
