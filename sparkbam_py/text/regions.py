"""Region loads of bgzipped text through its tabix index, balanced by bytes.

The driver turns region strings (``"chr1:1-1000,chr2"``, 1-based inclusive as typed) into
index chunks (htslib's bins and linear index, :mod:`sparkbam_py.index.chunks`), merges the
chunks of all regions so that no byte is read twice, cuts chunks longer than the split size
at compressed offsets (each piece finds its first line and verifies its neighbour as any
range does), and groups pieces into partitions of about the split size.  The executor keeps
the lines that overlap the merged intervals (:mod:`.overlap`), so a record overlapping
several regions comes out once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..channel import open_channel
from ..config import DEFAULT_SPLIT_SIZE, parse_size
from ..errors import ConfigError
from ..index.bins import max_reference_length
from ..index.chunks import Chunk, chunks_for_region, merge_chunks
from ..index.regions import parse_regions
from ..index.tabix import TabixConfig, TabixIndex, find_tabix_path, read_tabix
from ..intervals.filters import split_intervals
from ..split.ranges import ByteRange, Split
from .chunk import LineChunk
from .lines import LineReader, LineTask
from .overlap import IntervalSet, line_intervals

RegionsLike = Union[str, Sequence[str]]


@dataclass(frozen=True)
class RegionPartition:
    """Pieces of index chunks of one file, and the intervals (by name) its lines must meet."""

    path: str
    tasks: Tuple[LineTask, ...]
    intervals: Tuple[Tuple[str, int, int], ...]
    config: TabixConfig

    @property
    def compressed_bytes(self) -> int:
        return sum(task.range.end - task.range.start for task in self.tasks)


def open_tabix(path: str, index_path: Optional[str] = None) -> TabixIndex:
    """The tabix index of ``path`` (``.tbi``, then ``.csi``, beside it unless given)."""
    index_path = index_path or find_tabix_path(path)
    if index_path is None:
        raise ConfigError(f"{path} has no tabix index (.tbi or .csi) beside it: create one with "
                          "`tabix -p vcf|bed|gff FILE` to read regions")
    return read_tabix(index_path)


def resolve_text_regions(regions: RegionsLike, tabix: TabixIndex) -> List[Tuple[int, str, int, int]]:
    """``(ref_id, name, beg, end)`` (0-based half-open) of each region string; ConfigError
    for a sequence the index does not name (as pysam's ``fetch`` refuses it)."""
    texts = split_intervals(regions) if isinstance(regions, str) else list(regions)
    longest = max_reference_length(tabix.index.min_shift, tabix.index.depth)
    parsed = parse_regions(texts, tabix.names, [longest] * len(tabix.names))
    if any(region.ref_id < 0 for region in parsed):
        raise ConfigError("'*' (unplaced reads) is a BAM region; text files have none")
    return [(region.ref_id, region.name, region.beg, region.end) for region in parsed]


def plan_region_partitions(path: str, regions: RegionsLike, split_size=DEFAULT_SPLIT_SIZE,
                           index_path: Optional[str] = None, verify: bool = True) -> List[RegionPartition]:
    """Partitions of about ``split_size`` compressed bytes holding every line of ``path``
    that overlaps ``regions``, each once."""
    tabix = open_tabix(path, index_path)
    resolved = resolve_text_regions(regions, tabix)
    with open_channel(path) as channel:
        size = channel.size
    chunks = merge_chunks(chunk for ref_id, _, beg, end in resolved
                          for chunk in chunks_for_region(tabix.index, ref_id, beg, end))
    cap = parse_size(split_size)
    tasks = [task for chunk in chunks for task in _pieces(path, size, chunk, cap, verify)]
    intervals = tuple((name, beg, end) for _, name, beg, end in resolved)
    return [RegionPartition(path, tuple(group), intervals, tabix.config) for group in _grouped(tasks, cap)]


def _pieces(path: str, size: int, chunk: Chunk, cap: int, verify: bool) -> List[LineTask]:
    """The chunk cut at every ``cap`` compressed bytes; the last piece ends with the chunk
    (the index says where), so only the cuts inside it are verified."""
    last = min(chunk.end.block_pos + 1, size)
    cuts = list(range(chunk.start.block_pos, last, cap)) + [last]
    bounds = Split(chunk.start, chunk.end)
    return [LineTask(path, size, ByteRange(lo, hi), verify=verify and k < len(cuts) - 2, bounds=bounds)
            for k, (lo, hi) in enumerate(zip(cuts, cuts[1:]))]


def _grouped(tasks: List[LineTask], cap: int) -> List[List[LineTask]]:
    """Consecutive pieces gathered while their bytes stay within ``cap`` (many small chunks
    share a partition; a long one is already cut)."""
    groups: List[List[LineTask]] = []
    load = cap
    for task in tasks:
        span = task.range.end - task.range.start
        if load + span > cap:
            groups.append([])
            load = 0
        groups[-1].append(task)
        load += span
    return groups


def iter_region_lines(partition: RegionPartition) -> Iterator[Tuple[LineChunk, pa.Array]]:
    """The partition's lines overlapping its intervals: each chunk with its lines as Arrow."""
    wanted = IntervalSet(partition.intervals)
    meta = partition.config.meta
    for task in partition.tasks:
        with LineReader(task) as reader:
            for chunk in reader.iter_chunks():
                lines = chunk.to_arrow()
                names, begins, ends, parsed = line_intervals(lines, partition.config)
                keep = parsed & wanted.overlapping(names, begins, ends)
                keep &= ~pc.starts_with(lines, meta).to_numpy(zero_copy_only=False)
                if keep.any():
                    yield chunk.select(keep), lines.filter(pa.array(keep))


def count_region_lines(partitions: Sequence[RegionPartition]) -> int:
    return int(np.sum([len(lines) for partition in partitions for _, lines in iter_region_lines(partition)]))
