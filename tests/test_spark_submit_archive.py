"""spark-submit with a shipped environment, as on EMR/Dataproc-style clusters whose nodes have
nothing of ours installed: the environment is packed with venv-pack, submitted with
``--archives env.tar.gz#env`` and ``spark.pyspark.python=./env/bin/python``, and a standalone
cluster (a master and two one-core workers, their own JVMs) runs a load, a count, a
coverage job and a BAM write from the unpacked archive alone.

Checked: every result equals the local driver's; each executor's interpreter and every
library (sparkbam_py, numpy, pyarrow, pysam, isal, libdeflate, numba) load from its own
unpacked ``env/``; the compiled kernels run there, and numba compiles each kernel at most
once per executor (its cache, written into the unpacked archive, serves the later tasks
and Python workers).  The wall time and compile counts are printed (``-s`` shows them).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Dict, List

import numpy as np
import pysam
import pytest

from depth_fixtures.data import CONTIGS, write_coverage_bam
from spark.engines import SPARK_HOME, StandaloneEngine, spark_env, stop_running

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("venv-pack", path=os.path.dirname(sys.executable)) is None,
                                 reason="venv-pack is not installed (pip install -e '.[ship]')")]
REPO = Path(__file__).resolve().parents[1]
SUBMIT_TIMEOUT = 900
SPLIT = "60k"
# What numba prints with NUMBA_DEBUG_CACHE=1 when it saves (after compiling) or loads a kernel.
CACHE_SAVED = re.compile(r"\[cache\] data saved to '?([^'\n]+)")
CACHE_LOADED = re.compile(r"\[cache\] data loaded from '?([^'\n]+)")


def runtime_requirements() -> List[str]:
    """Our install_requires pinned to the versions of this environment, pyspark left out:
    the cluster's Spark brings its own (``SPARK_HOME/python/lib/pyspark.zip`` on executors)."""
    from packaging.requirements import Requirement

    pinned = []
    for text in metadata.requires("sparkbam_py") or []:
        requirement = Requirement(text)
        if requirement.name == "pyspark" or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        pinned.append(f"{requirement.name}=={metadata.version(requirement.name)}")
    return pinned


def pack_environment(directory: Path) -> Path:
    """A fresh venv holding the project (built as a wheel, not editable) and its runtime
    requirements, packed by venv-pack; the venv itself is removed, so only the archive is left."""
    env, wheels, archive = directory / "env", directory / "wheels", directory / "env.tar.gz"
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(REPO)],
                   check=True, capture_output=True)
    subprocess.run(pip + runtime_requirements(), check=True)
    subprocess.run(pip + ["--no-deps", *map(str, wheels.glob("sparkbam_py-*.whl"))], check=True)
    venv_pack = Path(sys.executable).parent / "venv-pack"
    subprocess.run([str(venv_pack), "--prefix", str(env), "--output", str(archive), "--compress-level", "1",
                    "--quiet"], check=True)
    shutil.rmtree(env)
    return archive


def submit(master: str, archive: Path, bam: Path, out: Path) -> dict:
    """The job submitted in client mode from a folder holding the archive unpacked as ``env``:
    Spark 4 plans a Python data source in a Python process the driver's JVM starts with
    ``spark.pyspark.python``, so ``./env/bin/python`` must exist where the driver runs too
    (in cluster mode the driver's container has it, as the executors do)."""
    driver = out.parent / "driver"
    (driver / "env").mkdir(parents=True)
    shutil.unpack_archive(str(archive), str(driver / "env"), "gztar")
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("PYSPARK_", "SPARK_CONNECT", "VIRTUAL_ENV"))}
    environment.update(SPARK_LOCAL_IP="127.0.0.1", SPARK_CONF_DIR=str(REPO / "conf"))  # Spark at warnings
    argv = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", master,
            "--archives", f"{archive}#env",
            "--conf", "spark.pyspark.python=./env/bin/python",
            "--conf", "spark.pyspark.driver.python=./env/bin/python",
            "--conf", "spark.executorEnv.NUMBA_DEBUG_CACHE=1",
            # The job's BAM is tiny, below what makes the default ("auto") load numba
            # (sparkbam_py.kernels, SPARKBAM_KERNELS_MIN_BYTES): ask for the compiled kernels a
            # real input would load, so the test sees them load from the shipped environment.
            "--conf", "spark.executorEnv.SPARKBAM_KERNELS=numba",
            "--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=768m",
            "--conf", "spark.ui.enabled=false",
            str(Path(__file__).with_name("spark_submit_job.py")), str(bam), str(out), SPLIT]
    done = subprocess.run(argv, env=environment, cwd=driver, capture_output=True, text=True,
                          timeout=SUBMIT_TIMEOUT)
    shutil.rmtree(driver)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[max(log.find("Traceback"), 0):][:6000]
    return json.loads(done.stdout.strip().splitlines()[-1])


