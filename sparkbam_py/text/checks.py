"""Checks and summaries of bgzipped text splitting, for the commands: every block's first
line by the executor-side search against a sequential walk, and the splits of a file."""
from __future__ import annotations

from typing import Dict, List, Optional

from ..bgzf.reader import BgzfReader
from ..channel import open_channel
from ..config import DEFAULT_BGZF_BLOCKS_TO_CHECK
from ..pos import Pos
from ..split.bgzf_positions import physical_pos
from ..split.ranges import Split, splits_from_starts
from .lines import LineReader, find_line_start
from .plan import plan_text_file


def check_line_blocks(path: str, print_limit: int = 1000) -> Dict[str, object]:
    """From every BGZF block's start, the first line start the search finds, against the
    truth from one sequential walk (the first line whose first byte is in that block or a
    later one).  ``mismatches`` lists ``(block, found, expected)`` up to ``print_limit``."""
    with open_channel(path) as channel:
        reader = BgzfReader(channel)
        blocks, starts_by_block = _true_first_lines(reader)
        mismatched, mismatches = 0, []
        for block in blocks:
            found = find_line_start(reader, block, None, DEFAULT_BGZF_BLOCKS_TO_CHECK)
            found_place = None if found is None else physical_pos(reader, found)
            expected = starts_by_block.get(block)
            if found_place != expected:
                mismatched += 1
                if len(mismatches) < print_limit:
                    mismatches.append((block, None if found is None else str(found),
                                       None if expected is None else str(expected)))
    return {"path": path, "blocks": len(blocks), "mismatched": mismatched, "mismatches": mismatches}


def _true_first_lines(reader: BgzfReader):
    """Every block start, and for each the physical position of the first line starting
    in it or after it (None past the last line)."""
    blocks: List[int] = []
    line_starts: List[Pos] = []
    at_line_start = True
    for block in reader.iter_blocks(0):
        blocks.append(block.start)
        data = block.data
        if data and at_line_start:
            line_starts.append(Pos(block.start, 0))
        index = data.find(b"\n")
        while 0 <= index < len(data) - 1:
            line_starts.append(Pos(block.start, index + 1))
            index = data.find(b"\n", index + 1)
        if data:
            at_line_start = data.endswith(b"\n")
    truth: Dict[int, Optional[Pos]] = {}
    k = 0
    for block in blocks:
        while k < len(line_starts) and line_starts[k].block_pos < block:
            k += 1
        truth[block] = line_starts[k] if k < len(line_starts) else None
    return blocks, truth


def compute_line_splits(path: str, split_size) -> List[Split]:
    """The splits the executors would read (each range's first line, found as they find it)."""
    tasks = plan_text_file(path, split_size)
    starts = []
    for task in tasks:
        with LineReader(task) as reader:
            starts.append(reader.start)
    return splits_from_starts(starts, tasks[0].file_size if tasks else 0)
