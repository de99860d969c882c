"""Session-wide test data: the generated BAM matrix and the shared real-world corpus."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from fixtures import build_standard_matrix

# The corpus sits beside the repository (../shared/corpus), never inside it.
CORPUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(scope="session")
def bam_fixtures(tmp_path_factory):
    """name -> BamFixture for the standard matrix, built once per session."""
    return build_standard_matrix(tmp_path_factory.mktemp("bams"))


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS_DIR / "MANIFEST.tsv").is_file():
        pytest.skip(f"real-world BAM corpus not found at {CORPUS_DIR} (expected ../shared/corpus)")
    return CORPUS_DIR


ENGINE_ORDER = {"local": 0, "standalone": 1, "connect": 2}


def _engine_of(item) -> str:
    """The Spark engine a test runs on: its ``spark_engine`` parameter, else the engine its
    own code activates by name; plain tests count as local."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "spark_engine" in callspec.params:
        return callspec.params["spark_engine"]
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return "local"
    for name in ("connect", "standalone"):
        if f'activate("{name}")' in source:
            return name
    return "local"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Every classic-session test before any Connect test, standalone ones between: each JVM
    then starts about once, and no classic session is asked for in a process that a Connect
    session has marked remote-only (pyspark's CONNECT_URL_NOT_SET)."""
    items.sort(key=lambda item: ENGINE_ORDER.get(_engine_of(item), 0))
