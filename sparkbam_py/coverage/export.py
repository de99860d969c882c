"""A store's track as bedGraph or bigWig (what IGV, igv.js and UCSC read).

Both list runs of equal value; runs of 0 (no coverage) are left out, as readers take a
missing base for no data.  Runs are found slab by slab with numpy, so memory stays bounded.
"""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .store import CoverageStore

SLAB_BASES = 1 << 22
Runs = Tuple[np.ndarray, np.ndarray, np.ndarray]  # starts, ends, values


def iter_runs(store: CoverageStore, contig: str, track: int, slab: int = SLAB_BASES) -> Iterator[Runs]:
    """Runs of equal non-zero value of one track of one contig, merged across slabs, in order."""
    length = store.length(contig)
    pending: Optional[Runs] = None
    for lo in range(0, length, slab):
        hi = min(length, lo + slab)
        values = store.values(contig, lo, hi, [track])[:, 0]
        change = np.flatnonzero(values[1:] != values[:-1]) + 1
        starts = np.concatenate([[0], change]) + lo
        ends = np.concatenate([change, [hi - lo]]) + lo
        run_values = values[starts - lo]
        if pending is not None and pending[1][-1] == starts[0] and pending[2][-1] == run_values[0]:
            starts[0] = pending[0][-1]  # the previous slab's last run continues here
            pending = tuple(part[:-1] for part in pending)
        if pending is not None:
            yield _non_zero(pending)
        pending = (starts, ends, run_values)
    if pending is not None:
        yield _non_zero(pending)


def _non_zero(runs: Runs) -> Runs:
    keep = runs[2] != 0
    return runs[0][keep], runs[1][keep], runs[2][keep]


def export_bedgraph(store: CoverageStore, track, out: str, storage_options: Optional[dict] = None) -> int:
    """Write ``track`` (name or index) as bedGraph (0-based, half-open; tab-separated) to ``out``."""
    column = store.track_indexes([track])[0]
    options = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    lines = 0
    with fsspec.open(out, "wb", **(storage_options or {})) as handle:
        for contig in store.contigs:
            for starts, ends, values in iter_runs(store, contig["name"], column):
                if not len(starts):
                    continue
                table = pa.table({"chrom": pa.array([contig["name"]] * len(starts)),
                                  "start": starts, "end": ends, "value": values})
                pacsv.write_csv(table, handle, options)
                lines += len(starts)
    return lines


def export_bigwig(store: CoverageStore, track, out: str) -> int:
    """Write ``track`` as a bigWig file at the local path ``out`` (pyBigWig); returns the runs written."""
    import pyBigWig

    column = store.track_indexes([track])[0]
    written = 0
    bigwig = pyBigWig.open(str(out), "w")
    try:
        bigwig.addHeader([(contig["name"], contig["length"]) for contig in store.contigs if contig["length"] > 0])
        for contig in store.contigs:
            for starts, ends, values in iter_runs(store, contig["name"], column):
                if len(starts):
                    bigwig.addEntries([contig["name"]] * len(starts), starts.astype(np.int64).tolist(),
                                      ends=ends.astype(np.int64).tolist(), values=values.astype(np.float64).tolist())
                    written += len(starts)
    finally:
        bigwig.close()
    return written
