"""VCF sample columns into Glow's ``genotypes`` array of structs, vectorised over all samples.

All selected sample fields of a batch are gathered into one flat array (line-major), split
on ``:`` once, and each FORMAT key is then a gather at the key's position in *that line's*
FORMAT: positions come from a small table per distinct FORMAT string, so a uniform FORMAT
and a mix of FORMATs (gVCF blocks beside variant sites) take the same vectorised path.
A trailing field a sample omits (VCFv4.3 §1.6.2: trailing fields may be dropped) is null.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .fields import MISSING, TabFields, cast_text, list_array, map_from_entries
from .problems import RowProblems
from .vcf_header import FIRST_SAMPLE_COLUMN, FORMAT_COLUMN, VcfHeader
from .vcf_info import typed_values

GT = "GT"
# Glow's GenotypeFields.aliases (projectglow/glow core/.../common/schemas.scala).
GLOW_GENOTYPE_NAMES: Dict[str, str] = {
    "DP": "depth", "FT": "filters", "GL": "genotypeLikelihoods", "PL": "phredLikelihoods",
    "GP": "posteriorProbabilities", "GQ": "conditionalQuality", "HQ": "haplotypeQualities",
    "EC": "expectedAlleleCounts", "MQ": "mappingQuality", "AD": "alleleDepths",
}
VCF_KEY_OF_GLOW_NAME: Dict[str, str] = {name: key for key, name in GLOW_GENOTYPE_NAMES.items()}
SAMPLE_ID = pa.field("sampleId", pa.string())
PHASED = pa.field("phased", pa.bool_())
CALLS = pa.field("calls", pa.list_(pa.int32()))
# FORMAT keys the header does not declare, raw text (Glow's GenotypeFields.otherFields).
OTHER_FIELDS = pa.field("otherFields", pa.map_(pa.string(), pa.string()))
MISSING_CALL = -1  # Glow: a '.' allele is -1 in calls


def genotype_fields(header: VcfHeader, include_sample_ids: bool) -> List[pa.Field]:
    """The struct fields of one genotype, in header order (GT gives phased and calls)."""
    fields = [SAMPLE_ID] if include_sample_ids else []
    if GT not in header.formats:
        fields += [PHASED, CALLS]
    for definition in header.formats.values():
        if definition.id == GT:
            fields += [PHASED, CALLS]
        else:
            name = GLOW_GENOTYPE_NAMES.get(definition.id, definition.id)
            fields.append(pa.field(name, definition.arrow_type))
    return fields + [OTHER_FIELDS]


class SampleFields:
    """The ``:``-separated values of every selected sample of every line, flattened."""

    def __init__(self, fields: TabFields, sample_columns: np.ndarray, all_samples: int):
        num_rows, per_row = fields.num_rows, len(sample_columns)
        self.row_of = np.repeat(np.arange(num_rows), per_row)
        column = np.tile(FIRST_SAMPLE_COLUMN + sample_columns, num_rows)
        if 2 * per_row < all_samples:  # a small subset: split only the chosen samples
            parts = pc.split_pattern(fields.gather(column, self.row_of), ":")
            offsets = np.asarray(parts.offsets, dtype=np.int64)
            self.starts, self.lengths, self.values = offsets[:-1], np.diff(offsets), parts.values
        else:
            self._split_in_place(fields, column)
        encoded = pc.dictionary_encode(fields.column(FORMAT_COLUMN))
        self.format_keys = [f.split(":") for f in encoded.dictionary.to_pylist()]
        codes = np.asarray(pc.fill_null(encoded.indices, -1), dtype=np.int64)
        self.format_of = codes[self.row_of]  # -1 (no FORMAT) indexes the table's last slot

    def _split_in_place(self, fields: TabFields, column: np.ndarray) -> None:
        """Split every tab field on ':' where it lies (no copy of the sample text first);
        the few fixed columns split along cost less than gathering the samples would."""
        parts = pc.split_pattern(fields.values, ":")
        part_offsets = np.asarray(parts.offsets, dtype=np.int64)
        present = column < fields.counts[self.row_of]
        field_index = np.where(present, fields.offsets[:-1][self.row_of] + column, 0)
        self.starts = part_offsets[field_index]
        self.lengths = np.where(present, part_offsets[field_index + 1] - self.starts, 0)
        self.values = parts.values

    def positions(self, key: str) -> np.ndarray:
        """Where ``key`` sits in each sample's values (-1 where its FORMAT lacks it)."""
        table = np.array([keys.index(key) if key in keys else -1 for keys in self.format_keys]
                         + [-1], dtype=np.int64)
        return table[self.format_of]

    def text_at(self, position: np.ndarray) -> pa.Array:
        """Each sample's value at ``position`` (null where absent or dropped)."""
        absent = (position < 0) | (position >= self.lengths)
        if len(self.values) == 0:
            return pa.nulls(len(position), pa.string())
        if not absent.any():
            return self.values.take(pa.array(self.starts + position))
        return self.values.take(pa.array(np.where(absent, 0, self.starts + position), mask=absent))

    def field(self, key: str) -> pa.Array:
        return self.text_at(self.positions(key))


