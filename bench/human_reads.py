"""Simulated paired 150 bp reads, a window of one contig at a time, as numpy records.

Fragments start uniformly over the window (Poisson-many), are 200-700 bp long (normal,
mean 350), and give an FR pair: the left mate forward, the right mate reverse, ending at
the fragment's end.  Each read draws its bases from a seeded random reference with a few
mismatches, and its CIGAR from five shapes (plain, soft clip at either end, one deletion,
one insertion).  A few percent of the pairs are duplicates (same positions as the pair
before), QC failures, or have one mate unmapped (placed at its mate, SAMv1 §2.4.1); a few
percent of the reads also get a secondary (SEQ ``*``) or a hard-clipped supplementary
alignment a little downstream.  Everything is vectorised over the window's reads.
"""
from __future__ import annotations

import numpy as np

READ_LENGTH = 150
FRAGMENT_MEAN, FRAGMENT_SD, FRAGMENT_MIN, FRAGMENT_MAX = 350, 60, 200, 700
DUPLICATE_RATE, QCFAIL_RATE, UNMAPPED_MATE_RATE = 0.03, 0.005, 0.015
SECONDARY_RATE, SUPPLEMENTARY_RATE = 0.02, 0.015
MISMATCHES_PER_READ = 0.6
HIGH_MAPQ, HIGH_MAPQ_SHARE = 60, 0.93
# Secondary and supplementary alignments land this far downstream of their primary.
EXTRA_OFFSET = (1_000, 50_000)
# Reference bases a window needs past its end: the last fragment, then the extras' offset.
REFERENCE_MARGIN = FRAGMENT_MAX + EXTRA_OFFSET[1] + READ_LENGTH
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
# SAMv1 §1.4.2 flag bits.
PAIRED, PROPER, UNMAPPED, MATE_UNMAPPED, REVERSE, MATE_REVERSE = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
FIRST, LAST, SECONDARY, QCFAIL, DUPLICATE, SUPPLEMENTARY = 0x40, 0x80, 0x100, 0x200, 0x400, 0x800
# SAMv1 §1.4.6 op letters by code; slots of a CIGAR: up to three ops, length 0 = absent.
OP_LETTERS = "MIDNSHP=X"
OP_M, OP_I, OP_D, OP_S, OP_H = 0, 1, 2, 4, 5
CIGAR_SLOTS = 3
# Shares of the primary CIGAR shapes: plain, clip left, clip right, deletion, insertion.
SHAPE_SHARES = (0.85, 0.06, 0.04, 0.025, 0.025)

RECORD = np.dtype([
    ("ref", "i4"), ("pos", "i8"), ("flag", "u2"), ("mapq", "u1"),
    ("op_len", "u4", CIGAR_SLOTS), ("op_code", "u1", CIGAR_SLOTS),
    ("next_ref", "i4"), ("next_pos", "i8"), ("tlen", "i4"),
    ("seq", "u1", READ_LENGTH), ("seq_len", "u1"),
    ("name", "i8"), ("rg", "u1"), ("nm", "u1"), ("score", "u1"),
])


def window_reference(rng: np.random.Generator, size: int) -> np.ndarray:
    return BASES[rng.integers(0, 4, size, dtype=np.uint8)]


def random_cigars(rng: np.random.Generator, n: int):
    """(op_len (n, 3), op_code (n, 3), indel bases (n,)) for ``n`` primary reads of 150 bp."""
    shape = rng.choice(len(SHAPE_SHARES), size=n, p=SHAPE_SHARES)
    op_len = np.zeros((n, CIGAR_SLOTS), dtype=np.uint32)
    op_code = np.zeros((n, CIGAR_SLOTS), dtype=np.uint8)
    op_len[:, 0] = READ_LENGTH
    clip = rng.integers(1, 41, n)
    split = rng.integers(30, 120, n)
    deletion, insertion = rng.integers(1, 11, n), rng.integers(1, 9, n)
    for kind, lengths, codes in (
            (1, (clip, READ_LENGTH - clip, 0), (OP_S, OP_M, OP_M)),
            (2, (READ_LENGTH - clip, clip, 0), (OP_M, OP_S, OP_M)),
            (3, (split, deletion, READ_LENGTH - split), (OP_M, OP_D, OP_M)),
            (4, (split, insertion, READ_LENGTH - split - insertion), (OP_M, OP_I, OP_M))):
        rows = shape == kind
        for slot in range(CIGAR_SLOTS):
            op_len[rows, slot] = np.broadcast_to(lengths[slot], n)[rows]
            op_code[rows, slot] = codes[slot]
    indel = np.where(shape == 3, deletion, 0) + np.where(shape == 4, insertion, 0)
    return op_len, op_code, indel


