"""Corruption fuzzing over the real-world corpus: how each corrupted BAM's read ends.

    python bench/fuzz_corpus.py DIR --cases N --seed S [--max-bytes 2m] [--max-seconds 110] [--tsv OUT]

DIR holds BAMs and a ``MANIFEST.tsv`` (the corpus's; see its README): only BAMs it lists
as valid are corrupted (its ``INVALID``, ``samtools_read_error``, ``pysam_error`` and
``container=raw`` rows are skipped), up to ``--max-bytes`` each.  Each case picks a BAM, a
corruption kind (in turn: byte flips in BGZF headers, deflate payloads and trailers; a cut
anywhere; blocks swapped, duplicated or dropped; a BSIZE that lies) and a seed, then reads
the corrupted file through every split at three split sizes with ``read_table``, each read
time-bounded.  The kinds and the judging are the test suite's (``tests/fixtures/corruption.py``).

Prints a table of outcomes per kind, then every failing case with what reproduces it.
Exits 1 on any SILENT CHANGE, untyped exception or hang; 0 otherwise.
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.corruption import (KINDS, UNTYPED, block_table, corrupt, is_failure, judge,  # noqa: E402
                                 original_records, split_sizes_for)
from sparkbam_py.config import parse_size  # noqa: E402

INVALID_MARKS = ("INVALID", "samtools_read_error", "pysam_error", "container=raw")
SECONDS_PER_READ = 30


def valid_bams(corpus: Path, max_bytes: int) -> List[Path]:
    """The corpus BAMs its manifest lists as valid, at most ``max_bytes`` each, by name."""
    with open(corpus / "MANIFEST.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return sorted(corpus / row["file"] for row in rows
                  if not any(mark in row["notes"] for mark in INVALID_MARKS)
                  and int(row["bytes"]) <= max_bytes and int(row["records"] or 0) > 0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-bytes", default="2m", help="skip BAMs bigger than this (default 2m)")
    parser.add_argument("--max-seconds", type=float, help="start no case after this many seconds")
    parser.add_argument("--tsv", help="also write one row per case here")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # a missing EOF marker is judged, not printed
    bams = valid_bams(args.corpus, parse_size(args.max_bytes))
    rng = random.Random(args.seed)
    started = time.monotonic()
    rows, sources = [], {}
    with tempfile.TemporaryDirectory(prefix="fuzz-corpus-") as scratch:
        target = Path(scratch) / "corrupt.bam"
        for case in range(args.cases):
            if args.max_seconds is not None and time.monotonic() - started > args.max_seconds:
                break
            path = rng.choice(bams)
            source = sources.get(path) or sources.setdefault(path, _load(path))
            if source is None:
                rows.append(_row(case, path, args.corpus, "-", 0, "original unreadable: skipped", ""))
                continue
            data, blocks, original = source
            kind, seed = KINDS[case % len(KINDS)], rng.randrange(1 << 32)
            corruption = corrupt(data, blocks, kind, seed)
            target.write_bytes(corruption.data)
            outcome = judge(original, target, split_sizes_for(len(data)), SECONDS_PER_READ)
            rows.append(_row(case, path, args.corpus, kind, seed, outcome, corruption.detail))
    _print_table(rows, time.monotonic() - started, len(bams))
    if args.tsv:
        with open(args.tsv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["case"], delimiter="\t")
            writer.writeheader()
            writer.writerows(rows)
    return 1 if any(is_failure(row["outcome"]) for row in rows) else 0


def _load(path: Path):
    data = path.read_bytes()
    original = original_records(path)
    return None if original is None else (data, block_table(data), original)


def _row(case, path, corpus, kind, seed, outcome, detail) -> Dict[str, object]:
    return {"case": case, "file": str(path.relative_to(corpus)), "kind": kind, "seed": seed,
            "outcome": outcome, "detail": detail}


def _label(outcome: str) -> str:
    return UNTYPED if outcome.startswith(UNTYPED) else outcome


def _print_table(rows, seconds: float, n_bams: int) -> None:
    by_kind: Dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        by_kind[row["kind"]][_label(row["outcome"])] += 1
    labels = sorted({label for counts in by_kind.values() for label in counts})
    width = max([len(label) for label in labels] + [8])
    print(f"{len(rows)} cases over {n_bams} BAMs in {seconds:.0f} s")
    print(f"{'outcome':<{width}} " + " ".join(f"{kind[:10]:>10}" for kind in by_kind) + "      total")
    for label in labels:
        counts = [by_kind[kind][label] for kind in by_kind]
        print(f"{label:<{width}} " + " ".join(f"{count:>10}" for count in counts) + f" {sum(counts):>10}")
    failures = [row for row in rows if is_failure(row["outcome"])]
    print(f"\nfailures: {len(failures)}")
    for row in failures:
        print(f"  {row['file']} {row['kind']} seed {row['seed']} ({row['detail']}): {row['outcome']}")


if __name__ == "__main__":
    sys.exit(main())
