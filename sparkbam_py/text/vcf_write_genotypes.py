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

from typing import List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fields import MISSING, list_array
from .vcf_genotypes import CALLS, GLOW_GENOTYPE_NAMES, GT, OTHER_FIELDS, PHASED, SAMPLE_ID
from .write_fields import UnwritableRowError, as_array, check_one_field, join_columns, join_present, joined_list, plain_text

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
    if (counts == n).all() and pc.all(pc.equal(ids, pa.array(np.tile(np.array(samples, dtype=object), rows),
                                                              pa.string()))).as_py() is not False:
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


def format_columns(genotypes: pa.StructArray) -> List[Tuple[str, pa.Array]]:
    """``(FORMAT key, text per genotype)`` for every key the struct can hold, in order."""
    names = [f.name for f in genotypes.type]
    columns = [(GT, gt_text(genotypes))] if CALLS.name in names else []
    for field in genotypes.type:
        if field.name in _SKIPPED:
            continue
        values = genotypes.field(field.name)
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            text = joined_list(values, ",")
        else:
            text = plain_text(values)
        if pa.types.is_string(field.type) or pa.types.is_list(field.type) and pa.types.is_string(field.type.value_type):
            check_one_field(text, f"FORMAT {field.name}", ":")
        key = {name: key for key, name in GLOW_GENOTYPE_NAMES.items()}.get(field.name, field.name)
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
    columns = format_columns(genotypes)
    row_of = np.repeat(np.arange(rows), samples)
    included = []
    for _, text in columns:
        present = np.asarray(text.is_valid(), dtype=bool)
        included.append(np.bincount(row_of[present], minlength=rows) > 0)
    if columns:  # a line with no value at all still needs one key: the first (GT when there is one)
        nothing = ~np.any(included, axis=0)
        included[0] = included[0] | nothing
    keys, values = [], []
    for (key, text), line_has in zip(columns, included):
        keys.append(pa.array(np.where(line_has, key, None), pa.string()))
        values.append(pc.if_else(pa.array(line_has[row_of]), pc.fill_null(text, MISSING),
                                 pa.scalar(None, pa.string())))
    if not columns:
        return pa.array([MISSING] * rows, pa.string()), pa.array([MISSING] * rows * samples, pa.string())
    return join_present(keys, ":"), join_present(values, ":")


def sample_columns(sample_text: pa.Array, rows: int, samples: int) -> pa.Array:
    """Each line's ``samples`` sample texts joined by tabs."""
    offsets = np.arange(0, rows * samples + 1, max(samples, 1), dtype=np.int64)[:rows + 1]
    return pc.binary_join(list_array(offsets, sample_text), "\t")
