"""Sequential truths and the split reading they are compared with, without Spark.

``pysam_records`` is the independent oracle (htslib reads the file front to back, ``tell()``
before each record); ``walk_records`` is the project's own sequential walk, used where pysam
refuses a file.  ``split_records`` runs every task of a split plan in this process, exactly
as executors run them, and concatenates the results in range order.
"""
from __future__ import annotations

import warnings
from typing import List, NamedTuple, Optional

import numpy as np
import pysam

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.splits import SplitReader, plan_file


class Records(NamedTuple):
    positions: List[int]  # 64-bit virtual offsets, in file order
    names: List[Optional[str]]


def pysam_records(path) -> Optional[Records]:
    """What pysam reads, or None when pysam cannot read the whole file."""
    positions, names = [], []
    try:
        with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
            while True:
                here = bam.tell()
                try:
                    segment = next(bam)
                except StopIteration:
                    break
                positions.append(here)
                names.append(segment.query_name)
    except (OSError, ValueError, NotImplementedError):
        return None
    return Records(positions, names)


def _names(chunk, reference_names, path) -> List[str]:
    batch = decode_records(chunk.run.data, chunk.offsets, reference_names, ["query_name"], path=path)
    return batch.column("query_name").to_pylist()


def walk_records(path) -> Records:
    """The project's sequential walk from the header's end (raises on a damaged file)."""
    positions, names = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_bam(str(path)) as bam:
            for chunk in bam.iter_record_chunks():
                positions.extend(chunk.virtual_offsets().tolist())
                names.extend(_names(chunk, bam.header.reference_names, bam.path))
    return Records(positions, names)


def split_records(path, split_size, **task_options) -> Records:
    """Every split's records, split after split, read as the executors read them."""
    positions, names = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, tasks = plan_file(str(path), split_size, **task_options)
        for task in tasks:
            with SplitReader(task) as split:
                for chunk in split.iter_chunks():
                    positions.extend(chunk.virtual_offsets().tolist())
                    names.extend(_names(chunk, split.header.reference_names, task.path))
    return Records(positions, names)


def split_sizes_for(file_size: int, max_ranges: int = 150) -> List[int]:
    """Split sizes from a few hundred bytes to more than the file, keeping the number of
    ranges per size bounded so the suite stays fast."""
    sizes = [300, 1_000, 4_099, 65_536, file_size // 7 + 1, file_size // 2 + 1, file_size + 1]
    floor = -(-file_size // max_ranges)
    return sorted({max(size, floor, 1) for size in sizes})


def assert_same_records(got: Records, want: Records, what: str) -> None:
    """Equal positions and names, with the first difference named when they are not."""
    if got == want:
        return
    got_positions, want_positions = np.array(got.positions), np.array(want.positions)
    lost = sorted(set(want.positions) - set(got.positions))[:5]
    extra = sorted(set(got.positions) - set(want.positions))[:5]
    repeated = len(got.positions) - len(set(got.positions))
    detail = (f"{what}: {len(got_positions)} records vs {len(want_positions)}; "
              f"lost {lost}, invented {extra}, repeated {repeated}")
    if not lost and not extra and not repeated:
        first = next(i for i, (a, b) in enumerate(zip(got.names, want.names)) if a != b)
        detail += f"; names differ first at record {first}: {got.names[first]!r} vs {want.names[first]!r}"
    raise AssertionError(detail)
