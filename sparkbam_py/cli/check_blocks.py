"""``check-blocks BAM``: from each BGZF block's start, the first record each checker finds,
against the true first record: how many split offsets would start a split wrongly.

A split whose byte range starts inside block B's predecessor searches from B's start, so a
wrong answer at B misleads every offset of the previous block: mismatches are weighted by
the previous block's compressed size (1 for the first block), as spark-bam does.
"""
from __future__ import annotations

import statistics
from typing import List, Optional

from ..bam.file import open_bam
from ..formats import FORMATS
from ..validators.partitions import check_blocks_partition
from .checker_app import add_arguments, checker_names, format_bytes, plan, run_tasks
from .common import Command, Result


# BGZF formats: a record-start search (BAM's checkers) or a line-start search from each block.
CHECKED_FORMATS = tuple(known.name for known in FORMATS if known.unit in ("record", "line"))


class CheckBlocks(Command):
    name = "check-blocks"
    help = "compare each checker's first record start from every BGZF block with the truth"
    formats = CHECKED_FORMATS

    def configure(self, parser):
        add_arguments(parser)

    def run(self, args) -> Result:
        source_format = self.input_format(args.bam)
        if source_format.unit == "line":  # text: the line-start search from every block
            return text_check_result(args.bam, args.print_limit)
        names = checker_names(args)
        with open_bam(args.bam, args.verify_checksums) as bam:
            _, _, tasks = plan(args, bam, names, previous_sizes=True)
            file_size = bam.size
        parts = run_tasks("sparkbam check-blocks", check_blocks_partition, tasks)
        merged = merge_check_blocks(parts, names, args.print_limit)
        merged["file_size"] = file_size
        return Result(check_blocks_lines(merged, names), json_shape(merged, names))


def merge_check_blocks(parts: List[dict], names, limit: int) -> dict:
    merged = {"blocks": 0, "compressed": 0, "first_offsets": [],
              "checkers": {name: {"mismatched": 0, "bad_positions": 0, "mismatches": []} for name in names}}
    for part in parts:
        merged["blocks"] += part["blocks"]
        merged["compressed"] += part["compressed"]
        merged["first_offsets"] += part["first_offsets"]
        for name in names:
            mine, theirs = merged["checkers"][name], part["checkers"][name]
            mine["mismatched"] += theirs["mismatched"]
            mine["bad_positions"] += theirs["bad_positions"]
            mine["mismatches"] += theirs["mismatches"][: max(limit - len(mine["mismatches"]), 0)]
    return merged


def check_blocks_lines(merged: dict, names) -> List[str]:
    lines: List[str] = []
    for name in names:
        tally = merged["checkers"][name]
        if lines:
            lines.append("")
        if tally["mismatched"] == 0:
            lines.append(f"{name}: First read-position matched in {merged['blocks']} BGZF blocks totaling "
                         f"{format_bytes(merged['compressed'], 'B')} (compressed)")
            continue
        share = tally["bad_positions"] / merged["file_size"] if merged["file_size"] else 0.0
        lines += [f"{name}: First read-position mismatched in {tally['mismatched']} of {merged['blocks']} BGZF blocks",
                  "", f"{tally['bad_positions']} of {merged['file_size']} ({share}) compressed positions would lead "
                  "to bad splits", "", f"{tally['mismatched']} mismatched blocks:"]
        lines += [f"\t{start} (prev block size: {previous}):\t{_text(expected)}\t{_text(actual)}"
                  for start, previous, expected, actual in tally["mismatches"]]
    return lines + [""] + _offset_lines(merged["first_offsets"])


def _offset_lines(offsets: List[Optional[int]]) -> List[str]:
    """Where each block's first true record starts in it (None: none starts in it)."""
    present = [offset for offset in offsets if offset is not None]
    missing = len(offsets) - len(present)
    if present and all(offset == 0 for offset in present):
        if not missing:
            return ["All blocks start with reads"]
        return [f"{len(present)} blocks start with a read, {missing} blocks didn't contain a read"]
    lines = [f"Offsets of blocks' first reads ({missing} blocks didn't contain a read start):"]
    if present:
        mean = statistics.fmean(present)
        deviation = statistics.pstdev(present)
        lines += [f"N: {len(present)}, μ/σ: {mean:.0f}/{deviation:.0f}, med: {statistics.median(present):.0f}, "
                  f"min: {min(present)}, max: {max(present)}",
                  f"sorted: {' '.join(str(offset) for offset in sorted(present)[:50])}"
                  + (" …" if len(present) > 50 else "")]
    return lines


def _text(pos) -> str:
    return "-" if pos is None else str(pos)


def json_shape(merged: dict, names) -> dict:
    checkers = {}
    for name in names:
        tally = merged["checkers"][name]
        share = tally["bad_positions"] / merged["file_size"] if merged["file_size"] else 0.0
        checkers[name] = {
            "mismatched_blocks": tally["mismatched"], "bad_split_positions": tally["bad_positions"],
            "bad_split_fraction": share,
            "mismatches": [{"block": start, "prev_block_size": previous, "expected": expected, "actual": actual}
                           for start, previous, expected, actual in tally["mismatches"]],
        }
    offsets = merged["first_offsets"]
    return {"blocks": merged["blocks"], "compressed": merged["compressed"], "file_size": merged["file_size"],
            "blocks_without_read_start": sum(1 for offset in offsets if offset is None),
            "first_read_offsets": offsets, "checkers": checkers}


COMMAND = CheckBlocks()


def text_check_result(path: str, print_limit: int) -> Result:
    from ..text.checks import check_line_blocks

    found = check_line_blocks(path, print_limit)
    if found["mismatched"] == 0:
        lines = [f"lines: First line-position matched in {found['blocks']} BGZF blocks"]
    else:
        lines = [f"lines: {found['mismatched']} of {found['blocks']} BGZF blocks give a wrong first line:"]
        lines += [f"\t{block}: found {got}, expected {want}" for block, got, want in found["mismatches"]]
    return Result(lines, found, exit_code=1 if found["mismatched"] else 0)
