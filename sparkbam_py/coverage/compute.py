"""Planning a coverage job, and turning merged per-chunk partials into a store.

The same pieces serve two drivers: Spark (``sparkbam_py.spark.coverage``: tasks run as
``mapInArrow``, partials come back through files beside the store) and a local loop
(:func:`compute_coverage_local`), so both give the same store for the same inputs.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ..config import DEFAULT_SPLIT_SIZE
from ..errors import ConfigError
from ..bam.splits import SplitTask, cut_file, read_header_and_size
from .blocks import DepthFilter
from .partials import ChunkEvents, PartialDepth, chunk_length_for, concatenate_events, dense_depth
from .split_depth import CoverageJob, compute_split_depth
from .store_writer import StoreWriter
from .tracks import plan_tracks

MergedRow = Tuple[int, int, ChunkEvents]  # (store contig, chunk, events)


@dataclass(frozen=True)
class CoveragePlan:
    tasks: List[SplitTask]
    job: CoverageJob
    contigs: List[Tuple[str, int]]
    metadata: dict


def plan_coverage(paths: Sequence[str], *, groupings: Sequence[str] = (), depth_filter: DepthFilter = DepthFilter(),
                  split_size: Union[int, str, Callable[[int], int]] = DEFAULT_SPLIT_SIZE,
                  use_splitting_index: bool = True) -> CoveragePlan:
    """Read each BAM's header and plan its splits; contigs are the union of the files' by name.

    ``split_size``: bytes, or a function of the inputs' total bytes giving them (each header
    is still read once).
    """
    if not paths:
        raise ConfigError("no BAM to compute coverage of")
    opened = [(path, *read_header_and_size(path)) for path in paths]
    if callable(split_size):
        split_size = split_size(sum({path: size for path, _, size in opened}.values()))
    tasks, headers, contigs, numbering = [], {}, {}, {}
    for path, header, size in opened:
        tasks += cut_file(path, size, header, split_size, use_splitting_index)
        headers[path] = header.text
        numbering[path] = tuple(_contig_index(contigs, name, length, path)
                                for name, length in zip(header.reference_names, header.reference_lengths))
    layout = plan_tracks(headers, groupings)
    ordered = sorted(contigs.items(), key=lambda item: item[1][0])
    lengths = tuple(length for _, (_, length) in ordered)
    job = CoverageJob(depth_filter, layout, chunk_length_for(len(layout.names)), numbering, lengths)
    metadata = {"sources": list(paths), "filters": depth_filter.as_dict(), "groupings": layout.groupings(),
                "strands": {"+": "+", "-": "-"} if layout.by_strand else {}, "chunk_length": job.chunk_length}
    return CoveragePlan(tasks, job, [(name, length) for name, (_, length) in ordered], metadata)


def _contig_index(contigs: Dict[str, Tuple[int, int]], name: str, length: int, path: str) -> int:
    if name not in contigs:
        contigs[name] = (len(contigs), length)
    elif contigs[name][1] != length:
        raise ConfigError(f"contig {name} is {length} bp here but {contigs[name][1]} bp in an earlier file", path)
    return contigs[name][0]


def merge_sorted_rows(rows: Iterable[MergedRow]) -> Iterator[MergedRow]:
    """Rows sorted by (contig, chunk), with the partials of one chunk summed into one row."""
    for (contig, chunk), same in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
        yield contig, chunk, concatenate_events(events for _, _, events in same)


def write_store(out: str, plan: CoveragePlan, rows: Iterable[MergedRow], storage_options: Optional[dict] = None) -> dict:
    """Write the store at ``out`` from partial rows sorted by (contig, chunk); returns the manifest."""
    job = plan.job
    writer = StoreWriter(out, plan.contigs, job.layout.names, metadata=plan.metadata, storage_options=storage_options)
    for contig, same in itertools.groupby(merge_sorted_rows(rows), key=lambda row: row[0]):
        slabs = ((chunk * job.chunk_length, dense_depth(events, job.chunk_length, job.n_tracks))
                 for _, chunk, events in same)
        writer.write_contig(contig, slabs)
    # The manifest goes last: a store without one was not finished.
    return writer.close()


def compute_coverage_local(paths: Sequence[str], out: str, **options) -> dict:
    """Coverage of ``paths`` computed in this process, split by split; the store's manifest.

    ``options`` are :func:`plan_coverage`'s, plus ``storage_options`` for fsspec.
    """
    storage_options = options.pop("storage_options", None)
    plan = plan_coverage(paths, **options)
    total = PartialDepth(plan.job.chunk_length, plan.job.n_tracks)
    for task in plan.tasks:
        for key, events in compute_split_depth(task, plan.job).merged():
            total.add(key, events)
    rows = ((contig, chunk, events) for (contig, chunk), events in total.merged())
    return write_store(out, plan, rows, storage_options)
