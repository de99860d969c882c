"""Glow's variant columns back into VCF data lines, vectorised (the reader is :mod:`.vcf`).

``POS = start + 1`` (VCF is 1-based, VCFv4.3 §1.6.1); ``names``, ``alternateAlleles`` and
``filters`` join with ``;``/``,``/``;`` and are ``.`` when empty; ``qual`` is ``.`` when
null.  INFO holds each ``INFO_<key>`` column (a Flag when true; a list joined with ``,``,
null elements ``.``), then the entries of ``otherInfoFields`` (or ``attributes``), joined
with ``;``, ``.`` when there is none.  When the rows' ``end`` differs from ``start +
len(REF)`` and no INFO END says so, ``END=end`` is added, so the interval is kept.

The index interval of a line is htslib's (``tbx_parse1``): ``[POS-1, END)`` where INFO END
is past POS, else ``[POS-1, POS-1+len(REF))``.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..index.tabix import TBX_VCF, TabixConfig
from .fields import MISSING
from .vcf_info import ATTRIBUTES, END_KEY, INFO_PREFIX, OTHER_INFO_FIELDS
from .vcf_write_genotypes import aligned_genotypes, format_and_samples, samples_of_first_row
from .vcf_write_header import VcfWriteHeader
from .write_fields import (as_array, check_one_field, join_columns, join_present, joined_list, map_entries,
                           nonempty_or_null, optional, plain_text, required, text_or_missing)
from .write_lines import FormattedLines

VCF_TABIX = TabixConfig(TBX_VCF, 1, 2, 0, "#", 0)  # tabix -p vcf


class VcfLineWriter:
    """Rows of Glow's schema (any subset holding contigName, start and referenceAllele) to
    VCF lines under ``header`` (samples from the rows when the header names none)."""

    name = "vcf"
    suffix = ".vcf.gz"
    contig_column, start_column, end_column = "contigName", "start", "end"
    tabix = VCF_TABIX

    def __init__(self, header: VcfWriteHeader):
        self.header = header

    @property
    def nested_per_row(self) -> int:
        """Genotypes per line: the header's samples (0 when they come from the rows)."""
        return len(self.header.samples or ()) if self.header.with_genotypes else 0

    def samples_from(self, batch: pa.RecordBatch) -> Optional[Tuple[str, ...]]:
        """The samples the header lacks, from the batch's first row (None: none to take)."""
        if self.header.samples is not None or "genotypes" not in batch.schema.names:
            return None if self.header.samples is not None else ()
        return samples_of_first_row(batch.column("genotypes"))

    def header_text(self, samples=None) -> str:
        return self.header.text(samples)

    def format(self, batch: pa.RecordBatch, samples: Tuple[str, ...] = ()) -> FormattedLines:
        contig = required(batch, "contigName", "CHROM")
        start = required(batch, "start", "POS - 1")
        reference = required(batch, "referenceAllele", "REF")
        check_one_field(contig, "contigName")
        check_one_field(reference, "referenceAllele")
        start = np.asarray(start, dtype=np.int64)
        ref_end = start + np.asarray(pc.utf8_length(reference), dtype=np.int64)
        info, info_end = self._info(batch, start, ref_end)
        columns = [contig, pa.array(start + 1).cast(pa.string()),
                   self._list(batch, "names", ";"), reference, self._list(batch, "alternateAlleles", ","),
                   text_or_missing(optional(batch, "qual")) if "qual" in batch.schema.names
                   else pa.array([MISSING] * len(batch), pa.string()),
                   self._list(batch, "filters", ";"), info]
        names = self.header.samples if self.header.samples is not None else samples
        if self.header.with_genotypes and names:
            genotypes = aligned_genotypes(batch.column("genotypes"), names)
            columns += list(format_and_samples(genotypes, len(batch), len(names)))
        end = np.where(info_end > start, info_end, np.maximum(ref_end, start + 1))
        return FormattedLines(join_columns(columns), contig, start, end)

    @staticmethod
    def _list(batch: pa.RecordBatch, name: str, separator: str) -> pa.Array:
        column = optional(batch, name)
        if column is None:
            return pa.array([MISSING] * len(batch), pa.string())
        text = joined_list(column, separator)
        check_one_field(text, name, ";" if separator == "," else "")
        return pc.fill_null(nonempty_or_null(text), MISSING)

    def _info(self, batch: pa.RecordBatch, start: np.ndarray, ref_end: np.ndarray) -> Tuple[pa.Array, np.ndarray]:
        """The INFO column, and the END it states per line (0 where none)."""
        entries: List[pa.Array] = []
        info_end = np.zeros(len(batch), dtype=np.int64)
        for field in batch.schema:
            if field.name.startswith(INFO_PREFIX):
                key = field.name[len(INFO_PREFIX):]
                entries.append(_info_entry(key, as_array(batch.column(field.name)), field.type))
                if key == END_KEY:
                    info_end = _end_values(batch.column(field.name), info_end)
        for name in (OTHER_INFO_FIELDS, ATTRIBUTES):
            column = optional(batch, name)
            if column is not None:
                entries.append(map_entries(column, "=", ";"))
                if INFO_PREFIX + END_KEY not in batch.schema.names:
                    info_end = _end_values(pc.map_lookup(column, END_KEY, "first"), info_end)
        end = optional(batch, "end")
        if end is not None:
            wanted = np.asarray(pc.fill_null(end, 0), dtype=np.int64)
            added = (info_end == 0) & (wanted != ref_end) & np.asarray(end.is_valid(), dtype=bool)
            if added.any():
                entries.append(pa.array(np.where(added, np.char.add("END=", wanted.astype(str)), None),
                                        pa.string()))
                info_end = np.where(added, wanted, info_end)
        if not entries:
            return pa.array([MISSING] * len(batch), pa.string()), info_end
        info = join_present([nonempty_or_null(entry) for entry in entries], ";")
        return pc.fill_null(nonempty_or_null(info), MISSING), info_end


def _info_entry(key: str, column: pa.Array, type_: pa.DataType) -> pa.Array:
    """``KEY=value`` per row, ``KEY`` for a true flag, null when absent."""
    if pa.types.is_boolean(type_):
        return pc.if_else(pc.fill_null(column, False), key, pa.scalar(None, pa.string()))
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        text = nonempty_or_null(joined_list(column, ","))
        if pa.types.is_string(type_.value_type):
            check_one_field(text, f"INFO {key}", ";")
    else:
        text = plain_text(column)
        if pa.types.is_string(type_):
            check_one_field(text, f"INFO {key}", ";")
    return pc.binary_join_element_wise(pa.scalar(key + "="), text, "")


def _end_values(column, current: np.ndarray) -> np.ndarray:
    """``current`` with the END values ``column`` holds (text or numbers) where it has one."""
    column = as_array(column)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):  # END declared Number != 1
        offsets = np.asarray(column.offsets, dtype=np.int64)
        has = np.diff(offsets) > 0
        column = column.values.take(pa.array(np.where(has, offsets[:-1], 0), mask=~has)) if len(column.values) \
            else pa.nulls(len(column), column.type.value_type)
    if not pa.types.is_integer(column.type):
        column = pc.cast(pc.if_else(pc.match_substring_regex(column, r"^-?\d+$"), column,
                                    pa.scalar(None, column.type)), pa.int64())
    values = np.asarray(pc.fill_null(column, 0), dtype=np.int64)
    return np.where(values != 0, values, current)

