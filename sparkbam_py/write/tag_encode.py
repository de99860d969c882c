"""The ``tags`` column (tag -> ``TYPE:VALUE`` SAM text) back to BAM aux bytes (SAMv1 §4.2.4).

The inverse of :mod:`sparkbam_py.bam.tag_text`, a kind of value at a time:

* ``A``, ``Z``, ``H``: the text is the value; Z and H get their NUL back.
* ``i``: the reader prints every integer width as ``i``, so the width is chosen again, as
  htslib does when it parses SAM (``sam_parse1``): the smallest of c, s, i for negative
  values and of C, S, I otherwise.  The SAM text of the record is unchanged; its bytes may
  differ from the original when that writer chose a wider type.
* ``f``: the reader prints C's ``%g`` (six significant digits), so a float that needed more
  digits comes back rounded.  Six digits always survive float32 (FLT_DIG is 6), so the text
  round-trips exactly; the stored value is the one the text shows.
* ``B:<subtype>,...``: the subtype is kept, so arrays round-trip exactly (floats as above).

Entries are assembled as pieces (key, type letter, value) from one source buffer with one
Arrow ``take``, like the reader renders them.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..bam.ragged import Ragged, gather_kernel, take_byte_ranges
from ..kernels import compiled
from ..arrow_buffers import combined, text_buffers
from .errors import encode_error

_COLON = ord(":")
# SAMv1 §4.2.4 integer types by width, and the ranges htslib picks them by.
_INTEGER_DTYPES: Dict[str, np.dtype] = {
    "c": np.dtype("i1"), "C": np.dtype("u1"), "s": np.dtype("<i2"), "S": np.dtype("<u2"),
    "i": np.dtype("<i4"), "I": np.dtype("<u4"),
}
_ARRAY_DTYPES: Dict[str, np.dtype] = dict(_INTEGER_DTYPES, f=np.dtype("<f4"))
# Widest entry row: key (2) + type (1) + a 4-byte value.
_ROW = 7


class _Entries:
    """The flattened entries of a tags map column, with their keys and value texts."""

    def __init__(self, tags):
        tags = combined(tags)
        if tags.null_count:
            tags = pc.if_else(pc.is_null(tags), pa.scalar([], type=tags.type), tags)
        self.map_offsets = np.asarray(tags.offsets, dtype=np.int64)
        self.map_offsets = self.map_offsets - self.map_offsets[0]
        self.keys_array, self.values_array = _entry_arrays(tags)
        self.keys, key_offsets, _ = text_buffers(self.keys_array)
        self.values, self.value_offsets, value_valid = text_buffers(self.values_array)
        self.record = np.repeat(np.arange(len(tags)), np.diff(self.map_offsets))
        bad_key = np.flatnonzero(np.diff(key_offsets) != 2)
        if bad_key.size:
            self.fail(bad_key[0], "tag keys are two characters (SAMv1 §1.5)")
        lengths = np.diff(self.value_offsets)
        starts = self.value_offsets[:-1]
        ok = value_valid & (lengths >= 2)
        safe = np.where(ok, starts, 0)
        ok &= self.values[np.minimum(safe + 1, max(len(self.values) - 1, 0))] == _COLON if len(self.values) else ok
        bad = np.flatnonzero(~ok)
        if bad.size:
            self.fail(bad[0], "a tag value is TYPE:VALUE text, e.g. i:3 or Z:abc")
        self.type = self.values[starts] if len(starts) else np.zeros(0, dtype=np.uint8)

    def __len__(self) -> int:
        return len(self.record)

    def fail(self, entry: int, message: str):
        key, value = self.keys_array[int(entry)].as_py(), self.values_array[int(entry)].as_py()
        raise encode_error(int(self.record[int(entry)]), f"tag {key!r} = {value!r}: {message}")

    def payload_texts(self, entries: np.ndarray) -> pa.Array:
        """The text after ``T:`` of the given entries."""
        return pc.utf8_slice_codeunits(self.values_array.take(pa.array(entries, type=pa.int64())), 2)

    def parse(self, entries: np.ndarray, texts: pa.Array, arrow_type: pa.DataType, what: str) -> np.ndarray:
        """``texts`` parsed as ``arrow_type``; on failure, the first bad entry's row is named."""
        try:
            return pc.cast(texts, arrow_type).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            for entry, text in zip(entries, texts.to_pylist()):
                try:
                    pc.cast(pa.array([text]), arrow_type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    self.fail(entry, f"{text!r} is not {what}")
            raise


def _entry_arrays(tags: pa.MapArray) -> Tuple[pa.Array, pa.Array]:
    start, end = int(tags.offsets[0].as_py()), int(tags.offsets[-1].as_py()) if len(tags) else 0
    return tags.keys.slice(start, end - start), tags.items.slice(start, end - start)


def integer_codes(values: np.ndarray) -> np.ndarray:
    """htslib's width choice for each int64 value, as type characters (uint8)."""
    codes = np.full(len(values), ord("I"), dtype=np.uint8)
    negative = values < 0
    for code, low, high in (("S", 0, 0xFFFF), ("C", 0, 0xFF)):
        codes[(values >= low) & (values <= high)] = ord(code)
    codes[negative] = ord("i")
    codes[negative & (values >= -0x8000)] = ord("s")
    codes[negative & (values >= -0x80)] = ord("c")
    return codes


class _Pieces:
    """Byte pieces of the output, each tied to (entry, rank) so they can be put in order."""

    def __init__(self):
        self.sources: List[np.ndarray] = []
        self.base = 0
        self.starts, self.lengths, self.entries, self.ranks = [], [], [], []

    def add_source(self, buffer: np.ndarray) -> int:
        base = self.base
        self.sources.append(np.ascontiguousarray(buffer, dtype=np.uint8).reshape(-1))
        self.base += len(self.sources[-1])
        return base

    def add(self, starts, lengths, entries, rank: int) -> None:
        self.starts.append(np.asarray(starts, dtype=np.int64))
        self.lengths.append(np.broadcast_to(np.asarray(lengths, dtype=np.int64), len(self.starts[-1])))
        self.entries.append(np.asarray(entries, dtype=np.int64))
        self.ranks.append(np.full(len(self.starts[-1]), rank, dtype=np.int64))

    def assemble(self, n_entries: int) -> Ragged:
        """Every entry's bytes, in entry order: Ragged with one item per entry."""
        if not self.starts:
            return Ragged(np.zeros(0, np.uint8), np.zeros(n_entries + 1, np.int64))
        source = np.concatenate(self.sources) if self.sources else np.zeros(0, np.uint8)
        starts, lengths = np.concatenate(self.starts), np.concatenate(self.lengths)
        entries, ranks = np.concatenate(self.entries), np.concatenate(self.ranks)
        entry_bytes = np.bincount(entries, weights=lengths, minlength=n_entries).astype(np.int64)
        offsets = np.zeros(n_entries + 1, dtype=np.int64)
        np.cumsum(entry_bytes, out=offsets[1:])
        kernel = compiled(gather_kernel)
        if kernel is not None:
            return Ragged(self._scattered(kernel, source, offsets), offsets)
        # Empty pieces add nothing, and could share a start with the next piece.
        kept = lengths > 0
        starts, lengths, entries, ranks = starts[kept], lengths[kept], entries[kept], ranks[kept]
        # Ranges must be listed ascending; identical shared ranges (the NUL) are listed once.
        unique_starts, listed = np.unique(starts, return_inverse=True)
        unique_lengths = np.zeros(len(unique_starts), dtype=np.int64)
        unique_lengths[listed] = lengths
        order = listed[np.lexsort((ranks, entries))]
        pieces = take_byte_ranges(source, unique_starts, unique_lengths, order=order)
        return Ragged(pieces.values, offsets)

    def _scattered(self, kernel, source: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Each piece copied straight to its place, without sorting the pieces: within an
        entry, pieces were added in rank order and each add names an entry at most once, so
        a running end per entry gives every piece's destination."""
        filled = offsets[:-1].copy()
        targets = []
        for entries, lengths in zip(self.entries, self.lengths):
            targets.append(filled[entries])
            filled[entries] += lengths
        values = np.empty(int(offsets[-1]), dtype=np.uint8)
        starts = np.concatenate(self.starts)
        # The gather kernel copies range order[i] to values[offsets[i]:]: given each piece's
        # own destination as its "offset", it scatters.
        kernel(source, starts, np.concatenate(self.lengths), np.arange(len(starts), dtype=np.int64),
               np.concatenate(targets), values)
        return values


def encode_tags(tags, n_records: int) -> Ragged:
    """Each record's aux bytes (Ragged, one item per record) from the ``tags`` map column."""
    if tags is None:
        return Ragged(np.zeros(0, np.uint8), np.zeros(n_records + 1, np.int64))
    entries = _Entries(tags)
    pieces = _Pieces()
    key_base = pieces.add_source(entries.keys)
    text_base = pieces.add_source(entries.values)
    nul_base = pieces.add_source(np.zeros(1, np.uint8))
    kinds = {chr(c): np.flatnonzero(entries.type == c) for c in np.unique(entries.type)}
    unknown = [k for k in kinds if k not in "AZHifB"]
    if unknown:
        entries.fail(kinds[unknown[0]][0], f"unknown tag type {unknown[0]!r} (SAMv1 §1.5: A i f Z H B)")
    for kind in ("A", "Z", "H"):
        chosen = kinds.get(kind, np.zeros(0, np.int64))
        _add_text_entries(entries, pieces, chosen, kind, key_base, text_base, nul_base)
    _add_number_entries(entries, pieces, kinds.get("i"), kinds.get("f"))
    _add_array_entries(entries, pieces, kinds.get("B"))
    entry_bytes = pieces.assemble(len(entries))
    return Ragged(entry_bytes.values, entry_bytes.offsets[entries.map_offsets])


def _add_text_entries(entries, pieces, chosen, kind, key_base, text_base, nul_base) -> None:
    if not len(chosen):
        return
    begin = entries.value_offsets[:-1][chosen]
    length = entries.value_offsets[1:][chosen] - begin - 2
    if kind == "A" and np.any(length != 1):
        entries.fail(chosen[np.flatnonzero(length != 1)[0]], "an A value is exactly one character")
    if kind != "A" and len(entries.values):
        # A NUL inside a Z/H value would end it early (SAMv1 §4.2.4: NUL-terminated).
        nul_entry = np.searchsorted(entries.value_offsets, np.flatnonzero(entries.values == 0), side="right") - 1
        bad = chosen[np.isin(chosen, nul_entry)]
        if bad.size:
            entries.fail(bad[0], f"a {kind} value cannot hold a NUL byte")
    pieces.add(key_base + 2 * chosen, 2, chosen, 0)
    pieces.add(text_base + begin, 1, chosen, 1)
    pieces.add(text_base + begin + 2, length, chosen, 2)
    if kind != "A":
        pieces.add(np.full(len(chosen), nul_base), 1, chosen, 3)


def _key_rows(entries, chosen: np.ndarray, width: int) -> np.ndarray:
    rows = np.zeros((len(chosen), width), dtype=np.uint8)
    pairs = entries.keys.reshape(-1, 2) if len(entries.keys) else np.zeros((0, 2), np.uint8)
    rows[:, :2] = pairs[chosen]
    return rows


def _add_number_entries(entries, pieces, integers, floats) -> None:
    if integers is not None and len(integers):
        values = entries.parse(integers, entries.payload_texts(integers), pa.int64(), "an integer")
        out_of_range = np.flatnonzero((values < -(1 << 31)) | (values > 0xFFFFFFFF))
        if out_of_range.size:
            entries.fail(integers[out_of_range[0]], "integer tags hold -2^31 .. 2^32-1 (SAMv1 §4.2.4)")
        codes = integer_codes(values)
        rows = _key_rows(entries, integers, _ROW)
        rows[:, 2] = codes
        widths = np.ones(len(values), dtype=np.int64)
        for code, dtype in _INTEGER_DTYPES.items():
            chosen = codes == ord(code)
            if chosen.any():
                rows[chosen, 3:3 + dtype.itemsize] = values[chosen].astype(dtype).view(np.uint8).reshape(-1, dtype.itemsize)
                widths[chosen] = dtype.itemsize
        base = pieces.add_source(rows)
        pieces.add(base + _ROW * np.arange(len(integers)), 3 + widths, integers, 0)
    if floats is not None and len(floats):
        values = entries.parse(floats, entries.payload_texts(floats), pa.float32(), "a float")
        rows = _key_rows(entries, floats, _ROW)
        rows[:, 2] = ord("f")
        rows[:, 3:] = values.astype("<f4").view(np.uint8).reshape(-1, 4)
        base = pieces.add_source(rows)
        pieces.add(base + _ROW * np.arange(len(floats)), _ROW, floats, 0)


def _add_array_entries(entries, pieces, arrays) -> None:
    if arrays is None or not len(arrays):
        return
    split = pc.split_pattern(entries.payload_texts(arrays), ",")
    list_offsets = np.asarray(split.offsets, dtype=np.int64)
    list_offsets = list_offsets - list_offsets[0]
    flat = split.flatten()
    subtypes = flat.take(pa.array(list_offsets[:-1]))
    sub_text = subtypes.to_numpy(zero_copy_only=False)
    counts = np.diff(list_offsets) - 1
    is_element = np.ones(len(flat), dtype=bool)
    is_element[list_offsets[:-1]] = False
    owner = np.repeat(np.arange(len(arrays)), counts)
    elements = flat.filter(pa.array(is_element))
    widths = np.zeros(len(arrays), dtype=np.int64)
    headers = _key_rows(entries, arrays, 8)
    headers[:, 2] = ord("B")
    headers[:, 4:8] = counts.astype("<u4").view(np.uint8).reshape(-1, 4)
    element_bytes_of: Dict[int, np.ndarray] = {}
    for subtype in np.unique(sub_text):
        chosen = np.flatnonzero(sub_text == subtype)
        if subtype not in _ARRAY_DTYPES:
            entries.fail(arrays[chosen[0]], f"unknown B subtype {subtype!r} (SAMv1 §4.2.4: cCsSiIf)")
        dtype = _ARRAY_DTYPES[subtype]
        headers[chosen, 3] = ord(subtype)
        widths[chosen] = dtype.itemsize
        mine = np.isin(owner, chosen)
        texts = elements.filter(pa.array(mine))
        parsed = entries.parse(arrays[owner[mine]], texts, pa.float32() if subtype == "f" else pa.int64(),
                               f"a {subtype} array element")
        if subtype != "f":
            info = np.iinfo(dtype)
            bad = np.flatnonzero((parsed < info.min) | (parsed > info.max))
            if bad.size:
                entries.fail(arrays[owner[mine][bad[0]]], f"element {parsed[bad[0]]} does not fit subtype {subtype}")
        element_bytes_of[subtype] = (mine, parsed.astype(dtype).view(np.uint8))
    # Every array's elements, back to back in array order.
    byte_counts = counts * widths
    array_start = np.concatenate([[0], np.cumsum(byte_counts)]).astype(np.int64)
    element_buffer = np.zeros(int(array_start[-1]), dtype=np.uint8)
    rank = np.arange(len(owner)) - np.concatenate([[0], np.cumsum(counts)])[owner]
    for subtype, (mine, raw) in element_bytes_of.items():
        width = _ARRAY_DTYPES[subtype].itemsize
        first = array_start[owner[mine]] + rank[mine] * width
        element_buffer[(first[:, None] + np.arange(width)).reshape(-1)] = raw
    header_base = pieces.add_source(headers)
    pieces.add(header_base + 8 * np.arange(len(arrays)), 8, arrays, 0)
    element_base = pieces.add_source(element_buffer)
    nonempty = byte_counts > 0
    pieces.add(element_base + array_start[:-1][nonempty], byte_counts[nonempty], arrays[nonempty], 1)
