"""Correctness harness: check-bam (eager and hadoop_bam) over every BAM under a folder.

    python bench/correctness.py DIR [--tsv OUT] [--split-size 2m]
    python bench/correctness.py DIR --vetoes     # weigh every check as an eager veto

One Spark session; one task per BAM (the task walks the BAM for the truth, then checks
every position of every block, a partition of blocks at a time). Writes one TSV row per
BAM: ``file, positions, reads, eager_fp, eager_fn, hadoop_bam_fp, hadoop_bam_fn, seconds,
error`` (``error`` says why a file could not be checked: corrupt, truncated, not BAM).
Exits 1 if eager made any false call (or a file met an untyped error: a bug), 0 otherwise.

``--vetoes`` instead measures, with the full checker, what each check would cost as a veto
(true records failing it) and what each veto set gets wrong (validators/vetoes.py): the
figures behind the eager veto set (validators/README.md).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import warnings
from pathlib import Path
from typing import List, Optional

COLUMNS = ("file", "positions", "reads", "eager_fp", "eager_fn", "hadoop_bam_fp", "hadoop_bam_fn", "seconds", "error")
MANIFEST = "MANIFEST.tsv"
# Marks an error that is not a typed library error about the file: a bug; fails the run.
BUG = "BUG"
# Examples of each false call kept per file in the printed summary.
EXAMPLES = 5


def check_file(job) -> dict:
    """Executor side: one BAM, everything checked, never raises for a bad file."""
    path, relative, split_size = job
    from sparkbam_py.bam.file import open_bam
    from sparkbam_py.bgzf.blocks import iter_block_info
    from sparkbam_py.errors import SparkBamError
    from sparkbam_py.validators.indexed import walk_record_positions

    started = time.perf_counter()
    row = {"file": relative, "error": ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a missing EOF marker is reported by the walk's end
            with open_bam(path) as bam:
                truth = walk_record_positions(bam)
                blocks = [block for block in iter_block_info(bam.channel) if block.uncompressed_size]
            _check_blocks(path, truth, blocks, split_size, row)
    except SparkBamError as error:
        row["error"] = f"{type(error).__name__}: {error.detail}"
    except Exception as error:  # noqa: BLE001 - a bug, not a bad file: reported and fails the run
        row["error"] = f"{BUG} {type(error).__name__}: {error}"
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


def _check_blocks(path: str, truth, blocks, split_size: int, row: dict) -> None:
    """check-bam's partition task over the file's blocks, ``split_size`` bytes at a time."""
    from sparkbam_py.validators.partitions import PartitionTask, check_bam_partition, truth_slice

    groups: dict = {}
    for block in blocks:
        groups.setdefault(block.start // split_size, []).append(block)
    row.update(positions=0, reads=0)
    tallies = {name: {"fp": 0, "fn": 0, "examples": []} for name in ("eager", "hadoop_bam")}
    for group in groups.values():
        part = check_bam_partition(PartitionTask(path, tuple(group), truth_slice(truth, group), print_limit=EXAMPLES))
        row["positions"] += part["positions"]
        row["reads"] += part["reads"]
        for name, tally in tallies.items():
            mine = part["checkers"][name]
            tally["fp"] += mine["fp"]
            tally["fn"] += mine["fn"]
            tally["examples"] += [("FP", e["pos"]) for e in mine["false_positives"]]
            tally["examples"] += [("FN", e["pos"]) for e in mine["false_negatives"]]
    for name, tally in tallies.items():
        row[f"{name}_fp"], row[f"{name}_fn"] = tally["fp"], tally["fn"]
        row[f"{name}_examples"] = tally["examples"][:EXAMPLES]


def measure_vetoes(job) -> dict:
    """Executor side of ``--vetoes``: one BAM, every candidate veto set."""
    path, relative = job
    from sparkbam_py.errors import SparkBamError
    from sparkbam_py.validators.vetoes import candidate_sets, measure_file

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = measure_file(path, candidate_sets())
    except SparkBamError as error:
        return {"file": relative, "error": f"{type(error).__name__}: {error.detail}"}
    result["file"] = relative
    return result


def report_vetoes(rows: List[dict]) -> int:
    from sparkbam_py.validators.flags import FLAG_NAMES

    measured = [row for row in rows if "error" not in row]
    positions = sum(row["positions"] for row in measured)
    records = sum(row["records"] for row in measured)
    print(f"{len(measured)} BAMs, {positions} positions, {records} records "
          f"({len(rows) - len(measured)} not walkable)")
    print("\nTrue records failing each check (what vetoing it alone loses):")
    for name in FLAG_NAMES:
        hits = [(row["file"], row["record_failures"][name]) for row in measured if row["record_failures"][name]]
        if hits:
            print(f"\t{name}:\t{sum(n for _, n in hits)} records in {len(hits)} files, e.g. {hits[0][0]}")
    print("\nVeto set: false positives, false negatives (files), e.g.:")
    for label in measured[0]["sets"] if measured else []:
        fp = sum(row["sets"][label][0] for row in measured)
        fn = sum(row["sets"][label][1] for row in measured)
        files = [row["file"] for row in measured if row["sets"][label][0] or row["sets"][label][1]]
        example = next((f"{row['file']} {row['sets'][label][2][0]}" for row in measured if row["sets"][label][2]), "")
        print(f"\t{label}:\t{fp} FP, {fn} FN ({len(files)} files)\t{example}")
    return 0


def find_bams(directory: Path) -> List[Path]:
    """The files a ``MANIFEST.tsv`` lists (first column; a corpus names BAMs however their
    projects did: ``.sam``, ``.bam.header``), else every ``*.bam`` under ``directory``."""
    manifest = directory / MANIFEST
    if manifest.is_file():
        with open(manifest, encoding="utf-8") as handle:
            rows = list(csv.reader(handle, delimiter="\t"))
        return sorted(directory / row[0] for row in rows[1:] if row and (directory / row[0]).is_file())
    return sorted(path for path in directory.rglob("*.bam") if path.is_file())


def run(directory: Path, tsv: Optional[Path], split_size: int, vetoes: bool = False) -> int:
    from sparkbam_py.spark.session import get_spark

    bams = find_bams(directory)
    if not bams:
        print(f"no .bam files under {directory}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    spark = get_spark("sparkbam correctness", master=os.environ.get("SPARKBAM_MASTER"))
    jobs = [(str(path), str(path.relative_to(directory)), split_size) for path in bams]
    # Biggest files first, so the last tasks to finish are small ones.
    jobs.sort(key=lambda job: -Path(job[0]).stat().st_size)
    if vetoes:
        jobs = [job[:2] for job in jobs]
        rows = spark.sparkContext.parallelize(jobs, len(jobs)).map(measure_vetoes).collect()
        return report_vetoes(sorted(rows, key=lambda row: row["file"]))
    rows = spark.sparkContext.parallelize(jobs, len(jobs)).map(check_file).collect()
    rows.sort(key=lambda row: row["file"])
    if tsv is not None:
        write_tsv(rows, tsv)
    return report(rows, time.perf_counter() - started)


def write_tsv(rows: List[dict], out: Path) -> None:
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row.get(column, "") for column in COLUMNS])


def report(rows: List[dict], seconds: float) -> int:
    checked = [row for row in rows if not row["error"]]
    failed = [row for row in rows if row["error"]]
    positions = sum(row["positions"] for row in checked)
    reads = sum(row["reads"] for row in checked)
    print(f"{len(rows)} BAMs: {len(checked)} checked ({positions} positions, {reads} reads), "
          f"{len(failed)} not checkable, in {seconds:.1f} s")
    for name in ("eager", "hadoop_bam"):
        fp = sum(row[f"{name}_fp"] for row in checked)
        fn = sum(row[f"{name}_fn"] for row in checked)
        files = sum(1 for row in checked if row[f"{name}_fp"] or row[f"{name}_fn"])
        print(f"{name}: {fp} false positives, {fn} false negatives, in {files} files")
    for row in failed:
        print(f"  not checkable: {row['file']}: {row['error']}")
    wrong = [row for row in checked if row["eager_fp"] or row["eager_fn"]]
    for row in wrong:
        print(f"  EAGER WRONG: {row['file']}: {row['eager_fp']} FP, {row['eager_fn']} FN, "
              f"e.g. {row['eager_examples']}")
    bugs = [row for row in failed if row["error"].startswith(BUG)]
    return 1 if wrong or bugs else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="folder searched recursively for *.bam")
    parser.add_argument("--tsv", type=Path, help="write one row per BAM here")
    parser.add_argument("--split-size", default="2m", help="compressed bytes of blocks checked at a time")
    parser.add_argument("--vetoes", action="store_true", help="weigh every check as an eager veto instead")
    args = parser.parse_args(argv)
    from sparkbam_py.config import parse_size

    return run(args.directory, args.tsv, parse_size(args.split_size), args.vetoes)


if __name__ == "__main__":
    sys.exit(main())
