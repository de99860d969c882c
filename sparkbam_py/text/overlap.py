"""Which lines overlap a set of intervals, by htslib's tabix rules, vectorised in Arrow.

Each line's interval is htslib's ``tbx_parse1``: the sequence name from ``col_seq``; begin
from ``col_beg`` (made 0-based unless the index is 0-based); end by preset: generic files
take ``col_end`` (or begin + 1), VCF ``POS - 1 + len(REF)`` or ``INFO/END`` when it lies past
the begin, SAM the reference length of the CIGAR (M, D, N; at least 1).  A line overlaps
``[beg, end)`` of its sequence when ``line.beg < end and line.end > beg`` (``hts_itr_next``).
Lines that do not parse (too few columns, a non-numeric begin) overlap nothing: htslib
could not have indexed them either.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..index.tabix import TBX_SAM, TBX_VCF, TabixConfig

# VCF columns (1-based): REF is the 4th, INFO the 8th (VCFv4.3 §1.6.1).
VCF_REF_COLUMN = 4
VCF_INFO_COLUMN = 8
SAM_CIGAR_COLUMN = 6  # SAMv1 §1.4
_LEADING_INT = r"^\s*(?P<n>[+-]?[0-9]+)"
_VCF_END = r"(?:^|;)END=(?P<n>[+-]?[0-9]+)"
_CIGAR_OP = r"([0-9]+)([MIDNSHP=XmidnshpX])"
_REFERENCE_OPS = "MDN"


def line_intervals(lines: pa.Array, config: TabixConfig) -> Tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """``(sequence names, begins, ends, parsed)`` of each line (0-based half-open)."""
    wanted = [config.col_seq, config.col_beg]
    if config.preset == TBX_VCF:
        wanted += [VCF_REF_COLUMN, VCF_INFO_COLUMN]
    elif config.preset == TBX_SAM:
        wanted.append(SAM_CIGAR_COLUMN)
    elif config.col_end:
        wanted.append(config.col_end)
    fields, present = _columns(lines, sorted(set(wanted)))
    names = fields[config.col_seq]
    begins, ok = _leading_ints(fields[config.col_beg])
    ok &= present
    # htslib: begin made 0-based and clamped at 0; without other information the line
    # covers one base.
    begins = np.maximum(begins - (0 if config.zero_based else 1), 0)
    ends = begins + 1
    if config.preset == TBX_VCF:
        ends = _vcf_ends(fields[VCF_REF_COLUMN], fields[VCF_INFO_COLUMN], begins, ends)
    elif config.preset == TBX_SAM:
        ends = begins + _cigar_reference_lengths(fields[SAM_CIGAR_COLUMN])
    elif config.col_end:
        given, has_end = _leading_ints(fields[config.col_end])
        ends = np.where(has_end, given, ends)
        ok &= has_end
    return names, begins, np.maximum(ends, 1), ok


def _columns(lines: pa.Array, wanted: List[int]) -> Tuple[Dict[int, pa.Array], np.ndarray]:
    """Columns ``wanted`` (1-based) of every line, split on tabs only as far as needed;
    ``present`` marks lines that have them all (the others get empty strings)."""
    last = max(wanted)
    parts = pc.split_pattern(lines, "\t", max_splits=last)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    offsets = parts.offsets.to_numpy()[:-1] - parts.offsets.to_numpy()[0]
    values = parts.values
    present = lengths >= last
    out = {}
    for column in wanted:
        index = np.where(lengths >= column, offsets + column - 1, -1)
        taken = values.take(pa.array(index, mask=index < 0))
        out[column] = pc.fill_null(taken, "")
    # A column split off with max_splits keeps the rest of the line: cut it at its tab.
    out[last] = pc.replace_substring_regex(out[last], "\t.*$", "")
    return out, present


def _leading_ints(texts: pa.Array) -> Tuple[np.ndarray, np.ndarray]:
    """strtol-like: the leading integer of each text, and whether there was one."""
    found = pc.extract_regex(texts, _LEADING_INT)
    digits = pc.struct_field(found, [0])
    valid = pc.is_valid(digits).to_numpy(zero_copy_only=False)
    numbers = pc.cast(pc.fill_null(digits, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    return numbers, valid


def _vcf_ends(ref: pa.Array, info: pa.Array, begins: np.ndarray, ends: np.ndarray) -> np.ndarray:
    ref_lengths = pc.utf8_length(ref).to_numpy(zero_copy_only=False)
    ends = np.where(ref_lengths > 0, begins + ref_lengths, ends)
    info_end, has = _leading_ints(pc.struct_field(pc.extract_regex(info, _VCF_END), [0]).fill_null("x"))
    # htslib ignores (with a warning) an END at or before the begin.
    return np.where(has & (info_end > begins), info_end, ends)


def _cigar_reference_lengths(cigars: pa.Array) -> np.ndarray:
    """Reference bases covered by each CIGAR (M, D, N ops, htslib's tabix rule), at least 1."""
    lengths = np.zeros(len(cigars), dtype=np.int64)
    for k, cigar in enumerate(cigars.to_pylist()):  # SAM text only; tabix'd SAM is rare and small
        number = ""
        for char in cigar or "":
            if char.isdigit():
                number += char
                continue
            if char.upper() in _REFERENCE_OPS and number:
                lengths[k] += int(number)
            number = ""
    return np.maximum(lengths, 1)


class IntervalSet:
    """Sorted, disjoint intervals per sequence name, tested against many lines at once."""

    def __init__(self, intervals: Sequence[Tuple[str, int, int]]):
        by_name: Dict[str, List[Tuple[int, int]]] = {}
        for name, beg, end in intervals:
            by_name.setdefault(name, []).append((beg, end))
        self.spans = {name: _merged(spans) for name, spans in by_name.items()}

    def overlapping(self, names: pa.Array, begins: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """True for each line whose ``[begin, end)`` on its sequence meets an interval."""
        keep = np.zeros(len(begins), dtype=bool)
        for name, (starts, stops) in self.spans.items():
            on = pc.equal(names, name).to_numpy(zero_copy_only=False)
            if not on.any():
                continue
            # The last interval starting before each line's end must end after its begin.
            k = np.searchsorted(starts, ends[on], side="left") - 1
            hit = (k >= 0) & (stops[np.maximum(k, 0)] > begins[on])
            keep[np.flatnonzero(on)[hit]] = True
        return keep


def _merged(spans: List[Tuple[int, int]]) -> Tuple[np.ndarray, np.ndarray]:
    merged: List[List[int]] = []
    for beg, end in sorted(spans):
        if merged and beg <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([beg, end])
    return (np.array([m[0] for m in merged], dtype=np.int64), np.array([m[1] for m in merged], dtype=np.int64))
