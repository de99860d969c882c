"""Write a human-sized, coordinate-sorted BAM and its ``.bai`` for benches; deterministic.

    python bench/make_human_bam.py OUT.bam --preset 30x      # 30x over chr20-22: ~33 M records
    python bench/make_human_bam.py OUT.bam --preset sparse   # 300,000 reads over the whole genome
    python bench/make_human_bam.py OUT.bam --depth 2 --contigs chr21,chr22 --extra-contigs 500 --seed 3

The header is GRCh38's reference dictionary: the 25 primary sequences with their real
lengths, then analysis-set-like short contigs (``bench/grch38.py``, 3,341 by default), and
two read groups of one sample.  Reads are paired 150 bp with duplicates, QC failures,
unmapped mates, secondary and supplementary alignments, soft/hard clips and indels, and
RG/NM/AS tags (``bench/human_reads.py``); pairs with both mates unmapped end the file.
``--depth`` (mean depth over the chosen contigs) or ``--reads`` (spread by length) sets the
amount.  Records go through the project's own vectorised encoder and BGZF writer
(:class:`sparkbam_py.write.part.PartWriter`); ``samtools index`` writes the ``.bai``.
The same arguments always give the same bytes.  Prints a JSON summary on stdout.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grch38 import PRIMARY, reference_dictionary  # noqa: E402
from human_reads import (CIGAR_SLOTS, OP_LETTERS, READ_LENGTH, RECORD, simulate_window,  # noqa: E402
                         unmapped_pairs)

from sparkbam_py.write.header import WriteHeader  # noqa: E402
from sparkbam_py.write.part import PartWriter, WriteSettings  # noqa: E402

PRESETS = {
    "30x": {"depth": 30.0, "contigs": "chr20,chr21,chr22"},
    "sparse": {"reads": 300_000, "contigs": "all"},
}
WINDOW = 1 << 20  # bases of a contig simulated at once: ~200 k reads at 30x
BATCH_RECORDS = 1 << 17  # records per encoded batch
UNMAPPED_PAIR_SHARE = 0.005  # of all pairs: neither mate mapped, at the end of the file
READ_GROUPS = ("H38SIM.1", "H38SIM.2")
SAMPLE = "HG38SIM"
# Binned qualities as NovaSeq writes them (2, 12, 23, 37), by share out of 256.
QUALITY_LEVELS = np.repeat(np.frombuffer(b"#-8F", dtype=np.uint8), (5, 15, 31, 205))
NAME_PREFIX = "H38SIM:1:HVKLMDSX7:"


def header_for(contigs: Sequence[Tuple[str, int]]) -> WriteHeader:
    lines = ["@HD\tVN:1.6\tSO:coordinate"]
    lines += [f"@SQ\tSN:{name}\tLN:{length}" for name, length in contigs]
    lines += [f"@RG\tID:{rg}\tSM:{SAMPLE}\tPL:ILLUMINA\tLB:lib1" for rg in READ_GROUPS]
    lines.append("@PG\tID:make_human_bam\tPN:make_human_bam")
    return WriteHeader("\n".join(lines) + "\n", tuple(n for n, _ in contigs), tuple(l for _, l in contigs))


def fragments_per_contig(contigs: Sequence[Tuple[str, int]], chosen: Sequence[str], depth: float = None,
                         reads: int = None) -> Dict[int, float]:
    """Expected pairs per contig index: ``depth`` x length / 300 bp, or ``reads`` spread by length."""
    index = {name: i for i, (name, _) in enumerate(contigs)}
    unknown = [name for name in chosen if name not in index]
    if unknown:
        raise SystemExit(f"unknown contig(s) {', '.join(unknown)}")
    lengths = {index[name]: contigs[index[name]][1] for name in chosen}
    if depth is not None:
        return {i: depth * length / (2 * READ_LENGTH) for i, length in lengths.items()}
    total = sum(lengths.values())
    return {i: reads / 2 * length / total for i, length in lengths.items()}


def text_column(values: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Rows of a 2-D uint8 array, each cut to its length, as one string array (no copies per row)."""
    keep = np.arange(values.shape[1])[None, :] < lengths[:, None]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(values[keep]))


def cigar_column(records: np.ndarray) -> pa.Array:
    letters = pa.array(list(OP_LETTERS))
    pieces = []
    for slot in range(CIGAR_SLOTS):
        lengths = records["op_len"][:, slot]
        piece = pc.binary_join_element_wise(pc.cast(pa.array(lengths), pa.string()),
                                            letters.take(pa.array(records["op_code"][:, slot])), "")
        pieces.append(pc.if_else(pa.array(lengths > 0), piece, ""))
    cigar = pc.binary_join_element_wise(*pieces, "")
    return pc.if_else(pa.array(records["op_len"].sum(axis=1) > 0), cigar, pa.scalar(None, pa.string()))


def tags_column(records: np.ndarray) -> pa.Array:
    """RG on every record; NM and AS on mapped ones."""
    n = len(records)
    mapped = (records["flag"] & 0x4) == 0
    rg = pc.binary_join_element_wise("Z:", pa.array(READ_GROUPS).take(pa.array(records["rg"])), "")
    nm = pc.binary_join_element_wise("i:", pc.cast(pa.array(records["nm"]), pa.string()), "")
    score = pc.binary_join_element_wise("i:", pc.cast(pa.array(records["score"]), pa.string()), "")
    values = pa.concat_arrays([rg, nm, score])
    slots = np.stack([np.arange(n), n + np.arange(n), 2 * n + np.arange(n)], axis=1)
    present = np.stack([np.ones(n, bool), mapped, mapped], axis=1)
    keys = pa.array(np.array(["RG", "NM", "AS"], dtype=object)[np.nonzero(present)[1]], type=pa.string())
    offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32)
    return pa.MapArray.from_arrays(pa.array(offsets), keys, values.take(pa.array(slots[present])))


