"""Session-wide test data: the generated BAM matrix and the shared real-world corpus."""
from __future__ import annotations

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
