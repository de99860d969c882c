"""``sparkbam convert`` hands every option it takes to ``sparkbam_py.convert`` (no Spark here)."""
from __future__ import annotations

import pytest

from sparkbam_py.cli import convert as convert_command
from sparkbam_py.cli.main import main
from sparkbam_py.convert.commit import ConvertResult


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def fake_convert(spark, paths, out, **options):
        seen.append((paths, out, options))
        return ConvertResult(out=out, format=options["to"], files=1, rows=7, bytes=100)

    monkeypatch.setattr("sparkbam_py.spark.convert.convert", fake_convert)
    monkeypatch.setattr(convert_command, "session", lambda name: object())
    return seen


def test_checksum_and_tags_options_reach_convert(calls, capsys):
    assert main(["convert", "a.bam", "-o", "out", "--no-verify-checksums", "--tags", "NM:i,MD:Z"]) == 0
    (paths, out, options), = calls
    assert paths == ["a.bam"] and out == "out"
    assert options["verify_checksums"] is False and options["tags"] == "NM:i,MD:Z"
    assert "7 records" in capsys.readouterr().out


def test_checksums_are_verified_by_default(calls):
    assert main(["convert", "a.bam", "-o", "out"]) == 0
    (_, _, options), = calls
    assert options["verify_checksums"] is True and options["tags"] is None


def test_local_conversion_runs_without_spark(tmp_path, bam_fixtures, capsys):
    import pyarrow.parquet as pq

    from sparkbam_py import read_table

    path = str(bam_fixtures["short_reads.htsjdk"].path)
    assert main(["convert", path, "-o", str(tmp_path / "out"), "--local", "2", "--columns", "query_name,flag"]) == 0
    assert pq.read_table(tmp_path / "out").num_rows == read_table(path).num_rows
    assert "records ->" in capsys.readouterr().out