def reference_length(records: np.ndarray) -> np.ndarray:
    consumes = np.isin(records["op_code"], (OP_M, OP_D))
    return (records["op_len"] * consumes).sum(axis=1).astype(np.int64)


def simulate_window(rng: np.random.Generator, ref_id: int, lo: int, hi: int, contig_length: int,
                    fragments: int, first_name: int, read_groups: int) -> np.ndarray:
    """The records of ``fragments`` pairs starting in ``[lo, hi)``, in no particular order."""
    # Starts stay in [lo, hi) (records before lo are written already) and leave room for
    # the shortest fragment; a fragment near the contig's end is cut to fit.
    hi = min(hi, contig_length - FRAGMENT_MIN)
    if hi <= lo:
        return np.zeros(0, dtype=RECORD)
    start = np.sort(rng.integers(lo, hi, fragments))
    size = np.clip(np.rint(rng.normal(FRAGMENT_MEAN, FRAGMENT_SD, fragments)), FRAGMENT_MIN, FRAGMENT_MAX)
    size = np.minimum(size.astype(np.int64), contig_length - start)
    # A duplicate repeats the positions of the last pair that is not one.
    duplicate = rng.random(fragments) < DUPLICATE_RATE
    duplicate[:1] = False
    source = np.maximum.accumulate(np.where(duplicate, 0, np.arange(fragments)))
    start, size = start[source], size[source]
    # A random reference for the window pays when reads cover it many times; sparse reads
    # take random bases instead (drawing a megabase of reference for 50 reads dominated).
    dense = 2 * fragments * READ_LENGTH >= hi - lo
    reference = window_reference(rng, hi - lo + REFERENCE_MARGIN) if dense else None

    pairs = np.zeros((fragments, 2), dtype=RECORD)  # [:, 0] left mate, [:, 1] right mate
    reads = pairs.reshape(-1)
    op_len, op_code, indel = random_cigars(rng, 2 * fragments)
    reads["op_len"], reads["op_code"] = op_len, op_code
    reads["ref"] = reads["next_ref"] = ref_id
    reads["name"] = np.repeat(first_name + np.arange(fragments), 2)
    reads["rg"] = np.repeat(rng.integers(0, read_groups, fragments), 2)
    span_right = reference_length(pairs[:, 1])
    left, right = pairs[:, 0], pairs[:, 1]
    left["pos"] = start
    right["pos"] = np.maximum(start + size - span_right, start)
    left["next_pos"], right["next_pos"] = right["pos"], left["pos"]
    left["tlen"], right["tlen"] = size, -size
    read1_left = rng.random(fragments) < 0.5
    left["flag"] = PAIRED | PROPER | MATE_REVERSE | np.where(read1_left, FIRST, LAST)
    right["flag"] = PAIRED | PROPER | REVERSE | np.where(read1_left, LAST, FIRST)
    pair_flags = np.where(duplicate, DUPLICATE, 0) | np.where(rng.random(fragments) < QCFAIL_RATE, QCFAIL, 0)
    reads["flag"] |= np.repeat(pair_flags, 2).astype(np.uint16)
    reads["mapq"] = np.where(rng.random(2 * fragments) < HIGH_MAPQ_SHARE, HIGH_MAPQ,
                             rng.integers(0, HIGH_MAPQ, 2 * fragments))
    _draw_sequences(rng, reads, reference, lo, indel)
    _unmap_one_mate(rng, pairs)
    return np.concatenate([reads, _extra_alignments(rng, reads, contig_length)])


