"""``count-lines``, and ``compute-splits``/``check-blocks`` on bgzipped text."""
from __future__ import annotations

import json

from sparkbam_py.cli.main import main
from text_layouts import build_text_fixture, sample_text


def run_json(capsys, *argv):
    code = main(list(argv) + ["--json"])
    return code, json.loads(capsys.readouterr().out)


def test_count_lines_local_counts_every_line(tmp_path, capsys):
    fixture = build_text_fixture(tmp_path, "t", "tiny", sample_text(lines=400, long_line=20_000), empty_blocks=True)
    code, data = run_json(capsys, "count-lines", "--local", "-m", "700", str(fixture.path))
    assert code == 0 and data["lines"] == len(fixture.lines)


def test_check_blocks_on_text_finds_every_first_line(tmp_path, capsys):
    fixture = build_text_fixture(tmp_path, "t", "tiny", sample_text(lines=300), empty_blocks=True)
    code, data = run_json(capsys, "check-blocks", str(fixture.path))
    assert code == 0 and data["mismatched"] == 0 and data["blocks"] > 100


def test_compute_splits_on_text_tiles_the_lines(tmp_path, capsys):
    fixture = build_text_fixture(tmp_path, "t", "small", sample_text(lines=300))
    code, data = run_json(capsys, "compute-splits", "-m", "3k", str(fixture.path))
    starts = [pair[0] for pair in data["splits"]]
    assert code == 0 and starts[0] == "0:0" and len(starts) > 3
    assert all(a[1] == b[0] for a, b in zip(data["splits"], data["splits"][1:]))
