"""The VCF INFO column, vectorised: ``key=value;flag;...`` into typed columns or a map.

Every line's INFO is split into entries once; entries are grouped by header key with one
``index_in`` and a stable sort, so the work is one pass over all entries plus one cast per
declared key, never a loop per line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fields import MISSING, cast_text, map_from_entries, missing_to_null, scatter, typed_list
from .problems import RowProblems
from .vcf_header import FieldDef

INFO_PREFIX = "INFO_"  # Glow: VariantSchemas.infoFieldPrefix
# INFO keys the header does not declare (flattenInfoFields=true), raw text, flags as null.
OTHER_INFO_FIELDS = "otherInfoFields"
# Every INFO entry as raw text (flattenInfoFields=false), Glow's column name.
ATTRIBUTES = "attributes"
END_KEY = "END"  # VCFv4.3 §1.6.1: INFO END, the 1-based inclusive end = 0-based exclusive end


@dataclass
class InfoEntries:
    """All ``key[=value]`` entries of a batch's INFO column, with the row of each."""

    row_of: np.ndarray
    keys: pa.Array
    values: pa.Array  # null for entries without '=' (flags)
    num_rows: int

    def declared_codes(self, ids: List[str]) -> np.ndarray:
        """The index of each entry's key in ``ids``, -1 when not declared."""
        codes = pc.index_in(self.keys, value_set=pa.array(ids, pa.string()))
        return np.asarray(pc.fill_null(codes, -1), dtype=np.int64)

    def subset(self, selection: np.ndarray) -> "InfoEntries":
        take = pa.array(selection.astype(np.int64))
        return InfoEntries(self.row_of[selection], self.keys.take(take), self.values.take(take),
                           self.num_rows)


def split_info(info: pa.Array) -> InfoEntries:
    """Split each INFO value (``.`` is empty) into its entries."""
    present = pc.if_else(pc.equal(info, MISSING), pa.scalar(None, info.type), info)
    lists = pc.split_pattern(present, ";")
    offsets = np.asarray(lists.offsets, dtype=np.int64)
    row_of = np.repeat(np.arange(len(info)), np.diff(offsets))
    pairs = pc.split_pattern(lists.values, "=", max_splits=1)
    keys = pc.list_element(pairs, 0)
    has_value = np.asarray(pc.list_value_length(pairs)) == 2
    pair_starts = np.asarray(pairs.offsets, dtype=np.int64)[:-1]
    flat = pairs.values
    values = flat.take(pa.array(np.where(has_value, pair_starts + 1, 0), mask=~has_value)) \
        if len(flat) else pa.nulls(0, flat.type)
    nonempty = np.asarray(pc.not_equal(keys, ""), dtype=bool)  # ';;' and a trailing ';'
    entries = InfoEntries(row_of, keys, values, len(info))
    return entries if nonempty.all() else entries.subset(np.flatnonzero(nonempty))


def info_columns(entries: InfoEntries, definitions: List[FieldDef],
                 problems: RowProblems) -> List[pa.Array]:
    """One typed column per definition, in order (flags: true when present, else false)."""
    codes = entries.declared_codes([d.id for d in definitions])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(definitions) + 1))
    columns = []
    for k, definition in enumerate(definitions):
        chosen = order[bounds[k]:bounds[k + 1]]
        if chosen.size == 0 and not definition.is_flag:  # key absent from the whole batch
            columns.append(pa.nulls(entries.num_rows, definition.arrow_type))
            continue
        chosen = _first_of_repeats(entries, chosen, definition, problems)
        rows = entries.row_of[chosen]
        if definition.is_flag:
            present = np.zeros(entries.num_rows, dtype=bool)
            present[rows] = True
            columns.append(pa.array(present))
            continue
        text = entries.values.take(pa.array(chosen.astype(np.int64)))
        typed = typed_values(text, definition, rows, problems, f"INFO {definition.id}")
        columns.append(scatter(typed, rows, entries.num_rows))
    return columns


def _first_of_repeats(entries: InfoEntries, chosen: np.ndarray, definition: FieldDef,
                      problems: RowProblems) -> np.ndarray:
    """One entry per row: a key repeated with the same value (seen in real files) is kept
    once; repeated with a different value, the line is malformed."""
    rows = entries.row_of[chosen]
    if not (np.bincount(rows, minlength=entries.num_rows) > 1).any():
        return chosen
    unique_rows, first = np.unique(rows, return_index=True)  # rows ascend: entries keep file order
    first_of_entry = first[np.searchsorted(unique_rows, rows)]
    text = entries.values.take(pa.array(chosen.astype(np.int64)))
    first_text = text.take(pa.array(first_of_entry))
    same = pc.or_kleene(pc.equal(text, first_text), pc.and_(text.is_null(), first_text.is_null()))
    differs = ~np.asarray(pc.fill_null(same, False), dtype=bool)
    problems.flag(rows[differs], f"INFO {definition.id} appears twice with different values")
    return chosen[first]


def typed_values(text: pa.Array, definition: FieldDef, rows: np.ndarray,
                 problems: RowProblems, what: str) -> pa.Array:
    """INFO/FORMAT value text typed per ``definition``; bad values flag their ``rows``."""
    if definition.is_scalar:
        values, bad = cast_text(missing_to_null(text), definition.value_type)
    else:
        lists = pc.split_pattern(missing_to_null(text), ",")
        values, bad = typed_list(lists, definition.value_type)
    if bad is not None:
        problems.flag(rows[bad], f"{what} is not {definition.type} "
                                 f"(Number={definition.number}) as the header declares")
    return values


def other_info_map(entries: InfoEntries, declared: List[str]) -> pa.MapArray:
    """The entries whose key the header does not declare, as a map per row."""
    undeclared = np.flatnonzero(entries.declared_codes(declared) < 0)
    kept = entries.subset(undeclared)
    return map_from_entries(kept.row_of, kept.keys, kept.values, entries.num_rows)


def all_info_map(entries: InfoEntries) -> pa.MapArray:
    """Every entry as a map per row (flattenInfoFields=false)."""
    return map_from_entries(entries.row_of, entries.keys, entries.values, entries.num_rows)


def info_end(entries: InfoEntries, problems: RowProblems) -> pa.Array:
    """INFO END per row as int64 (null when absent)."""
    chosen = np.flatnonzero(np.asarray(pc.equal(entries.keys, END_KEY), dtype=bool))
    rows = entries.row_of[chosen]
    text = missing_to_null(entries.values.take(pa.array(chosen.astype(np.int64))))
    values, bad = cast_text(text, pa.int64())
    if bad is not None:
        problems.flag(rows[bad], "INFO END is not an integer")
    return scatter(values, rows, entries.num_rows)
