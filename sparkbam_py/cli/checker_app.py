"""What check-bam, full-check and check-blocks share: options, block partitions, the truth,
running one task per partition on Spark, and spark-bam's ways of printing numbers.

The driver lists the BGZF blocks (``BAM.blocks`` or a header walk), keeps those whose start
lies in the ``-i`` ranges, groups them into partitions of ``--split-size`` compressed bytes,
and ships each partition with its slice of the true record starts; executors do the rest.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from ..bam.file import BamFile
from ..bgzf.blocks import BlockInfo, iter_block_info
from ..config import DEFAULT_MAX_READ_SIZE, DEFAULT_READS_TO_CHECK, CheckerConfig, parse_size
from ..errors import ConfigError, IndexFormatError
from ..validators.flags import show
from ..validators.indexed import record_positions
from ..validators.partitions import CHECKER_NAMES, PartitionTask, truth_slice
from .common import add_verify_checksums_argument

# spark-bam's check commands cut partitions of 2 MB of compressed blocks.
DEFAULT_CHECK_SPLIT_SIZE = "2m"
DEFAULT_PRINT_LIMIT = 1_000_000
BLOCKS_SUFFIX = ".blocks"


def add_arguments(parser, with_checkers: bool = True) -> None:
    parser.add_argument("bam", help="BAM path or URL")
    parser.add_argument("-i", "--ranges", help="only blocks starting in these compressed byte ranges: "
                        "start-end, start+length or a single offset, comma-separated (e.g. 0-2m,10m+1m)")
    parser.add_argument("-m", "--split-size", default=DEFAULT_CHECK_SPLIT_SIZE,
                        help="compressed bytes of blocks per Spark task (default 2m)")
    parser.add_argument("-b", "--blocks-path", help="block list (default BAM.blocks if present, else a header walk)")
    parser.add_argument("-r", "--records-path", help="true record starts (default BAM.records if present, "
                        "else computed by walking the records)")
    parser.add_argument("--reads-to-check", type=int, default=DEFAULT_READS_TO_CHECK,
                        help="records that must chain after a candidate (default 10)")
    parser.add_argument("--max-read-size", type=int, default=DEFAULT_MAX_READ_SIZE,
                        help="positions a search may try before giving up (default 100000000)")
    parser.add_argument("-l", "--print-limit", type=int, default=DEFAULT_PRINT_LIMIT,
                        help="at most this many positions listed per kind (default 1000000)")
    add_verify_checksums_argument(parser)
    if with_checkers:
        parser.add_argument("--checkers", default=",".join(CHECKER_NAMES),
                            help="checkers to compare with the truth (default eager,hadoop_bam)")


def checker_names(args) -> Tuple[str, ...]:
    names = tuple(name.strip() for name in args.checkers.split(",") if name.strip())
    unknown = [name for name in names if name not in CHECKER_NAMES]
    if unknown or not names:
        raise ConfigError(f"--checkers takes a comma-separated subset of {', '.join(CHECKER_NAMES)}, "
                          f"got {args.checkers!r}")
    return names


def parse_ranges(text: Optional[str]) -> Optional[List[Tuple[int, int]]]:
    """``start-end``, ``start+length`` or ``offset`` (one byte), with size suffixes."""
    if not text:
        return None
    ranges = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                start, end = part.split("-", 1)
                ranges.append((_size(start), _size(end)))
            elif "+" in part:
                start, length = part.split("+", 1)
                ranges.append((_size(start), _size(start) + _size(length)))
            else:
                ranges.append((_size(part), _size(part) + 1))
        except ConfigError:
            raise ConfigError(f"cannot read byte range {part!r} (try 0-2m, 10m+1m or 123)") from None
    return ranges


def _size(text: str) -> int:
    text = text.strip()
    return 0 if text == "0" else parse_size(text)


def load_blocks(bam: BamFile, blocks_path: Optional[str]) -> List[BlockInfo]:
    """The file's BGZF blocks (the EOF marker left out)."""
    path = Path(blocks_path) if blocks_path else Path(f"{bam.path}{BLOCKS_SUFFIX}")
    if blocks_path or (path.is_file() and "://" not in str(bam.path)):
        try:
            rows = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
        except ValueError as error:
            raise IndexFormatError(f"not a .blocks file (start,compressedSize,uncompressedSize): {error}",
                                   str(path)) from None
        return [BlockInfo(*map(int, row)) for row in rows]
    return list(iter_block_info(bam.channel))


