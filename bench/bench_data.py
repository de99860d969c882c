"""Where the benchmark BAMs live: ``$SPARKBAM_BENCH_DATA``, by default ``./bench-data``, which is
where ``../shared/tools/bench-data/make_bench_bams.sh`` writes them (never committed)."""
import os
from pathlib import Path

BENCH_DATA = Path(os.environ.get("SPARKBAM_BENCH_DATA", "bench-data"))
SHORT_READS = BENCH_DATA / "sr.sorted.bam"
LONG_READS = BENCH_DATA / "lr.sorted.bam"
