"""The coverage commands: import and export round trip, and ``sparkbam serve`` under waitress."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import requests

from sparkbam_py.cli.main import main
from sparkbam_py.coverage.store import CoverageStore

BEDGRAPH = "chr1\t0\t10\t2\nchr1\t15\t20\t5\n"


def test_import_then_export_round_trips_a_bedgraph(tmp_path, capsys):
    (tmp_path / "in.bedgraph").write_text(BEDGRAPH)
    (tmp_path / "genome.fai").write_text("chr1\t30\t6\t60\t61\n")
    assert main(["coverage-import", str(tmp_path / "in.bedgraph"), "-o", str(tmp_path / "s"),
                 "--lengths", str(tmp_path / "genome.fai"), "--track", "signal", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tracks"] == ["signal"]
    assert CoverageStore(tmp_path / "s").length("chr1") == 30
    assert main(["coverage-export", str(tmp_path / "s"), "--track", "signal",
                 "--bedgraph", str(tmp_path / "out.bedgraph")]) == 0
    assert (tmp_path / "out.bedgraph").read_text() == BEDGRAPH


def test_export_of_an_unknown_track_fails_cleanly(tmp_path, capsys):
    (tmp_path / "in.bedgraph").write_text(BEDGRAPH)
    main(["coverage-import", str(tmp_path / "in.bedgraph"), "-o", str(tmp_path / "s")])
    assert main(["coverage-export", str(tmp_path / "s"), "--track", "nope", "--bedgraph", str(tmp_path / "x")]) != 0
    assert "unknown track" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_table_import_by_command(tmp_path):
    (tmp_path / "t.csv").write_text("contig,position,strand,liver\nchr2,1,+,3\nchr2,4,-,1\n")
    assert main(["coverage-import", str(tmp_path / "t.csv"), "-o", str(tmp_path / "s"), "--kind", "table",
                 "--delimiter", ",", "--one-based"]) == 0
    store = CoverageStore(tmp_path / "s")
    assert store.tracks == ["liver:+", "liver:-"] and store.length("chr2") == 4
    assert np.array_equal(store.values("chr2", 0, 4), [[3, 0], [0, 0], [0, 0], [0, 1]])


def test_serve_command_runs_waitress(tmp_path):
    pytest.importorskip("waitress")
    (tmp_path / "in.bedgraph").write_text(BEDGRAPH)
    main(["coverage-import", str(tmp_path / "in.bedgraph"), "-o", str(tmp_path / "s")])
    process = subprocess.Popen([sys.executable, "-m", "sparkbam_py", "serve", str(tmp_path / "s"), "--port", "0",
                                "--no-auth"],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        base = line.rsplit(" at ", 1)[1].strip().rstrip("/")
        body = requests.get(f"{base}/api/coverage/chr1?start=0&end=20", timeout=30).json()
        assert body["tracks"] == {"value": (10 * 2 + 5 * 5) / 20}
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_wsgi_module_builds_the_app_from_the_environment(tmp_path, monkeypatch):
    pytest.importorskip("waitress")
    import importlib

    from sparkbam_py.errors import ConfigError

    (tmp_path / "in.bedgraph").write_text(BEDGRAPH)
    main(["coverage-import", str(tmp_path / "in.bedgraph"), "-o", str(tmp_path / "s")])
    monkeypatch.delenv("SPARKBAM_STORE", raising=False)
    monkeypatch.delitem(sys.modules, "sparkbam_py.serve.wsgi", raising=False)
    with pytest.raises(ConfigError, match="SPARKBAM_STORE"):
        importlib.import_module("sparkbam_py.serve.wsgi")
    monkeypatch.setenv("SPARKBAM_STORE", str(tmp_path / "s"))
    monkeypatch.setenv("SPARKBAM_NO_AUTH", "1")
    monkeypatch.delitem(sys.modules, "sparkbam_py.serve.wsgi", raising=False)
    application = importlib.import_module("sparkbam_py.serve.wsgi").application
    statuses = []
    body = b"".join(application({"REQUEST_METHOD": "GET", "PATH_INFO": "/api/contigs", "QUERY_STRING": "",
                                 "REMOTE_ADDR": "127.0.0.1"},
                                lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"] and json.loads(body)["tracks"] == ["value"]
