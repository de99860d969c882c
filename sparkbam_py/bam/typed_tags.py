"""Typed tags: chosen tags as a struct of typed fields (integers as integers, arrays as arrays).

``NM:i,MD:Z,AS:i,ML:B:i`` declares the fields.  SAMv1 §4.2.4 types map as follows
(SAM text writes every integer width as ``i``, so ``i`` accepts every one of them):

==========  ==================  ===================================================
declared    Arrow / Spark type  accepts (converted where lossless, else an error)
==========  ==================  ===================================================
``i``       int64 / bigint      c C s S i I (every SAM integer fits: lossless)
``f``       float32 / float     f; integers of magnitude up to 2**24 (exact in float32)
``A``       string              A
``Z``       string              Z, A, H
``H``       string              H
``B:i``     array<bigint>       B arrays of an integer subtype
``B:f``     array<float>        B arrays of f, or of integers up to 2**24
==========  ==================  ===================================================

A record without the tag has null in its field; when a record repeats a tag, the first counts.
A value that cannot be converted raises :class:`TagTypeError` naming the record.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa

from ..errors import ConfigError, SparkBamError
from ..kernels import compiled
from .littleendian import FLOAT_TYPE, INTEGER_TYPES, at_every_byte, read_float32, read_integers
from .ragged import string_array, take_byte_ranges
from .spans import MalformedRecord
from .tags import ARRAY_ELEMENT_BYTES, ARRAY_HEADER_BYTES, TYPE_ARRAY, TYPE_CHAR, TYPE_HEX, TYPE_STRING, TagEntries

TYPED_TAGS = "typed_tags"
_ARROW_TYPES = {"i": pa.int64(), "f": pa.float32(), "A": pa.string(), "Z": pa.string(), "H": pa.string(),
                "B:i": pa.list_(pa.int64()), "B:f": pa.list_(pa.float32())}
# Which stored value types each declared type takes.
_ACCEPTED = {
    "i": set(INTEGER_TYPES),
    "f": {FLOAT_TYPE} | set(INTEGER_TYPES),
    "A": {TYPE_CHAR},
    "Z": {TYPE_STRING, TYPE_CHAR, TYPE_HEX},
    "H": {TYPE_HEX},
    "B:i": {TYPE_ARRAY},
    "B:f": {TYPE_ARRAY},
}
# The same as a lookup table per declared type: accepted[value type byte].
_ACCEPTED_TABLE = {kind: np.isin(np.arange(256), sorted(codes)) for kind, codes in _ACCEPTED.items()}
FLOAT32_EXACT_INTEGER = 2**24  # float32's 24-bit significand holds every integer up to this


class TagTypeError(SparkBamError, ValueError):
    """A tag's stored type cannot be converted losslessly to the declared one."""


class UnconvertibleTag(MalformedRecord):
    """Raised inside a batch; the decoder reports it as a TagTypeError naming the record."""


