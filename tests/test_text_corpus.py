"""Every line exactly once on every file of the real bgzipped-text corpus, at split sizes
from a few hundred bytes to beyond the file: the MANIFEST's ``lines`` column is the truth.
Plain gzip files (``bgzf=no``) are read whole with the warning; truncated files fail."""
from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pytest

from sparkbam_py.errors import TruncatedError
from sparkbam_py.text.plan import count_task_lines, plan_text_file
from sparkbam_py.text.sniff import NotSplittableWarning

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"
# At most about this many ranges per file at the smallest size (keeps CI time bounded).
MAX_RANGES = 120
SMALLEST_SPLIT = 300


def manifest():
    if not (CORPUS_TEXT / "MANIFEST.tsv").is_file():
        return []
    with open(CORPUS_TEXT / "MANIFEST.tsv", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = manifest()


def split_sizes(size: int):
    return sorted({max(SMALLEST_SPLIT, size // MAX_RANGES), 4099, 65536, size + 1})


def count_lines(path: str, split_size: int) -> int:
    return sum(count_task_lines(task) for task in plan_text_file(path, split_size))


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(not ROWS, reason="bgzipped-text corpus not found (expected ../shared/corpus-text)")
def test_every_corpus_line_exactly_once():
    failures = []
    for row in ROWS:
        path = str(CORPUS_TEXT / row["file"])
        truncated = "truncated" in row["notes"]
        for size in split_sizes(int(row["bytes"])):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    got = count_lines(path, size)
                except TruncatedError:
                    if not truncated:
                        raise
                    continue
            if truncated:
                failures.append(f"{row['file']}: truncated, but read {got} lines at split size {size}")
            elif got != int(row["lines"]):
                failures.append(f"{row['file']}: {got} lines at split size {size}, MANIFEST says {row['lines']}")
            warned = any(issubclass(w.category, NotSplittableWarning) for w in caught)
            if warned != (row["bgzf"] == "no"):
                failures.append(f"{row['file']}: bgzf={row['bgzf']} but warned={warned}")
    assert not failures, "\n".join(failures)
