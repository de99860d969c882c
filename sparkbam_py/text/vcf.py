"""VCF data lines into Glow's variant schema, vectorised.

Columns (projectglow/glow ``VariantSchemas`` and ``VCFSchemaInferrer``; Glow docs "Read and
Write VCF, Plink, and BGEN with Spark"): ``contigName``, ``start`` (0-based), ``end``
(0-based exclusive: ``start + len(REF)``, or INFO ``END`` when present), ``names``,
``referenceAllele``, ``alternateAlleles``, ``qual``, ``filters``, ``splitFromMultiAllelic``
(always false on read), one ``INFO_<key>`` per header INFO line, and ``genotypes``.

Options (keys case-insensitive): ``includeSampleIds`` (true), ``flattenInfoFields`` (true;
false gives one ``attributes`` map<string,string>, Glow's name), ``samples`` (comma-separated
subset, in the order given), ``mode`` (FAILFAST or PERMISSIVE).

Undeclared INFO keys land in ``otherInfoFields`` and undeclared FORMAT keys in each
genotype's ``otherFields`` (both map<string,string> of the raw text), so no value is
dropped; Glow's fast reader skips them.  ``.`` for ID, ALT or FILTER gives an empty array.
"""
from __future__ import annotations

from typing import List, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from .fields import MISSING, TabFields, cast_text, missing_to_null
from .format import LineSource, as_string_array, bool_option, get_option, with_corrupt_column
from .problems import RowProblems, finish_batch
from .vcf_genotypes import genotype_fields, genotypes_column
from .vcf_header import FIRST_SAMPLE_COLUMN, FIXED_COLUMNS, VcfHeader, parse_vcf_header
from .vcf_info import (ATTRIBUTES, INFO_PREFIX, OTHER_INFO_FIELDS, all_info_map, info_columns,
                       info_end, other_info_map, split_info)

_STRINGS = pa.list_(pa.string())
_INFO_MAP = pa.map_(pa.string(), pa.string())
BASE_FIELDS = [
    pa.field("contigName", pa.string()),
    pa.field("start", pa.int64()),
    pa.field("end", pa.int64()),
    pa.field("names", _STRINGS),
    pa.field("referenceAllele", pa.string()),
    pa.field("alternateAlleles", _STRINGS),
    pa.field("qual", pa.float64()),
    pa.field("filters", _STRINGS),
    pa.field("splitFromMultiAllelic", pa.bool_()),
]


class VcfFormat:
    """The ``vcf`` format of the :class:`~sparkbam_py.text.format.TextFormat` protocol."""

    name = "vcf"
    contig_column = "contigName"
    start_column = "start"

    def parse_header(self, header_lines: List[str], options: Mapping) -> VcfHeader:
        return parse_vcf_header(header_lines, get_option(options, "path"))

    def schema(self, header: VcfHeader, options: Mapping) -> pa.Schema:
        fields = list(BASE_FIELDS)
        if bool_option(options, "flattenInfoFields", True):
            fields += [pa.field(INFO_PREFIX + d.id, d.arrow_type) for d in header.info.values()]
            fields.append(pa.field(OTHER_INFO_FIELDS, _INFO_MAP))
        else:
            fields.append(pa.field(ATTRIBUTES, _INFO_MAP))
        genotype = pa.struct(genotype_fields(header, bool_option(options, "includeSampleIds", True)))
        fields.append(pa.field("genotypes", pa.list_(genotype)))
        return with_corrupt_column(pa.schema(fields), options)

    def parse(self, lines: pa.Array, header: VcfHeader, options: Mapping,
              where: LineSource) -> pa.RecordBatch:
        lines = as_string_array(lines)
        fields = TabFields(lines)
        problems = RowProblems(len(lines))
        _check_column_counts(fields, header, problems)
        columns = _fixed_columns(fields, problems)
        entries = split_info(fields.column(len(FIXED_COLUMNS) - 1))
        end = info_end(entries, problems)
        columns[2] = pc.if_else(pc.is_null(end), columns[2], end)
        if bool_option(options, "flattenInfoFields", True):
            definitions = list(header.info.values())
            columns += info_columns(entries, definitions, problems)
            columns.append(other_info_map(entries, [d.id for d in definitions]))
        else:
            columns.append(all_info_map(entries))
        alt_counts = np.asarray(pc.fill_null(pc.list_value_length(columns[5]), 0), dtype=np.int64)
        columns.append(genotypes_column(fields, header, sample_columns(header, options),
                                        bool_option(options, "includeSampleIds", True),
                                        alt_counts, problems))
        return finish_batch(columns, self.schema(header, options), problems, lines, options, where)