def _draw_sequences(rng, reads: np.ndarray, reference, lo: int, indel: np.ndarray) -> None:
    """Bases from the reference (None: random) at each read's position, with Poisson-many mismatches."""
    if reference is None:
        reads["seq"] = window_reference(rng, (len(reads), READ_LENGTH))
    else:
        reads["seq"] = reference[(reads["pos"] - lo)[:, None] + np.arange(READ_LENGTH)]
    reads["seq_len"] = READ_LENGTH
    mismatches = rng.poisson(MISMATCHES_PER_READ, len(reads))
    rows = np.repeat(np.arange(len(reads)), mismatches)
    cols = rng.integers(0, READ_LENGTH, len(rows))
    codes = np.searchsorted(BASES, reads["seq"][rows, cols])
    reads["seq"][rows, cols] = BASES[(codes + rng.integers(1, 4, len(rows))) % 4]
    clipped = (reads["op_len"] * (reads["op_code"] == OP_S)).sum(axis=1)
    reads["nm"] = np.minimum(mismatches + indel, 255)
    # bwa-mem's default scores: match 1, mismatch -4, gap open -6 and extend -1.
    score = READ_LENGTH - clipped - indel - 5 * mismatches - np.where(indel > 0, 6, 0)
    reads["score"] = np.clip(score, 0, 255)


def _unmap_one_mate(rng, pairs: np.ndarray) -> None:
    """Unmap the left or right mate of a few pairs; it takes its mate's place (SAMv1 §2.4.1)."""
    chosen = np.flatnonzero(rng.random(len(pairs)) < UNMAPPED_MATE_RATE)
    side = (rng.random(len(chosen)) < 0.5).astype(np.int64)  # 1: the right mate is unmapped
    lost = pairs[chosen, side]
    kept = pairs[chosen, 1 - side]
    lost["flag"] = (lost["flag"] & ~np.uint16(PROPER | REVERSE)) | UNMAPPED
    kept["flag"] = (kept["flag"] & ~np.uint16(PROPER | MATE_REVERSE)) | MATE_UNMAPPED
    lost["pos"] = kept["pos"]
    lost["next_pos"] = kept["next_pos"] = kept["pos"]
    lost["tlen"] = kept["tlen"] = 0
    lost["mapq"] = lost["nm"] = lost["score"] = 0
    lost["op_len"] = 0
    pairs[chosen, side], pairs[chosen, 1 - side] = lost, kept


def _extra_alignments(rng, reads: np.ndarray, contig_length: int) -> np.ndarray:
    """Secondary (SEQ ``*``) and hard-clipped supplementary copies of a few mapped reads."""
    mapped = (reads["flag"] & UNMAPPED) == 0
    secondary = reads[mapped & (rng.random(len(reads)) < SECONDARY_RATE)].copy()
    secondary["flag"] |= SECONDARY
    secondary["mapq"] = 0
    secondary["seq_len"] = 0
    supplementary = reads[mapped & (rng.random(len(reads)) < SUPPLEMENTARY_RATE)].copy()
    kept = rng.integers(30, 121, len(supplementary))
    supplementary["flag"] |= SUPPLEMENTARY
    supplementary["op_len"] = np.stack([READ_LENGTH - kept, kept, np.zeros_like(kept)], axis=1)
    supplementary["op_code"] = np.array([OP_H, OP_M, OP_M], dtype=np.uint8)
    supplementary["seq_len"] = kept
    supplementary["nm"] = np.minimum(supplementary["nm"], kept)
    supplementary["score"] = np.minimum(supplementary["score"], kept)
    extras = np.concatenate([secondary, supplementary])
    shift = rng.integers(*EXTRA_OFFSET, len(extras))
    extras["pos"] = np.minimum(extras["pos"] + shift, contig_length - reference_length(extras))
    return extras


def unmapped_pairs(rng: np.random.Generator, fragments: int, first_name: int, read_groups: int) -> np.ndarray:
    """Pairs with neither mate mapped: no reference, no position (they end a sorted BAM)."""
    pairs = np.zeros((fragments, 2), dtype=RECORD)
    reads = pairs.reshape(-1)
    reads["ref"] = reads["next_ref"] = -1
    reads["pos"] = reads["next_pos"] = -1
    reads["name"] = np.repeat(first_name + np.arange(fragments), 2)
    reads["rg"] = np.repeat(rng.integers(0, read_groups, fragments), 2)
    pairs[:, 0]["flag"] = PAIRED | UNMAPPED | MATE_UNMAPPED | FIRST
    pairs[:, 1]["flag"] = PAIRED | UNMAPPED | MATE_UNMAPPED | LAST
    reads["seq"] = window_reference(rng, (len(reads), READ_LENGTH))
    reads["seq_len"] = READ_LENGTH
    return reads
