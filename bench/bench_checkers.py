"""Checker speed: positions checked per second of CPU, on one core, over every position.

    python bench/bench_checkers.py [BAM ...] [--megabytes 64] [--repeats 3]

Reads the BAM's blocks in partitions like check-bam's (2 MB compressed, plus look-ahead),
then times each checker over every position of each partition: ``eager`` (record-start
calls), ``full`` (every check's flags and the chain), ``hadoop_bam`` (the baseline) and the
split search (``find_record_start`` from every block start). Inflating is not timed: the
figures are the checkers' own cost. CPU time (``process_time``), not wall time, so other
jobs on a shared machine disturb it less; the median of ``--repeats`` runs is printed.

Targets (issue 3), on a short-read BAM: eager >= 20 M positions/s, full >= 5 M/s.
Default BAM: $SPARKBAM_BENCH_DATA/sr.sorted.bam if present, else the largest short-read BAM of
the corpus beside the repository.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.blocks import iter_block_info
from sparkbam_py.validators.eager import EagerChecker
from sparkbam_py.validators.fields import RunView
from sparkbam_py.validators.full import FullChecker
from sparkbam_py.validators.hadoop_bam import HadoopBamChecker
from sparkbam_py.validators.records import References
from sparkbam_py.validators.scan import read_stretch
from sparkbam_py.validators.search import find_record_start
from bench_data import SHORT_READS

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BAMS = (SHORT_READS,
                REPO.parent / "shared" / "corpus" / "hammerlab__guacamole" / "src__test__resources__gatk_mini_bundle_extract.bam")
PARTITION_BYTES = 2 << 20


def partitions(path: str, megabytes: int):
    """Stretches of ~2 MB of compressed blocks from the file's start, ``megabytes`` of
    inflated data in all."""
    with open_bam(path) as bam:
        blocks = [block for block in iter_block_info(bam.channel) if block.uncompressed_size]
        groups: dict = {}
        for block in blocks:
            groups.setdefault(block.start // PARTITION_BYTES, []).append(block)
        stretches, inflated = [], 0
        for group in groups.values():
            stretch = read_stretch(bam.reader, group)
            stretches.append(stretch)
            inflated += stretch.end
            if inflated >= megabytes << 20:
                break
        return bam.header, bam.size, stretches


def time_over(stretches, call: Callable) -> float:
    started = time.process_time()
    for stretch in stretches:
        call(RunView(stretch.run), stretch.end)
    return time.process_time() - started


def bench_file(path: str, megabytes: int, repeats: int) -> List[str]:
    header, size, stretches = partitions(path, megabytes)
    refs = References.of(header)
    positions = sum(stretch.end for stretch in stretches)
    checkers = {
        "eager": lambda view, end: EagerChecker(refs).calls_range(view, 0, end),
        "full": lambda view, end: FullChecker(refs).results_range(view, 0, end),
        "hadoop_bam": lambda view, end: HadoopBamChecker(header.n_ref, size).calls_range(view, 0, end),
    }
    lines = [f"{path}: {positions} positions in {len(stretches)} partitions"]
    for name, call in checkers.items():
        seconds = statistics.median(time_over(stretches, call) for _ in range(repeats))
        lines.append(f"\t{name}:\t{positions / seconds / 1e6:.1f} M positions/s ({seconds:.2f} s CPU)")
    lines.append(_search_line(path, stretches, repeats))
    return lines


def _search_line(path: str, stretches, repeats: int) -> str:
    starts = [block.start for stretch in stretches for block in stretch.blocks]
    with open_bam(path) as bam:
        def search_all() -> float:
            started = time.process_time()
            for start in starts:
                find_record_start(bam.reader, start, bam.header)
            return time.process_time() - started

        seconds = statistics.median(search_all() for _ in range(repeats))
    return f"\tfind_record_start:\t{1e3 * seconds / len(starts):.2f} ms CPU per block start ({len(starts)} starts)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bams", nargs="*", help="BAMs to measure (default: see the module doc)")
    parser.add_argument("--megabytes", type=int, default=64, help="inflated megabytes checked per BAM")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    bams = args.bams or [str(next((p for p in DEFAULT_BAMS if p.is_file()), DEFAULT_BAMS[-1]))]
    for path in bams:
        for line in bench_file(path, args.megabytes, args.repeats):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