def numba_cache_events(worker_dir: Path) -> Dict[str, Dict[str, Counter]]:
    """Per executor folder: how often each kernel file was saved (compiled) and loaded."""
    events = {}
    for log in worker_dir.glob("app-*/*/std*"):
        text = log.read_text(errors="replace")
        executor = events.setdefault(str(log.parent), {"saved": Counter(), "loaded": Counter()})
        executor["saved"].update(CACHE_SAVED.findall(text))
        executor["loaded"].update(CACHE_LOADED.findall(text))
    return events


def test_spark_submit_with_a_packed_environment(tmp_path):
    from sparkbam_py.coverage.compute import compute_coverage_local
    from sparkbam_py.coverage.store import CoverageStore

    bam = write_coverage_bam(tmp_path, "reads", n=4000, seed=37)
    packed_at = time.monotonic()
    archive = pack_environment(tmp_path / "ship")
    pack_seconds = time.monotonic() - packed_at
    stop_running()  # the tests' own engine, if any: two cores are all this machine has
    cluster = StandaloneEngine()
    env = spark_env(cluster.workdir)
    env.pop("PYSPARK_PYTHON", None)  # workers know no interpreter of ours: only the archive's
    try:
        submitted_at = time.monotonic()
        report = submit(cluster.start_cluster(env), archive, bam, tmp_path / "out")
        submit_seconds = time.monotonic() - submitted_at
        events = numba_cache_events(cluster.workdir / "work")
    finally:
        cluster.stop()

    with pysam.AlignmentFile(str(bam)) as reads:
        records = sum(1 for _ in reads.fetch(until_eof=True))
    assert report["loaded"] == report["counted"] == report["written"] == records
    with pysam.AlignmentFile(str(tmp_path / "out" / "written.bam")) as written:
        assert sum(1 for _ in written.fetch(until_eof=True)) == records
    compute_coverage_local([str(bam)], str(tmp_path / "local"), split_size=SPLIT)
    ours, local = CoverageStore(tmp_path / "out" / "coverage"), CoverageStore(tmp_path / "local")
    for name, length in CONTIGS:
        assert np.array_equal(ours.values(name, 0, length), local.values(name, 0, length)), name

    folders = {probe["cwd"] for probe in report["executors"]}
    assert len(folders) == 2, "each of the two workers' executors ran probes"
    for probe in report["executors"]:
        unpacked = os.path.join(probe["cwd"], "env")
        assert probe["prefix"] == unpacked or os.path.realpath(probe["prefix"]) == os.path.realpath(unpacked)
        for name, module_file in probe["modules"].items():
            assert os.path.realpath(module_file).startswith(os.path.realpath(unpacked) + os.sep), name
        assert probe["kernels"] == "numba" and probe["libdeflate_kernel"]

    assert len(events) == 2 and all(executor["saved"] for executor in events.values()), events
    for executor in events.values():
        again = [kernel for kernel, times in executor["saved"].items() if times > 1]
        assert again == [], f"compiled more than once in one executor: {again}"
    compiles = sorted(sum(executor["saved"].values()) for executor in events.values())
    loads = sorted(sum(executor["loaded"].values()) for executor in events.values())
    print(f"\nspark-submit with a packed environment: archive {archive.stat().st_size / 2**20:.0f} MiB packed in "
          f"{pack_seconds:.0f} s; submit to exit {submit_seconds:.0f} s (job {report['job_seconds']} s); "
          f"kernels compiled per executor {compiles}, loaded from cache {loads}")
