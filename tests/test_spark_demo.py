"""The README's first command: ``sparkbam demo`` generates, loads and checks a BAM."""
from __future__ import annotations

import json

import pytest

from spark.engines import spark_engine  # noqa: F401  (session fixture shared by the Spark tests)
from sparkbam_py.cli.main import main

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_the_demo_reads_every_generated_read_once(spark_engine, tmp_path, capsys):
    if spark_engine.name != "local":
        pytest.skip("the demo runs local Spark; it reuses the local engine's session")
    assert main(["demo", "--json", "--pairs", "3000", "--split-size", "64k", "--dir", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["exactly_once"] and report["written"] == report["loaded"] == 6100
    assert (report["lost"], report["duplicated"], report["invented"]) == (0, 0, 0)
    assert sum(report["per_contig"].values()) == 6100 and report["per_contig"]["(unplaced)"] == 100
    assert len(report["splits"]) > 3 and (tmp_path / "demo.bam").is_file()
