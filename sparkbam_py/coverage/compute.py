"""Planning a coverage job, and running it in this process.

The same pieces serve two drivers: Spark (``sparkbam_py.spark.coverage``: the stages of
:mod:`.stages` run as ``mapInArrow`` tasks) and a local loop (:func:`compute_coverage_local`),
so both give the same store for the same inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..config import DEFAULT_SPLIT_SIZE
from ..errors import ConfigError
from ..bam.splits import SplitTask, cut_file, read_header_and_size
from .blocks import DepthFilter
from .partials import MIN_CHUNK_LENGTH, MAX_CHUNK_LENGTH, chunk_length_for
from .split_depth import CoverageJob
from .stages import merge_rows, split_off_shared, split_rows
from .store_commit import commit_store, prepare_store
from .tracks import plan_tracks


@dataclass(frozen=True)
class CoveragePlan:
    tasks: List[SplitTask]
    job: CoverageJob
    contigs: List[Tuple[str, int]]
    metadata: dict


def plan_coverage(paths: Sequence[str], *, groupings: Sequence[str] = (), depth_filter: DepthFilter = DepthFilter(),
                  split_size: Union[int, str, Callable[[int], int]] = DEFAULT_SPLIT_SIZE,
                  use_splitting_index: bool = True, chunk_length: Optional[int] = None) -> CoveragePlan:
    """Read each BAM's header and plan its splits; contigs are the union of the files' by name.

    ``split_size``: bytes, or a function of the inputs' total bytes giving them (each header
    is still read once).  ``chunk_length``: bases per stored chunk, a power of two (default:
    :func:`~.partials.chunk_length_for` the tracks).
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
    job = CoverageJob(depth_filter, layout, _chunk_length(chunk_length, len(layout.names)), numbering, lengths)
    metadata = {"sources": list(paths), "filters": depth_filter.as_dict(), "groupings": layout.groupings(),
                "strands": {"+": "+", "-": "-"} if layout.by_strand else {}, "chunk_length": job.chunk_length}
    return CoveragePlan(tasks, job, [(name, length) for name, (_, length) in ordered], metadata)


def _contig_index(contigs: Dict[str, Tuple[int, int]], name: str, length: int, path: str) -> int:
    if name not in contigs:
        contigs[name] = (len(contigs), length)
    elif contigs[name][1] != length:
        raise ConfigError(f"contig {name} is {length} bp here but {contigs[name][1]} bp in an earlier file", path)
    return contigs[name][0]


def _chunk_length(asked: Optional[int], n_tracks: int) -> int:
    if asked is None:
        return chunk_length_for(n_tracks)
    if not (MIN_CHUNK_LENGTH <= asked <= MAX_CHUNK_LENGTH and asked & (asked - 1) == 0):
        raise ConfigError(f"chunk_length must be a power of two in {MIN_CHUNK_LENGTH}..{MAX_CHUNK_LENGTH}, got {asked}")
    return asked


def commit_plan(out: str, plan: CoveragePlan, rows, storage_options: Optional[dict] = None) -> dict:
    """Commit the store of ``plan`` from the final index rows; returns its manifest."""
    job = plan.job
    return commit_store(out, plan.contigs, job.layout.names, job.chunk_length, rows, plan.metadata, storage_options)


def compute_coverage_local(paths: Sequence[str], out: str, **options) -> dict:
    """Coverage of ``paths`` computed in this process, split by split; the store's manifest.

    ``options`` are :func:`plan_coverage`'s, plus ``storage_options`` for fsspec.
    """
    storage_options = options.pop("storage_options", None)
    plan = plan_coverage(paths, **options)
    prepare_store(out, storage_options)
    rows = [split_rows(task, plan.job, out, storage_options) for task in plan.tasks]
    whole, shared = split_off_shared(rows, plan.job)
    if shared:
        whole.append(merge_rows(shared, plan.job, out, storage_options))
    return commit_plan(out, plan, whole, storage_options)