def records_batch(records: np.ndarray, rng: np.random.Generator, reference_names: Sequence[str]) -> pa.RecordBatch:
    names = pa.array(reference_names)
    placed = records["ref"] >= 0
    ref = names.take(pa.array(records["ref"], mask=~placed))
    next_ref = names.take(pa.array(records["next_ref"], mask=records["next_ref"] < 0))
    qualities = QUALITY_LEVELS[rng.integers(0, 256, (len(records), READ_LENGTH), dtype=np.uint8)]
    query_names = pc.binary_join_element_wise(NAME_PREFIX, pc.cast(pa.array(records["name"]), pa.string()), "")
    return pa.RecordBatch.from_pydict({
        "query_name": query_names, "flag": pa.array(records["flag"].astype(np.int32)),
        "reference_name": ref, "reference_start": pa.array(records["pos"]),
        "mapping_quality": pa.array(records["mapq"].astype(np.int32)), "cigar": cigar_column(records),
        "next_reference_name": next_ref, "next_reference_start": pa.array(records["next_pos"]),
        "template_length": pa.array(records["tlen"]),
        "query_sequence": text_column(records["seq"], records["seq_len"]),
        "query_qualities": text_column(qualities, records["seq_len"]), "tags": tags_column(records),
    })


class SortedWriter:
    """Takes records in coordinate order, encodes them in batches of ``BATCH_RECORDS``."""

    def __init__(self, writer: PartWriter, reference_names: Sequence[str], seed: int):
        self.writer, self.reference_names, self.seed = writer, list(reference_names), seed
        self.pending: List[np.ndarray] = []
        self.buffered = self.batches = self.records = 0

    def add(self, records: np.ndarray) -> None:
        self.pending.append(records)
        self.buffered += len(records)
        if self.buffered >= BATCH_RECORDS:
            self.flush()

    def flush(self) -> None:
        if not self.buffered:
            return
        records = np.concatenate(self.pending)
        rng = np.random.default_rng([self.seed, 1, self.batches])
        self.writer.write_batch(records_batch(records, rng, self.reference_names), self.batches)
        self.records += len(records)
        self.batches += 1
        self.pending, self.buffered = [], 0


def write_contig(out: SortedWriter, seed: int, ref_id: int, length: int, fragments: float, first_name: int) -> int:
    """Simulate and write one contig's records window by window; returns the pairs made."""
    rng = np.random.default_rng([seed, 0, ref_id])
    carry, made = np.zeros(0, dtype=RECORD), 0
    for lo in range(0, length, WINDOW):
        hi = min(length, lo + WINDOW)
        count = int(rng.poisson(fragments * (hi - lo) / length))
        pool = np.concatenate([carry, simulate_window(rng, ref_id, lo, hi, length, count, first_name + made,
                                                      len(READ_GROUPS))])
        made += count
        pool = pool[np.argsort(pool["pos"], kind="stable")]
        # Later windows start at hi: what lies before it is final.
        cut = int(np.searchsorted(pool["pos"], hi, side="left"))
        out.add(pool[:cut])
        carry = pool[cut:]
    out.add(carry)
    return made


def generate(out_path: str, contigs, plan: Dict[int, float], seed: int, level: int) -> dict:
    header = header_for(contigs)
    started = time.perf_counter()
    with open(out_path, "wb") as handle:
        writer = PartWriter(handle, header.names_array, WriteSettings(level=level), header=header.to_bytes())
        out = SortedWriter(writer, header.reference_names, seed)
        pairs = 0
        for ref_id in sorted(plan):
            pairs += write_contig(out, seed, ref_id, contigs[ref_id][1], plan[ref_id], pairs)
        unmapped = int(round(pairs * UNMAPPED_PAIR_SHARE))
        out.add(unmapped_pairs(np.random.default_rng([seed, 2]), unmapped, pairs, len(READ_GROUPS)))
        out.flush()
        writer.finish(out_path, 0, 0, eof=True)
    written = time.perf_counter() - started
    subprocess.run(["samtools", "index", "-@2", out_path], check=True)
    return {"bam": out_path, "records": out.records, "pairs": pairs + unmapped, "contigs": len(contigs),
            "bytes": Path(out_path).stat().st_size, "write_seconds": round(written, 1),
            "index_seconds": round(time.perf_counter() - started - written, 1), "seed": seed}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="BAM to write (its .bai beside it)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="30x: 30x over chr20-22; sparse: 300 k reads")
    parser.add_argument("--depth", type=float, help="mean depth over the chosen contigs")
    parser.add_argument("--reads", type=int, help="about this many paired reads, spread by contig length")
    parser.add_argument("--contigs", help="comma-separated contigs to put reads on; 'all', 'primary'")
    parser.add_argument("--extra-contigs", type=int, default=3341, help="analysis-set-like contigs (default 3341)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--level", type=int, default=6, help="deflate level (default 6, as samtools)")
    args = parser.parse_args(argv)
    preset = PRESETS.get(args.preset, {})
    depth = args.depth if args.depth is not None else preset.get("depth")
    reads = args.reads if args.reads is not None else preset.get("reads")
    chosen = args.contigs or preset.get("contigs")
    if (depth is None) == (reads is None) or not chosen:
        parser.error("give --preset, or --contigs with one of --depth and --reads")
    contigs = reference_dictionary(args.extra_contigs)
    names = {"all": [name for name, _ in contigs], "primary": [name for name, _ in PRIMARY]}.get(
        chosen, chosen.split(","))
    summary = generate(args.out, contigs, fragments_per_contig(contigs, names, depth, reads), args.seed, args.level)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
