"""Every Spark command of the ``sparkbam`` CLI, and ``map_splits``, on Spark Connect: the same
output as on a classic session.  The classic outputs are computed first on local[2], then one
Connect server runs them all (``--remote sc://...``, and ``$SPARK_REMOTE`` for one)."""
from __future__ import annotations

import json
import re
import sys
from collections import Counter

import pytest
from pyspark import cloudpickle

from spark.engines import activate
from sparkbam_py.cli.main import main
from sparkbam_py.spark.map_splits import map_splits

pytestmark = [pytest.mark.spark, pytest.mark.slow]
# The map_splits functions below travel by value: executors cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

BAM = "short_reads.mixed"
OTHER_BAM = "secondary_no_seq.tiny_blocks"
# Few, coarse tasks: every Spark task costs, and the point is the engine, not the file.
SPLIT_SIZE = "100k"
# Times differ from run to run; everything else must not.
TIMING_KEY = re.compile(r"seconds|_ms$")


def spark_commands(bam: str, other: str, listing: str, demo_dir: str) -> dict:
    """name -> argv, for every command that runs Spark jobs (the index-* ones run none)."""
    return {
        "check-bam": ["check-bam", bam, "-m", "30k", "-i", "0-60k"],
        "full-check": ["full-check", bam, "-m", "20k", "-i", "0-40k"],
        "check-blocks": ["check-blocks", bam, "-m", "200k"],
        "compute-splits": ["compute-splits", bam, "-m", SPLIT_SIZE],
        "compare-splits": ["compare-splits", listing, "-m", SPLIT_SIZE],
        "count-reads": ["count-reads", bam, "-m", SPLIT_SIZE],
        "time-load": ["time-load", bam, "-m", SPLIT_SIZE],
        "demo": ["demo", "--pairs", "300", "--split-size", "8k", "--dir", demo_dir],
    }


def without_timings(value):
    if isinstance(value, dict):
        return {key: without_timings(item) for key, item in value.items() if not TIMING_KEY.search(key)}
    if isinstance(value, list):
        return [without_timings(item) for item in value]
    return value


def run_json(capsys, argv) -> dict:
    code = main(argv + ["--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    return without_timings(json.loads(out.strip().splitlines()[-1]))


def flags_and_names(reads):
    """A map_splits function over pysam segments: picklable, deterministic."""
    return Counter((read.flag, read.reference_name) for read in reads)


def rows_and_names(batches):
    """A map_splits function over Arrow batches, stopping after the first batch."""
    first = next(batches, None)
    return None if first is None else first.column("query_name").to_pylist()[:5]


@pytest.fixture(scope="module")
def commands(bam_fixtures, tmp_path_factory):
    folder = tmp_path_factory.mktemp("connect_cli")
    listing = folder / "bams.txt"
    listing.write_text(f"{bam_fixtures[BAM].path}\n{bam_fixtures[OTHER_BAM].path}\n")
    return spark_commands(str(bam_fixtures[BAM].path), str(bam_fixtures[OTHER_BAM].path), str(listing),
                          str(folder / "demo"))


@pytest.fixture(scope="module")
def classic(commands, bam_fixtures):
    """Every command's output, and map_splits' results, on a classic local session."""
    import contextlib
    import io

    spark = activate("local").spark
    outputs = {}
    for name, argv in commands.items():
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            assert main(argv + ["--json"]) == 0, name
        outputs[name] = without_timings(json.loads(captured.getvalue().strip().splitlines()[-1]))
    path = str(bam_fixtures[BAM].path)
    outputs["map_splits"] = (map_splits(spark, path, flags_and_names, SPLIT_SIZE),
                             map_splits(spark, path, rows_and_names, SPLIT_SIZE, records="arrow", columns=["query_name"]))
    return outputs


def test_every_command_over_connect_matches_classic(commands, classic, bam_fixtures, capsys, monkeypatch):
    engine = activate("connect")
    monkeypatch.setenv("SPARK_REMOTE", "")  # so the command's own setting is undone afterwards
    for name, argv in commands.items():
        assert run_json(capsys, argv + ["--remote", engine.url]) == classic[name], name
    # $SPARK_REMOTE alone (as on Databricks) picks the Connect session as well.
    monkeypatch.setenv("SPARK_REMOTE", engine.url)
    assert run_json(capsys, commands["count-reads"]) == classic["count-reads"]
    path = str(bam_fixtures[BAM].path)
    pysam_results = map_splits(engine.spark, path, flags_and_names, SPLIT_SIZE)
    arrow_results = map_splits(engine.spark, path, rows_and_names, SPLIT_SIZE, records="arrow", columns=["query_name"])
    assert (pysam_results, arrow_results) == classic["map_splits"]
    assert sum(sum(counts.values()) for counts in pysam_results) == bam_fixtures[BAM].n_records