def genotypes_column(fields: TabFields, header: VcfHeader, sample_columns: Sequence[int],
                     include_sample_ids: bool, alt_counts: np.ndarray,
                     problems: RowProblems) -> pa.Array:
    """The ``genotypes`` list<struct> column: one entry per selected sample per line.

    ``alt_counts`` (ALT alleles per line) bounds the allele indices a GT may name.
    """
    struct_fields = genotype_fields(header, include_sample_ids)
    sample_columns = np.asarray(sample_columns, dtype=np.int64)
    samples = SampleFields(fields, sample_columns, len(header.samples))
    calls, phased = _calls_and_phasing(samples.field(GT), samples.row_of, problems)
    _check_allele_indices(calls, samples.row_of, alt_counts, problems)
    arrays = []
    for spec in struct_fields:
        if spec.name == SAMPLE_ID.name:
            names = pa.array([header.samples[i] for i in sample_columns], pa.string())
            arrays.append(names.take(pa.array(np.tile(np.arange(len(sample_columns)), fields.num_rows))))
        elif spec.name == PHASED.name:
            arrays.append(phased)
        elif spec.name == CALLS.name:
            arrays.append(calls)
        elif spec.name == OTHER_FIELDS.name:
            arrays.append(_other_fields(samples, header))
        else:
            definition = header.formats[_format_key(spec.name)]
            position = samples.positions(definition.id)
            if (position < 0).all():  # no FORMAT of this batch has the key
                arrays.append(pa.nulls(len(position), definition.arrow_type))
                continue
            arrays.append(typed_values(samples.text_at(position), definition, samples.row_of,
                                       problems, f"FORMAT {definition.id}"))
    struct = pa.StructArray.from_arrays(arrays, fields=struct_fields)
    per_row = len(sample_columns)
    offsets = np.arange(0, fields.num_rows * per_row + 1, max(per_row, 1), dtype=np.int64)
    if per_row == 0:
        offsets = np.zeros(fields.num_rows + 1, dtype=np.int64)
    return list_array(offsets, struct)


def _format_key(field_name: str) -> str:
    return VCF_KEY_OF_GLOW_NAME.get(field_name, field_name)


def _calls_and_phasing(gt: pa.Array, row_of: np.ndarray, problems: RowProblems):
    """GT text (``0/1``, ``1|0``, ``.``, ``./.``, ``2``, ``0/1/2``) as calls and phased.

    phased is true when no separator is ``/``: VCFv4.4 §1.6.2 makes the first allele's
    phasing implicit (phased when all others are), so a haploid call is phased, as in htslib.
    """
    fast = _diploid_single_digit_calls(gt)
    if fast is not None:
        return fast
    alleles = pc.split_pattern(pc.replace_substring(gt, "|", "/"), "/")
    elements = alleles.values
    elements = pc.if_else(pc.equal(elements, MISSING), pa.scalar("-1", elements.type), elements)
    numbers, bad = cast_text(elements, pa.int32())
    offsets = np.asarray(alleles.offsets, dtype=np.int64)
    if bad is not None:
        element_row = row_of[np.repeat(np.arange(len(gt)), np.diff(offsets))]
        problems.flag(element_row[bad], "GT has an allele that is not an integer")
    calls = list_array(offsets, numbers, mask=gt.is_null())
    phased = pc.invert(pc.match_substring(gt, "/"))
    return calls, phased


def _check_allele_indices(calls: pa.Array, row_of: np.ndarray, alt_counts: np.ndarray,
                          problems: RowProblems) -> None:
    """Flag GTs naming an allele the line does not have (htslib would make it missing)."""
    offsets = np.asarray(calls.offsets, dtype=np.int64)
    values = np.asarray(pc.fill_null(calls.values, MISSING_CALL), dtype=np.int64)
    values = values[offsets[0]:offsets[-1]]
    element_row = np.repeat(row_of, np.diff(offsets))
    problems.flag(element_row[values > alt_counts[element_row]],
                  "GT names an allele index beyond the line's ALT alleles")


_DIGIT_VALUE = np.full(256, -2, dtype=np.int32)
_DIGIT_VALUE[ord("0"):ord("9") + 1] = np.arange(10)
_DIGIT_VALUE[ord(".")] = MISSING_CALL


def _diploid_single_digit_calls(gt: pa.Array):
    """The common case read straight from the bytes: every GT is ``a/b`` or ``a|b`` with
    one-character alleles (digits or '.'); None when any GT is otherwise."""
    if gt.null_count or len(gt) == 0 or not pa.types.is_string(gt.type):
        return None
    offsets = np.frombuffer(gt.buffers()[1], dtype=np.int32)[gt.offset:gt.offset + len(gt) + 1]
    if offsets[-1] - offsets[0] != 3 * len(gt) or (np.diff(offsets) != 3).any():
        return None
    data = np.frombuffer(gt.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(-1, 3)
    alleles = _DIGIT_VALUE[data[:, [0, 2]]]
    separator = data[:, 1]
    if (alleles == -2).any() or not np.isin(separator, (ord("/"), ord("|"))).all():
        return None
    calls = list_array(np.arange(0, 2 * len(gt) + 1, 2, dtype=np.int64), pa.array(alleles.ravel()))
    return calls, pa.array(separator == ord("|"))


def _other_fields(samples: SampleFields, header: VcfHeader) -> pa.MapArray:
    """The values of FORMAT keys the header does not declare, per sample."""
    owners, keys, values = [], [], []
    for code, format_keys in enumerate(samples.format_keys):
        for position, key in enumerate(format_keys):
            if key in header.formats or key == GT:
                continue
            chosen = np.flatnonzero((samples.format_of == code) & (samples.lengths > position))
            owners.append(chosen)
            keys.append(pa.array([key] * len(chosen), pa.string()))
            values.append(samples.text_at(np.full(len(samples.lengths), position))
                          .take(pa.array(chosen)))
    if not owners:
        empty = pa.array([], pa.string())
        return map_from_entries(np.zeros(0, np.int64), empty, empty, len(samples.lengths))
    return map_from_entries(np.concatenate(owners), pa.concat_arrays(keys),
                            pa.concat_arrays(values), len(samples.lengths))
