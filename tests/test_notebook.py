"""The quick-start notebook in examples/ runs top to bottom (headless, nbclient, local Spark),
so it never rots: its cells assert their own results against pysam."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "sparkbam_quickstart.ipynb"
CELL_TIMEOUT = 600

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_quickstart_notebook_runs_headless(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKBAM_QUICKSTART_DIR", str(tmp_path))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    text = "".join(output.get("text", "") for output in outputs)
    assert "6000 reads" in text and "reads overlap chr2:10000-30000" in text
    assert any("image/png" in output.get("data", {}) for output in outputs)  # the plot, shown inline
    assert os.path.getsize(tmp_path / "check_bam.png") > 1000 and os.path.isfile(tmp_path / "quickstart.bam.bai")