def sample_columns(header: VcfHeader, options: Mapping) -> np.ndarray:
    """Indices (into the header's samples) of the samples to keep, in the order asked."""
    chosen = get_option(options, "samples")
    if chosen is None:
        return np.arange(len(header.samples))
    names = [s.strip() for s in chosen.split(",")] if isinstance(chosen, str) else list(chosen)
    names = [n for n in names if n]  # "" selects no sample (a sites-only read)
    index = {name: i for i, name in enumerate(header.samples)}
    unknown = [n for n in names if n not in index]
    if unknown:
        raise ConfigError(f"option samples names samples the VCF header lacks: {unknown[:5]}")
    return np.array([index[n] for n in names], dtype=np.int64)


def _check_column_counts(fields: TabFields, header: VcfHeader, problems: RowProblems) -> None:
    problems.flag(fields.counts < len(FIXED_COLUMNS), "fewer than 8 tab-separated columns")
    if header.samples:
        expected = FIRST_SAMPLE_COLUMN + len(header.samples)
        problems.flag(fields.counts != expected,
                      f"not {expected} columns (FORMAT and {len(header.samples)} samples)")
    else:
        problems.flag(fields.counts > FIRST_SAMPLE_COLUMN, "sample columns but no sample names in the header")


def _fixed_columns(fields: TabFields, problems: RowProblems) -> list:
    """contigName, start, end (from REF), names, referenceAllele, alternateAlleles, qual,
    filters, splitFromMultiAllelic."""
    contig = fields.column(0)
    position, bad = cast_text(fields.column(1), pa.int64())
    if bad is not None:
        problems.flag(bad, "POS is not an integer")
    start = pc.subtract(position, 1)
    reference = fields.column(3)
    end = pc.add(start, pc.utf8_length(reference).cast(pa.int64()))
    qual, bad = cast_text(missing_to_null(fields.column(5)), pa.float64())
    if bad is not None:
        problems.flag(bad, "QUAL is not a number")
    alternates = _split_or_empty(fields.column(4), ",")
    _check_alleles(reference, alternates, problems)
    false = pa.array(np.zeros(fields.num_rows, dtype=bool))
    return [contig, start, end, _split_or_empty(fields.column(2), ";"), reference,
            alternates, qual, _split_or_empty(fields.column(6), ";"), false]


def _check_alleles(reference: pa.Array, alternates: pa.Array, problems: RowProblems) -> None:
    """VCFv4.3 §1.6.1: REF is non-empty; ALT is '.' or comma-separated non-empty alleles."""
    problems.flag(np.asarray(pc.fill_null(pc.equal(reference, ""), False), dtype=bool), "REF is empty")
    empty = np.asarray(pc.equal(alternates.values, ""), dtype=bool)
    offsets = np.asarray(alternates.offsets, dtype=np.int64)
    element_row = np.repeat(np.arange(len(alternates)), np.diff(offsets))
    problems.flag(element_row[empty[offsets[0]:offsets[-1]]], "an ALT allele is empty")


def _split_or_empty(values: pa.Array, separator: str) -> pa.Array:
    """``a;b`` -> [a, b]; ``.`` -> [] (VCFv4.3 §1.6.1: missing ID/ALT/FILTER)."""
    lists = pc.split_pattern(values, separator)
    empty = pa.scalar([], lists.type)
    return pc.if_else(pc.equal(values, MISSING), empty, lists)


VCF = VcfFormat()