def select_blocks(blocks: Sequence[BlockInfo], ranges) -> List[BlockInfo]:
    if ranges is None:
        return list(blocks)
    return [block for block in blocks if any(start <= block.start < end for start, end in ranges)]


def partition_blocks(blocks: Sequence[BlockInfo], split_size) -> List[List[BlockInfo]]:
    """Blocks grouped by which ``split_size`` stretch of the file their start falls in."""
    size = parse_size(split_size)
    groups: dict = {}
    for block in blocks:
        groups.setdefault(block.start // size, []).append(block)
    return [groups[key] for key in sorted(groups)]


def plan(args, bam: BamFile, checkers: Tuple[str, ...], previous_sizes: bool = False):
    """The driver's work: blocks, truth, and one task per partition."""
    blocks = load_blocks(bam, args.blocks_path)
    truth, _ = record_positions(bam, args.records_path)
    config = CheckerConfig(reads_to_check=args.reads_to_check, max_read_size=args.max_read_size,
                           verify_checksums=args.verify_checksums)
    sizes = {block.start + block.compressed_size: block.compressed_size for block in blocks}
    chosen = select_blocks(blocks, parse_ranges(args.ranges))
    tasks = []
    for group in partition_blocks(chosen, args.split_size):
        before = tuple(sizes.get(block.start, 1) for block in group) if previous_sizes else ()
        tasks.append(PartitionTask(str(bam.path), tuple(group), truth_slice(truth, group), config, checkers,
                                   args.print_limit, before))
    return blocks, truth, tasks


def run_tasks(app_name: str, function: Callable, tasks: Sequence) -> list:
    """One Spark task per element of ``tasks``; their results, in order."""
    if not tasks:
        return []
    from ..spark.session import get_spark

    spark = get_spark(app_name, master=os.environ.get("SPARKBAM_MASTER"))
    return spark.sparkContext.parallelize(list(tasks), len(tasks)).map(function).collect()


def format_bytes(count: int, suffix: str = "") -> str:
    """spark-bam's byte sizes: ``583K``, ``1.5M``, ``812B`` (binary units)."""
    value, unit = float(count), "B"
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            break
        value /= 1024
    if unit == "B":
        return f"{int(count)}B"
    text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    return f"{text}{unit}{suffix}"


def summary_lines(positions: int, compressed: int, reads: int) -> List[str]:
    """The first lines of check-bam and full-check."""
    ratio = positions / compressed if compressed else 0.0
    return [f"{positions} uncompressed positions", f"{format_bytes(compressed)} compressed",
            f"Compression ratio: {ratio:.2f}", f"{reads} reads"]


def position_line(entry: dict) -> str:
    """``\\t<pos>:\\t<N> bytes before <read> (...). Failing checks: <flags>``."""
    following = entry.get("next_read")
    if following is None:
        where = "no next read"
    else:
        kind = "mapped" if following["mapped"] else "unmapped"
        locus = f"at {following['contig']}:{following['start']}" if following["contig"] is not None else "unplaced"
        where = f"{following['bytes_before']} bytes before {following['name']} ({following['length']} {kind} read {locus})"
    checks = show(entry["flags"], entry["reads_before_error"]) if entry["flags"] else "none (the full checker accepts)"
    return f"\t{entry['pos']}:\t{where}. Failing checks: {checks}"
