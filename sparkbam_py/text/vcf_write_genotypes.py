"""Glow's ``genotypes`` column back into VCF's FORMAT and sample columns, vectorised.

The genotypes of a batch are handled as one flat array (line-major, one entry per sample
per line) in the header's sample order: rows naming their samples (``sampleId``) in another
order are put in the header's, a sample a row lacks is written missing (``.``), a sample the
header does not name is an error.  Each FORMAT key becomes one text column over all the
genotypes; a line's FORMAT lists the keys any of its samples has (``GT`` first, VCFv4.3
§1.6.2; then the struct's fields in order; then ``otherFields`` keys as they first appear),
and a sample's value of a listed key it lacks is ``.``.  ``calls``/``phased`` give ``GT``:
alleles joined by ``|`` when phased, ``/`` otherwise, ``-1`` as ``.``.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fields import MISSING, list_array
from .vcf_genotypes import CALLS, GT, OTHER_FIELDS, PHASED, SAMPLE_ID, VCF_KEY_OF_GLOW_NAME
from ..arrow_buffers import text_buffers
from .write_fields import (IntLists, UnwritableRowError, as_array, check_one_field, compiled_write_kernels,
                           int_lists, join_present, joined_list, plain_text)

FormatValues = Union[pa.Array, IntLists]  # a FORMAT key's values: text, or integers to print
_SKIPPED = (SAMPLE_ID.name, PHASED.name, CALLS.name, OTHER_FIELDS.name)
_ALLELE_CHARACTER = np.frombuffer(b".0123456789", dtype=np.uint8)  # index: allele + 1


def samples_of_first_row(genotypes) -> Optional[Tuple[str, ...]]:
    """The sample names of the first row with genotypes (``sample_1``... without
    ``sampleId``, as Glow names them); None for a batch without rows."""
    genotypes = as_array(genotypes)
    if len(genotypes) == 0:
        return None
    first = genotypes[0].values
    if first is None:
        return ()
    if SAMPLE_ID.name in [f.name for f in genotypes.type.value_type]:
        names = first.field(SAMPLE_ID.name)
        if names.null_count:
            raise UnwritableRowError("row 0: a genotype has a null sampleId")
        return tuple(names.to_pylist())
    return tuple(f"sample_{k + 1}" for k in range(len(first)))


def aligned_genotypes(genotypes, samples: Sequence[str]) -> pa.StructArray:
    """One genotype per (line, sample) in ``samples`` order; null where a line lacks one."""
    genotypes = as_array(genotypes)
    n, rows = len(samples), len(genotypes)
    offsets = np.asarray(genotypes.offsets, dtype=np.int64)
    flat = genotypes.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    offsets = offsets - offsets[0]
    counts = np.diff(offsets)
    names = [f.name for f in genotypes.type.value_type]
    if SAMPLE_ID.name not in names:
        bad = np.flatnonzero(counts != n)
        if len(bad):
            raise UnwritableRowError(f"row {bad[0]}: {counts[bad[0]]} genotypes but the header names {n} "
                                     "samples (without sampleId they are matched by position)")
        return flat
    ids = flat.field(SAMPLE_ID.name)
    if (counts == n).all() and _in_header_order(ids, samples, rows):
        return flat  # the usual case: every row names every sample, in order
    column = np.asarray(pc.fill_null(pc.index_in(ids, value_set=pa.array(list(samples), pa.string())), -1))
    row_of = np.repeat(np.arange(rows), counts)
    if (column < 0).any():
        k = int(np.flatnonzero(column < 0)[0])
        raise UnwritableRowError(f"row {row_of[k]}: sample {ids[k].as_py()!r} is not in the header's samples")
    cell = row_of * n + column
    if len(np.unique(cell)) != len(cell):
        raise UnwritableRowError("a row names the same sample twice in genotypes")
    grid = np.full(rows * n, -1, dtype=np.int64)
    grid[cell] = np.arange(len(cell))
    return flat.take(pa.array(np.maximum(grid, 0), mask=grid < 0))


def _in_header_order(ids: pa.Array, samples: Sequence[str], rows: int) -> bool:
    """Whether ``ids`` (``rows`` lines of ``len(samples)`` each) are ``samples`` on every line
    (a null id passes: it names no other sample); the bytes compared at once, not per string."""
    if ids.null_count:
        expected = pa.array(np.tile(np.array(samples, dtype=object), rows), pa.string())
        return pc.all(pc.equal(ids, expected)).as_py() is not False
    values, offsets, _ = text_buffers(ids)
    encoded = [name.encode("utf-8") for name in samples]
    line = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return (len(values) == rows * len(line)
            and np.array_equal(np.diff(offsets), np.tile([len(name) for name in encoded], rows))
            and np.array_equal(values, np.tile(line, rows)))


def gt_text(genotypes: pa.StructArray) -> pa.Array:
    """GT per genotype: ``0/1``, ``1|0``, ``./.``, ``2``...; null where ``calls`` is null."""
    calls = genotypes.field(CALLS.name)
    phased = genotypes.field(PHASED.name) if PHASED.name in [f.name for f in genotypes.type] else None
    separator = pa.scalar("/") if phased is None else pc.if_else(pc.fill_null(phased, False), "|", "/")
    missing = pc.or_(genotypes.is_null(), calls.is_null())
    fast = _diploid_single_digit(calls, phased, missing)
    if fast is not None:
        return fast
    alleles = as_array(calls)
    lists = pa.ListArray.from_arrays(alleles.offsets, pc.if_else(pc.less(alleles.values, 0), MISSING,
                                                                 pc.cast(alleles.values, pa.string())))
    if isinstance(separator, pa.Scalar):
        separator = pa.array(np.full(len(alleles), "/", dtype=object), pa.string())
    return pc.if_else(missing, pa.scalar(None, pa.string()), pc.binary_join(lists, separator))


def _diploid_single_digit(calls, phased, missing) -> Optional[pa.Array]:
    """The common case built from bytes: every present call has two alleles in -1..9."""
    calls = as_array(calls)
    offsets = np.asarray(calls.offsets, dtype=np.int64)
    absent = np.asarray(missing, dtype=bool)
    if absent.any() or calls.values.null_count or (np.diff(offsets) != 2).any():
        return None
    values = np.asarray(calls.values, dtype=np.int64)[offsets[0]:offsets[-1]]
    if len(values) and (values.min() < -1 or values.max() > 9):
        return None
    text = np.empty((len(calls), 3), dtype=np.uint8)
    pairs = values.reshape(-1, 2) + 1
    text[:, 0], text[:, 2] = _ALLELE_CHARACTER[pairs[:, 0]], _ALLELE_CHARACTER[pairs[:, 1]]
    text[:, 1] = ord("/")
    if phased is not None:
        text[np.asarray(pc.fill_null(phased, False), dtype=bool), 1] = ord("|")
    string_offsets = pa.py_buffer(np.arange(0, 3 * len(calls) + 1, 3, dtype=np.int32).tobytes())
    return pa.StringArray.from_buffers(len(calls), string_offsets, pa.py_buffer(text.tobytes()))


def format_columns(genotypes: pa.StructArray, numbers: bool = False) -> List[Tuple[str, "FormatValues"]]:
    """``(FORMAT key, text per genotype)`` for every key the struct can hold, in order; with
    ``numbers``, integer keys as :class:`~.write_fields.IntLists` (for the compiled layout)."""
    names = [f.name for f in genotypes.type]
    columns = [(GT, gt_text(genotypes))] if CALLS.name in names else []
    present = np.asarray(genotypes.is_valid(), dtype=bool) if genotypes.null_count else None
    for field in genotypes.type:
        if field.name in _SKIPPED:
            continue
        key = VCF_KEY_OF_GLOW_NAME.get(field.name, field.name)
        values = genotypes.field(field.name)
        lists = int_lists(values) if numbers else None
        if lists is not None:
            columns.append((key, lists if present is None else lists.where_valid(present)))
            continue
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            text = joined_list(values, ",")
        else:
            text = plain_text(values)
        if pa.types.is_string(field.type) or pa.types.is_list(field.type) and pa.types.is_string(field.type.value_type):
            check_one_field(text, f"FORMAT {field.name}", ":")
        columns.append((key, pc.if_else(genotypes.is_null(), pa.scalar(None, pa.string()), text)))
    if OTHER_FIELDS.name in names:
        columns += _other_field_columns(genotypes.field(OTHER_FIELDS.name), len(genotypes))
    return columns


def _other_field_columns(maps, count: int) -> List[Tuple[str, pa.Array]]:
    maps = as_array(maps)
    offsets = np.asarray(maps.offsets, dtype=np.int64)
    entries = int(offsets[-1] - offsets[0])
    if entries == 0:
        return []
    keys = maps.keys.slice(int(offsets[0]), entries)
    items = maps.items.slice(int(offsets[0]), entries)
    owner = np.repeat(np.arange(count), np.diff(offsets))
    distinct = pc.unique(keys)  # in order of first appearance
    codes = np.asarray(pc.index_in(keys, value_set=distinct))
    columns = []
    for code, key in enumerate(distinct.to_pylist()):
        chosen = np.flatnonzero(codes == code)
        index = np.full(count, -1, dtype=np.int64)
        index[owner[chosen]] = chosen
        text = pc.fill_null(items, MISSING).take(pa.array(np.maximum(index, 0), mask=index < 0))
        check_one_field(text, f"FORMAT {key}", ":")
        columns.append((key, text))
    return columns


def format_and_samples(genotypes: pa.StructArray, rows: int, samples: int) -> Tuple[pa.Array, pa.Array]:
    """The FORMAT column and the tab-joined sample columns of ``rows`` lines."""
    if samples == 0 or rows == 0:
        return pa.array([MISSING] * rows, pa.string()), pa.array([""] * rows, pa.string())
    compiled = compiled_write_kernels() is not None
    columns = format_columns(genotypes, numbers=compiled)
    if not columns:
        return (pa.array([MISSING] * rows, pa.string()),
                _tab_joined(pa.array([MISSING] * rows * samples, pa.string()), rows, samples))
    row_of = np.repeat(np.arange(rows), samples)
    included = []
    for _, values in columns:
        present = values.valid if isinstance(values, IntLists) else np.asarray(values.is_valid(), dtype=bool)
        included.append(np.bincount(row_of[present], minlength=rows) > 0)
    # a line with no value at all still needs one key: the first (GT when there is one)
    included[0] = included[0] | ~np.any(included, axis=0)
    keys = join_present([pa.array(np.where(line_has, key, None), pa.string())
                         for (key, _), line_has in zip(columns, included)], ":")
    if compiled:
        text = _compiled_sample_text([values for _, values in columns], np.array(included), samples)
        if text is not None:
            return keys, text
        columns = format_columns(genotypes)  # past 2 GiB: the Arrow path, from text
    values = [pc.if_else(pa.array(line_has[row_of]), pc.fill_null(text, MISSING), pa.scalar(None, pa.string()))
              for (_, text), line_has in zip(columns, included)]
    return keys, _tab_joined(join_present(values, ":"), rows, samples)


def _compiled_sample_text(columns: List["FormatValues"], line_has: np.ndarray, samples: int) -> Optional[pa.Array]:
    """The lines' sample columns by :func:`.vcf_write_kernels.sample_lines_text`; None past
    2 GiB of text (a 32-bit string array's limit: the Arrow path answers)."""
    from .vcf_write_kernels import INTEGERS, TEXT, sample_lines_text, text_bound  # noqa: PLC0415 (numba)

    texts = [text_buffers(values) for values in columns if not isinstance(values, IntLists)]
    numbers = [values for values in columns if isinstance(values, IntLists)]
    text_base = np.cumsum([0] + [len(data) for data, _, _ in texts])
    number_base = np.cumsum([0] + [len(lists.values) for lists in numbers])
    offsets, valid, kinds, t, n = [], [], [], 0, 0
    for values in columns:
        if isinstance(values, IntLists):
            offsets.append(values.offsets + number_base[n])
            valid.append(values.valid)
            kinds.append(INTEGERS)
            n += 1
        else:
            offsets.append(texts[t][1] + text_base[t])
            valid.append(texts[t][2])
            kinds.append(TEXT)
            t += 1
    data = np.concatenate([data for data, _, _ in texts]) if texts else np.zeros(0, np.uint8)
    number_values = np.concatenate([lists.values for lists in numbers]) if numbers else np.zeros(0, np.int64)
    number_valid = np.concatenate([lists.element_valid for lists in numbers]) if numbers else np.zeros(0, bool)
    bound = text_bound(len(data), len(number_values), len(valid[0]), len(columns))
    text, line_offsets = sample_lines_text(np.array(kinds, np.int8), data, number_values, number_valid,
                                           np.stack(offsets), np.stack(valid), line_has, samples, bound)
    if line_offsets[-1] >= 2**31:
        return None
    return pa.StringArray.from_buffers(len(line_offsets) - 1, pa.py_buffer(line_offsets.astype(np.int32)),
                                       pa.py_buffer(text))


def _tab_joined(sample_text: pa.Array, rows: int, samples: int) -> pa.Array:
    """Each line's ``samples`` sample texts joined by tabs."""
    offsets = np.arange(0, rows * samples + 1, max(samples, 1), dtype=np.int64)[:rows + 1]
    return pc.binary_join(list_array(offsets, sample_text), "\t")
