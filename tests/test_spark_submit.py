"""Real ``spark-submit`` runs of the commands, through the launcher, conf/ and --py-files."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pyspark
from sparkbam_py.cli import launcher

REPO = Path(__file__).resolve().parents[1]
SPARK_SUBMIT = Path(pyspark.__file__).parent / "bin" / "spark-submit"
SUBMIT_TIMEOUT = 600


@pytest.fixture(scope="module")
def py_files(tmp_path_factory):
    archive = tmp_path_factory.mktemp("py-files") / "sparkbam_py.zip"
    assert launcher.build_py_files(str(archive)) > 50
    return archive


def spark_submit(py_files, *command):
    """``spark-submit <launcher> COMMAND ... --json``: its JSON report, and its stderr."""
    environment = dict(os.environ, SPARK_CONF_DIR=str(REPO / "conf"), PYSPARK_PYTHON=sys.executable)
    environment.pop("PYSPARK_GATEWAY_PORT", None)  # a fresh application, not the tests' JVM
    environment.pop("SPARKBAM_MASTER", None)
    argv = [str(SPARK_SUBMIT), "--master", "local[2]", "--conf", f"spark.pyspark.python={sys.executable}",
            "--py-files", str(py_files), launcher.__file__, *command, "--json"]
    done = subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=SUBMIT_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.mark.spark
@pytest.mark.slow
def test_spark_submit_check_bam(bam_fixtures, py_files):
    fixture = bam_fixtures["many_blocks.htsjdk"]
    report, stderr = spark_submit(py_files, "check-bam", str(fixture.path), "-m", "1m")
    assert report["reads"] == fixture.n_records
    eager = report["checkers"]["eager"]
    assert (eager["tp"], eager["fp"], eager["fn"]) == (fixture.n_records, 0, 0)
    assert " INFO " not in stderr  # conf/log4j2.properties keeps Spark to warnings


@pytest.mark.spark
@pytest.mark.slow
def test_spark_submit_count_reads_and_compute_splits(bam_fixtures, py_files):
    fixture = bam_fixtures["many_blocks.htsjdk"]
    report, _ = spark_submit(py_files, "count-reads", str(fixture.path), "-m", "256k")
    assert report["counts"]["sparkbam"] == fixture.n_records
    report, _ = spark_submit(py_files, "compute-splits", str(fixture.path), "-m", "256k", "-s")
    firsts = [start for start, _ in report["splits"]]
    assert firsts[0] == str(fixture.header_end) and len(firsts) > 5


def test_py_files_archive_holds_the_whole_package(py_files, tmp_path):
    # Imported from the archive alone, the validators come from inside it, and the command
    # line finds every command there.
    probe = ("import sparkbam_py.validators.search as s, sparkbam_py.cli.main as m; "
             "print(s.__file__); print(' '.join(c.name for c in m.discover_commands()))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(py_files)), check=True)
    module_file, commands = done.stdout.splitlines()
    assert module_file.startswith(str(py_files))
    assert {"check-bam", "compute-splits", "count-reads", "index-sbi", "time-load"} <= set(commands.split())
