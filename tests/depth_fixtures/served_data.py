"""A generated BAM (indexed, with ``.bai.json``), its coverage store, and a bigWig beside it."""
from __future__ import annotations

from pathlib import Path

from sparkbam_py.coverage.compute import compute_coverage_local
from sparkbam_py.index.bai_json import write_bai_json

from .data import write_coverage_bam


def build_served_data(directory: Path, n: int = 3000):
    """``(bam path, store path)``: strand and read-group tracks, small splits and chunks, ``all.bw``
    in the store."""
    bam = write_coverage_bam(directory, "served", n=n, seed=23)
    write_bai_json(str(bam) + ".bai")
    store = directory / "store"
    compute_coverage_local([str(bam)], str(store), split_size=20_000, groupings=("strand", "read_group"),
                           chunk_length=4096)  # several chunks per contig, as on a genome
    try:
        from sparkbam_py.coverage.export import export_bigwig
        from sparkbam_py.coverage.store import CoverageStore

        export_bigwig(CoverageStore(store), "all", str(store / "all.bw"))  # served beside the store
    except ImportError:  # pybigtools absent: the store is still served
        pass
    return bam, store
