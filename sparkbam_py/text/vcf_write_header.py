"""The header of a written VCF: a source file's (``headerFrom``), or built from the schema.

Built from the schema as Glow does (``VCFSchemaInferrer.headerLinesFromSchema``): one
``##INFO`` per ``INFO_<key>`` column and one ``##FORMAT`` per genotype field (``calls`` and
``phased`` are ``GT``; Glow's readable names such as ``depth`` go back to ``DP``).  Number,
Type and Description come from the field's metadata where a Spark schema carries Glow's
keys (``vcf_header_count``, ``vcf_header_description``), else from the reserved keys of
VCFv4.3 §1.6.1 (INFO) and §1.6.2 (FORMAT), else from the Arrow type (a list is ``.``, a
boolean a Flag of Number 0, anything else 1).  A given header keeps every line it has and
gains the INFO/FORMAT lines the columns need and it lacks.

The ``#CHROM`` line names the header's samples; without any, the samples the rows name.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import pyarrow as pa

from .vcf_genotypes import CALLS, GT, OTHER_FIELDS, PHASED, SAMPLE_ID, VCF_KEY_OF_GLOW_NAME
from .vcf_header import FIXED_COLUMNS, parse_vcf_header
from .vcf_info import INFO_PREFIX
from .write_fields import UnwritableRowError

FILEFORMAT = "##fileformat=VCFv4.2"  # what Glow and htsjdk write; nothing here needs 4.3
PASS_LINE = '##FILTER=<ID=PASS,Description="All filters passed">'
# Glow's keys in a Spark field's metadata (VCFSchemaInferrer).
COUNT_KEY, DESCRIPTION_KEY = "vcf_header_count", "vcf_header_description"
# Where the Spark layer puts a field's Spark metadata (JSON) in Arrow field metadata.
SPARK_METADATA = b"spark.metadata"
# VCFv4.3 §1.6.1 Table 1 (INFO) and §1.6.2 Table 2 (FORMAT): Number, Type, Description.
RESERVED_INFO = {
    "AA": ("1", "String", "Ancestral allele"), "AC": ("A", "Integer", "Allele count in genotypes"),
    "AD": ("R", "Integer", "Total read depth for each allele"), "AF": ("A", "Float", "Allele frequency"),
    "AN": ("1", "Integer", "Total number of alleles in called genotypes"), "DB": ("0", "Flag", "dbSNP membership"),
    "DP": ("1", "Integer", "Combined depth across samples"), "END": ("1", "Integer", "End position"),
    "MQ": ("1", "Float", "RMS mapping quality"), "NS": ("1", "Integer", "Number of samples with data"),
    "SB": ("4", "Integer", "Strand bias"), "SOMATIC": ("0", "Flag", "Somatic mutation"),
    "VALIDATED": ("0", "Flag", "Validated by follow-up experiment"),
}
RESERVED_FORMAT = {
    "AD": ("R", "Integer", "Read depth for each allele"), "DP": ("1", "Integer", "Read depth"),
    "EC": ("A", "Integer", "Expected alternate allele counts"), "FT": ("1", "String", "Filter indicating if this genotype was called"),
    "GL": ("G", "Float", "Genotype likelihoods"), "GP": ("G", "Float", "Genotype posterior probabilities"),
    "GQ": ("1", "Integer", "Conditional genotype quality"), "GT": ("1", "String", "Genotype"),
    "HQ": ("2", "Integer", "Haplotype quality"), "MQ": ("1", "Integer", "RMS mapping quality"),
    "PL": ("G", "Integer", "Phred-scaled genotype likelihoods"), "PS": ("1", "Integer", "Phase set"),
}
_NOT_FORMAT_FIELDS = (SAMPLE_ID.name, PHASED.name, CALLS.name, OTHER_FIELDS.name)


@dataclass(frozen=True)
class VcfWriteHeader:
    """The meta lines (``##...``) and, when known before the rows, the samples."""

    meta_lines: Tuple[str, ...]
    samples: Optional[Tuple[str, ...]]  # None: taken from the rows
    with_genotypes: bool  # whether the rows have genotypes (a FORMAT column when there are samples)

    def text(self, samples: Optional[Sequence[str]] = None) -> str:
        """The whole header, ``samples`` (or the header's) on the ``#CHROM`` line."""
        names = list(self.samples if self.samples is not None else samples or ())
        columns = "#" + "\t".join(FIXED_COLUMNS + (("FORMAT", *names) if names else ()))
        return "\n".join(self.meta_lines + (columns,)) + "\n"


def vcf_write_header(schema: pa.Schema, source_lines: Optional[Sequence[str]] = None) -> VcfWriteHeader:
    """The header for rows of ``schema``: ``source_lines`` (a VCF's header lines) completed
    with the declarations the columns need, or one built from the schema alone."""
    with_genotypes = "genotypes" in schema.names
    if source_lines is None:
        meta = [FILEFORMAT, PASS_LINE]
        samples = None
    else:
        lines = [line.rstrip("\r") for line in source_lines if line.strip()]
        parsed = parse_vcf_header(lines)
        meta = [line for line in lines if line.startswith("##")]
        samples = tuple(parsed.samples) or None  # a sites-only header: the rows' samples, if any
    declared = parse_vcf_header(meta)
    meta += [_line("INFO", key, field) for key, field in _info_fields(schema) if key not in declared.info]
    if with_genotypes:
        meta += [_line("FORMAT", key, field) for key, field in _format_fields(schema)
                 if key not in declared.formats]
    return VcfWriteHeader(tuple(meta), samples, with_genotypes)


def _info_fields(schema: pa.Schema) -> List[Tuple[str, pa.Field]]:
    return [(field.name[len(INFO_PREFIX):], field) for field in schema if field.name.startswith(INFO_PREFIX)]


def _format_fields(schema: pa.Schema) -> List[Tuple[str, Optional[pa.Field]]]:
    genotype = schema.field("genotypes").type
    if not (pa.types.is_list(genotype) or pa.types.is_large_list(genotype)) or \
            not pa.types.is_struct(genotype.value_type):
        raise UnwritableRowError(f"genotypes must be an array of structs (Glow's schema), not {genotype}")
    fields = [genotype.value_type.field(i) for i in range(genotype.value_type.num_fields)]
    names = [field.name for field in fields]
    found: List[Tuple[str, Optional[pa.Field]]] = [(GT, None)] if CALLS.name in names else []
    return found + [(VCF_KEY_OF_GLOW_NAME.get(field.name, field.name), field) for field in fields
                    if field.name not in _NOT_FORMAT_FIELDS]


def _line(kind: str, key: str, field: Optional[pa.Field]) -> str:
    number, type_, description = _definition(kind, key, field)
    return f'##{kind}=<ID={key},Number={number},Type={type_},Description="{_escape(description)}">'


def _definition(kind: str, key: str, field: Optional[pa.Field]) -> Tuple[str, str, str]:
    reserved = (RESERVED_INFO if kind == "INFO" else RESERVED_FORMAT).get(key)
    if field is None:  # GT
        return reserved
    metadata = spark_metadata(field)
    value_type = field.type.value_type if pa.types.is_list(field.type) or pa.types.is_large_list(field.type) \
        else field.type
    type_ = _vcf_type(value_type, key)
    if reserved and reserved[1] == type_:
        number, description = reserved[0], reserved[2]
    else:
        number = "0" if type_ == "Flag" else ("." if value_type is not field.type else "1")
        description = ""
    number = str(metadata.get(COUNT_KEY, number)).replace("UNBOUNDED", ".")
    return number, type_, str(metadata.get(DESCRIPTION_KEY, description))


def _vcf_type(value_type: pa.DataType, key: str) -> str:
    if pa.types.is_boolean(value_type):
        return "Flag"
    if pa.types.is_integer(value_type):
        return "Integer"
    if pa.types.is_floating(value_type):
        return "Float"
    if pa.types.is_string(value_type) or pa.types.is_large_string(value_type):
        return "String"
    raise UnwritableRowError(f"VCF field {key} has type {value_type}, which VCF cannot hold")


def spark_metadata(field: pa.Field) -> Mapping[str, object]:
    """The Spark metadata the Spark layer attached to an Arrow field (empty when none)."""
    raw: Dict[bytes, bytes] = field.metadata or {}
    return json.loads(raw[SPARK_METADATA]) if SPARK_METADATA in raw else {}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