@dataclass(frozen=True)
class TagSpec:
    """The declared typed tags, in order: ``((tag, type), ...)``."""

    fields: Tuple[Tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> "TagSpec":
        """From ``"NM:i,MD:Z,ML:B:i"``; ConfigError naming a malformed entry."""
        fields = []
        for item in (part.strip() for part in str(text).split(",")):
            tag, _, kind = item.partition(":")
            kind = "B:i" if kind == "B" else kind
            if len(tag) != 2 or not tag.isalnum() or not tag[0].isalpha() or kind not in _ARROW_TYPES:
                raise ConfigError(f"typed tag {item!r} is not TAG:TYPE with TYPE one of {', '.join(_ARROW_TYPES)} "
                                  "(e.g. 'NM:i,MD:Z,ML:B:i')")
            fields.append((tag, kind))
        if len({tag for tag, _ in fields}) != len(fields):
            raise ConfigError(f"a tag is declared twice in {text!r}")
        return cls(tuple(fields))

    def __str__(self) -> str:
        return ",".join(f"{tag}:{kind}" for tag, kind in self.fields)

    def arrow_type(self) -> pa.StructType:
        return _struct_type(self.fields)


@functools.lru_cache(maxsize=64)
def _struct_type(fields: Tuple[Tuple[str, str], ...]) -> pa.StructType:
    # Built once per declaration: every batch of a scan shares it.
    return pa.struct([pa.field(tag, _ARROW_TYPES[kind], nullable=True) for tag, kind in fields])


def typed_tags_column(entries: TagEntries, n_records: int, spec: TagSpec, dropped: Optional[np.ndarray] = None
                      ) -> pa.StructArray:
    """One struct per record (all walked) with the declared tags' values, null where absent."""
    usable = np.ones(len(entries), dtype=bool)
    if dropped is not None and len(dropped):
        usable[dropped] = False
    keys = [tag.encode("ascii") for tag, _ in spec.fields]
    firsts = _first_entries(entries, usable, keys)
    children = [_field(entries, n_records, key, kind, *first) for key, (_, kind), first in zip(keys, spec.fields, firsts)]
    return pa.StructArray.from_arrays(children, fields=list(spec.arrow_type()))


def _first_entries(entries: TagEntries, usable: np.ndarray, keys: List[bytes]):
    """Per key: (its first usable entry in each record having it, those records' batch indexes)."""
    codes = np.array([int.from_bytes(key, "little") for key in keys], dtype=np.int64)
    kernel = compiled(first_entries_kernel)
    if kernel is not None:
        field_of_code = _field_of_code(tuple(codes.tolist()))
        shape = (len(keys), len(entries.records))
        found, records, counts = np.empty(shape, np.int64), np.empty(shape, np.int64), np.zeros(len(keys), np.int64)
        kernel(entries.buffer, entries.start, entries.entry_offsets, entries.records, usable, field_of_code,
               found, records, counts)
        return [(found[k, :count], records[k, :count]) for k, count in enumerate(counts.tolist())]
    # Each entry's two tag characters as one uint16, read once for all the fields.
    entry_codes = np.where(usable, at_every_byte(entries.buffer, np.dtype("<u2"))[entries.start], 0)
    result = []
    for code in codes:
        found = np.flatnonzero(entry_codes == code)
        records = entries.records[entries.walked_record_of(found)]
        # Entries are in record order: a record's first entry of the tag is the one that counts.
        first = np.ones(len(records), dtype=bool)
        first[1:] = records[1:] != records[:-1]
        result.append((found[first], records[first]))
    return result


@functools.lru_cache(maxsize=64)
def _field_of_code(codes: Tuple[int, ...]) -> np.ndarray:
    """Field index of each possible two-character tag (as a little-endian uint16), or -1."""
    table = np.full(1 << 16, -1, dtype=np.int32)
    table[list(codes)] = np.arange(len(codes))
    table.flags.writeable = False
    return table


def first_entries_kernel(buffer, start, entry_offsets, records, usable, field_of_code, found, found_records,
                         counts):
    """Per field k, the first usable entry of each walked record having its tag, in record
    order: ``found[k, :counts[k]]`` and their records ``found_records[k, :counts[k]]``.

    ``field_of_code`` maps a tag's two characters, read as a little-endian uint16, to its
    field (-1: not declared).  numba-compiled; see :mod:`.kernels`.
    """
    last_walked = np.full(len(counts), -1, dtype=np.int64)
    for walked in range(len(entry_offsets) - 1):
        for entry in range(entry_offsets[walked], entry_offsets[walked + 1]):
            if usable[entry]:
                field = field_of_code[np.int64(buffer[start[entry]]) | (np.int64(buffer[start[entry] + 1]) << 8)]
                if field >= 0 and last_walked[field] != walked:
                    last_walked[field] = walked
                    found[field, counts[field]] = entry
                    found_records[field, counts[field]] = records[walked]
                    counts[field] += 1


def _field(entries: TagEntries, n_records: int, key: bytes, kind: str, found: np.ndarray, records: np.ndarray
           ) -> pa.Array:
    value_type = entries.type[found]
    if len(value_type) and value_type.min() == value_type.max():  # the usual case: one stored type
        accepted = np.full(len(value_type), _ACCEPTED_TABLE[kind][value_type[0]])
    else:
        accepted = _ACCEPTED_TABLE[kind][value_type]
    if not accepted.all():
        bad = int(np.flatnonzero(~accepted)[0])
        _fail(records[bad], key, f"is stored as type {chr(value_type[bad])}, which {kind} cannot take")
    present = np.zeros(n_records, dtype=bool)
    present[records] = True
    values = _values(entries, found, value_type, records, key, kind)
    return _spread(values, records, present, n_records)


def _values(entries: TagEntries, found, value_type, records, key: bytes, kind: str) -> pa.Array:
    buffer, start = entries.buffer, entries.value_start_of(found)
    if kind in ("A", "Z", "H"):
        # Z/H sizes count their NUL; A has none.
        lengths = entries.size[found] - (value_type != TYPE_CHAR)
        return string_array(take_byte_ranges(buffer, start, lengths))
    if kind in ("i", "f"):
        return _numbers(buffer, start, value_type, records, key, kind)
    return _arrays(entries, found, records, key, kind)


def _numbers(buffer, positions, types, records, key: bytes, kind: str) -> pa.Array:
    is_float = types == FLOAT_TYPE
    integers = read_integers(buffer, positions[~is_float], types[~is_float]) if (~is_float).any() else np.zeros(0, np.int64)
    if kind == "i":
        return pa.array(integers, type=pa.int64())
    limit = (-FLOAT32_EXACT_INTEGER, FLOAT32_EXACT_INTEGER)
    _check_range(integers, limit, records[~is_float], key, "is an integer too large for float32 to hold exactly")
    values = np.empty(len(positions), dtype=np.float32)
    values[is_float] = read_float32(buffer, positions[is_float])
    values[~is_float] = integers
    return pa.array(values, type=pa.float32())


def _arrays(entries: TagEntries, found, records, key: bytes, kind: str) -> pa.Array:
    buffer = entries.buffer
    start = entries.value_start_of(found)
    subtype = buffer[start]
    counts = entries.array_counts(found)
    owner = np.repeat(np.arange(len(found)), counts)
    offsets = np.zeros(len(found) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    rank = np.arange(offsets[-1]) - offsets[owner]
    element_type = subtype[owner]
    position = start[owner] + ARRAY_HEADER_BYTES + rank * ARRAY_ELEMENT_BYTES[element_type]
    if kind == "B:i" and (subtype == FLOAT_TYPE).any():
        _fail(records[int(np.flatnonzero(subtype == FLOAT_TYPE)[0])], key, "is a float array, which B:i cannot take")
    values = _numbers(buffer, position, element_type, records[owner], key, kind[-1])
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values,
                                    type=_ARROW_TYPES[kind])


def _check_range(values: np.ndarray, bounds: Tuple[int, int], records, key: bytes, what: str) -> None:
    outside = (values < bounds[0]) | (values > bounds[1])
    if outside.any():
        bad = int(np.flatnonzero(outside)[0])
        _fail(records[bad], key, f"value {int(values[bad])} {what}")


def _fail(record: int, key: bytes, message: str) -> None:
    # The decoder turns this into a TagTypeError naming the file and the record's position.
    raise UnconvertibleTag(f"tag {key.decode()} {message}", int(record))


def _spread(values: pa.Array, records: np.ndarray, present: np.ndarray, n_records: int) -> pa.Array:
    """``values`` (one per record in ``records``) at those records; null elsewhere."""
    if len(records) == n_records:
        return values
    slot = np.cumsum(present) - 1
    return values.take(pa.array(np.where(present, slot, 0), mask=~present))


def discover_tag_spec(entries_list: Sequence[TagEntries]) -> TagSpec:
    """The tags seen in some records, each typed by its first occurrence (as oxbow discovers)."""
    seen: List[Tuple[str, str]] = []
    names = set()
    for entries in entries_list:
        for position in entries.start:
            tag = bytes(entries.buffer[position:position + 2]).decode("ascii", "replace")
            if tag in names:
                continue
            names.add(tag)
            seen.append((tag, _declared_kind(entries.buffer, position)))
    return TagSpec(tuple(seen))


def _declared_kind(buffer: np.ndarray, position: int) -> str:
    code = int(buffer[position + 2])
    if code in INTEGER_TYPES:
        return "i"
    if code == FLOAT_TYPE:
        return "f"
    if code == TYPE_ARRAY:
        return "B:f" if int(buffer[position + 3]) == FLOAT_TYPE else "B:i"
    return chr(code) if chr(code) in ("A", "Z", "H") else "Z"


# Discovery looks at this many records from the start of the first file (as oxbow does).
DEFAULT_DISCOVERY_RECORDS = 1000
AUTO = "auto"


def resolve_tag_spec(text: str, first_path: Optional[str]) -> TagSpec:
    """``"NM:i,MD:Z"``, or ``"auto"`` / ``"auto:N"``: the tags of the first N records of ``first_path``."""
    text = str(text).strip()
    if not text.lower().startswith(AUTO):
        return TagSpec.parse(text)
    count = text[len(AUTO):].lstrip(":") or str(DEFAULT_DISCOVERY_RECORDS)
    if not count.isdigit() or int(count) < 1:
        raise ConfigError(f"tags {text!r}: write auto or auto:N with N a positive number of records")
    if first_path is None:
        raise ConfigError("tags=auto needs at least one input file to discover the tags from")
    return discover_tags(first_path, int(count))


def discover_tags(path: str, records: int = DEFAULT_DISCOVERY_RECORDS) -> TagSpec:
    """The tags of the first ``records`` records of the BAM at ``path``, typed by first occurrence."""
    from .file import open_bam
    from .spans import compute_record_spans
    from .tags import locate_tags

    found = []
    with open_bam(path) as bam:
        for chunk in bam.iter_record_chunks():
            offsets = chunk.offsets[:records - sum(len(e.records) for e in found)]
            spans = compute_record_spans(chunk.run.data, offsets, bam.header.n_ref)
            found.append(locate_tags(chunk.run.data, spans.tags_start, spans.end, np.arange(len(offsets))))
            if sum(len(e.records) for e in found) >= records:
                break
    return discover_tag_spec(found)
