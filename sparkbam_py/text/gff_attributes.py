"""GFF3 and GTF attribute columns into map<string,string>, vectorised.

GFF3 (The Sequence Ontology GFF3 spec, column 9): ``tag=value;tag=v1,v2`` with RFC 3986
percent-escapes, which are decoded.  GTF/GFF2 (Ensembl GTF spec): ``key "value"; key 2;``.
A key repeated within one line (GTF's ``tag "basic"; tag "CCDS";``) keeps every value,
joined with ``,`` in order, so the map stays a valid Spark map (unique keys) and no value is
lost.  Values are otherwise kept as text: a GFF3 multi-value stays ``v1,v2``.
"""
from __future__ import annotations

from urllib.parse import unquote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fields import MISSING, list_array, map_from_entries

# A GFF3 attribute column starts with ``tag=``; GTF's with ``key value`` (space-separated).
GFF3_ATTRIBUTES = r'^\s*[^\s=;"]+='


def is_gff3_attributes(attributes: pa.Array) -> np.ndarray:
    """Per line: does the attribute column use GFF3 ``tag=value`` syntax (or is it ``.``)?"""
    gff3 = pc.or_(pc.match_substring_regex(attributes, GFF3_ATTRIBUTES), pc.equal(attributes, MISSING))
    return np.asarray(pc.fill_null(gff3, True), dtype=bool)


def attributes_map(attributes: pa.Array, gff3: np.ndarray) -> pa.MapArray:
    """Each line's attributes as a map; ``gff3`` says per line which syntax to read."""
    present = pc.if_else(pc.equal(attributes, MISSING), pa.scalar(None, attributes.type), attributes)
    lists = pc.split_pattern(present, ";")
    offsets = np.asarray(lists.offsets, dtype=np.int64)
    row_of = np.repeat(np.arange(len(attributes)), np.diff(offsets))
    entries = pc.utf8_trim_whitespace(lists.values)
    keep = np.flatnonzero(np.asarray(pc.not_equal(entries, ""), dtype=bool))
    entries, row_of = entries.take(pa.array(keep)), row_of[keep]
    entry_is_gff3 = gff3[row_of]
    keys, values = _split_entries(entries, entry_is_gff3)
    row_of, keys, values = _join_repeated_keys(row_of, keys, values)
    return map_from_entries(row_of, keys, values, len(attributes))


def _split_entries(entries: pa.Array, entry_is_gff3: np.ndarray):
    """(keys, values): GFF3 entries split at the first '=' and unescaped; GTF entries at the
    first space, with the value's surrounding double quotes removed."""
    keys = pa.nulls(len(entries), pa.string())
    values = pa.nulls(len(entries), pa.string())
    for is_gff3, pattern in ((True, "="), (False, " ")):
        chosen = np.flatnonzero(entry_is_gff3 == is_gff3)
        if chosen.size == 0:
            continue
        pairs = pc.split_pattern(entries.take(pa.array(chosen)), pattern, max_splits=1)
        key = pc.list_element(pairs, 0)
        has_value = np.asarray(pc.list_value_length(pairs)) == 2
        starts = np.asarray(pairs.offsets, dtype=np.int64)[:-1]
        value = pairs.values.take(pa.array(np.where(has_value, starts + 1, 0), mask=~has_value))
        if is_gff3:
            key, value = _unescape(key), _unescape(value)
        else:
            value = _unquote_gtf(pc.utf8_trim_whitespace(value))
        mask = np.zeros(len(entries), dtype=bool)
        mask[chosen] = True
        keys = pc.replace_with_mask(keys, pa.array(mask), key.cast(pa.string()))
        values = pc.replace_with_mask(values, pa.array(mask), value.cast(pa.string()))
    return keys, values


def _unquote_gtf(values: pa.Array) -> pa.Array:
    quoted = pc.and_(pc.starts_with(values, '"'), pc.ends_with(values, '"'))
    quoted = pc.and_(quoted, pc.greater_equal(pc.utf8_length(values), 2))
    return pc.if_else(quoted, pc.utf8_slice_codeunits(values, 1, -1), values)


def _unescape(values: pa.Array) -> pa.Array:
    """Decode %XX escapes; only the distinct escaped strings go through Python."""
    escaped = pc.fill_null(pc.match_substring(values, "%"), False)
    if not pc.any(escaped).as_py():
        return values
    subset = values.filter(escaped)
    distinct = pc.unique(subset)
    decoded = pa.array([unquote(v) for v in distinct.to_pylist()], pa.string())
    return pc.replace_with_mask(values, escaped, decoded.take(pc.index_in(subset, distinct)))


def _join_repeated_keys(row_of: np.ndarray, keys: pa.Array, values: pa.Array):
    """Merge entries sharing (line, key) into one, values joined with ',' in file order."""
    if len(keys) == 0:
        return row_of, keys, values
    key_codes = np.asarray(pc.dictionary_encode(keys).indices, dtype=np.int64)
    combined = row_of * (int(key_codes.max()) + 1) + key_codes
    order = np.argsort(combined, kind="stable")
    _, first, counts = np.unique(combined[order], return_index=True, return_counts=True)
    if (counts == 1).all():
        return row_of, keys, values
    grouped = list_array(np.append(first, len(order)), values.take(pa.array(order)))
    joined = pc.binary_join(grouped, ",")
    representative = order[first]
    in_file_order = np.argsort(representative, kind="stable")
    chosen = representative[in_file_order]
    return row_of[chosen], keys.take(pa.array(chosen)), joined.take(pa.array(in_file_order))
