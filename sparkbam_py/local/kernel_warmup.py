"""Compile every compiled kernel into the cache now, before an image or an archive is packed.

A job compiles the kernels it uses the first time it meets them (seconds of CPU per kernel)
and caches the machine code (:mod:`sparkbam_py.kernel_cache`).  ``sparkbam compile-kernels`` runs the
library's own read paths on small generated inputs with the compiled kernels forced on, so
the cache holds them before the environment is shipped: a BAM (walk, count, every decoded
column), bgzipped text (line split, lines to Arrow) and a CRAM (htslib's records through the
BAM decoder).  Signatures met only elsewhere are still compiled, and cached, on first use.
"""
from __future__ import annotations

import os
import random
import tempfile
from contextlib import contextmanager
from typing import Dict, Iterator, List

from ..kernels import KERNELS_ENV

READS = 3000
BASES = "ACGT"


@contextmanager
def compiled_kernels_forced() -> Iterator[None]:
    previous = os.environ.get(KERNELS_ENV)
    os.environ[KERNELS_ENV] = "numba"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[KERNELS_ENV]
        else:
            os.environ[KERNELS_ENV] = previous


def compile_all() -> Dict[str, int]:
    """Run every compiled path once on generated inputs; rows each path read."""
    import pysam  # noqa: PLC0415

    from ..text.plan import count_task_lines, iter_task_chunks, plan_text_file  # noqa: PLC0415
    from .reader import read_table  # noqa: PLC0415

    read: Dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="sparkbam-kernels-") as folder, compiled_kernels_forced():
        reference, bam = _write_reference(folder), os.path.join(folder, "reads.bam")
        _write_bam(pysam, reference, bam)
        read["bam"] = read_table(bam).num_rows
        read["bam_count"] = sum(bam_split_counts(bam))
        text = os.path.join(folder, "lines.txt")
        with open(text, "w") as handle:
            handle.writelines(f"line {k}\tvalue {k * 7}\r\n" if k % 5 == 0 else f"line {k}\n" for k in range(20000))
        pysam.tabix_compress(text, text + ".gz", force=True)
        tasks = plan_text_file(text + ".gz", 1 << 16)
        read["text_lines"] = sum(count_task_lines(task) for task in tasks)
        read["text_arrow"] = sum(len(chunk.to_arrow()) for task in tasks for chunk in iter_task_chunks(task))
        cram = os.path.join(folder, "reads.cram")
        pysam.view("-C", "-T", reference, "-o", cram, bam, catch_stdout=False)
        read["cram"] = read_table(cram, reference=reference).num_rows
    return read


def bam_split_counts(bam: str) -> List[int]:
    """Records per split through the count's walk (reused buffers, the count chunk size)."""
    from ..bam.splits import SplitReader, plan_file  # noqa: PLC0415

    counts = []
    for task in plan_file(bam, 1 << 16)[1]:
        with SplitReader(task) as reader:
            counts.append(reader.count())
    return counts


def _write_reference(folder: str) -> str:
    path = os.path.join(folder, "ref.fa")
    rng = random.Random(1)
    with open(path, "w") as handle:
        handle.write(">chr1\n" + "".join(rng.choice(BASES) for _ in range(200_000)) + "\n")
    return path


def _write_bam(pysam, reference: str, path: str) -> None:
    """Pairs with every tag type, soft clips, deletions and unmapped mates; one CIGAR of
    70,000 operations (stored as a CG tag)."""
    rng = random.Random(2)
    with open(reference) as handle:
        sequence = handle.read().split("\n", 1)[1].replace("\n", "")
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr1", "LN": len(sequence)}],
              "RG": [{"ID": "g1"}]}
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for k in range(READS):
            start = 100 + k * 50
            read = pysam.AlignedSegment(out.header)
            read.query_name, read.reference_id, read.reference_start = f"r{k}", 0, start
            read.flag, read.mapping_quality = (0 if k % 7 else 4 | 8) | (16 if k % 3 else 0), 60
            if k == READS // 2:
                read.cigarstring = "1M1I" * 35_000 + "10M"  # 70,001 operations
            else:
                read.cigarstring = "5S90M2D5M" if k % 4 else "100M"
            length = read.infer_query_length()
            read.query_sequence = "".join(rng.choice(BASES) for _ in range(length))
            read.query_qualities = pysam.qualitystring_to_array("".join(rng.choice("#+5?I") for _ in range(length)))
            read.set_tags([("NM", k % 5, "i"), ("RG", "g1", "Z"), ("XF", 0.5 * k, "f"), ("XA", "A", "A"),
                           ("XB", [1, 2, k], "I"), ("XC", [-1, 2], "c"), ("XH", "0AFF", "H")])
            out.write(read)
