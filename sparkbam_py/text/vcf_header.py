"""The VCF header: INFO and FORMAT definitions, sample names, and the Arrow types they imply.

Typing follows Glow's ``VCFSchemaInferrer.typesForHeader`` (projectglow/glow,
``core/src/main/scala/io/projectglow/vcf/VCFSchemaInferrer.scala``): Integer -> int,
Float -> double, Flag -> boolean, String/Character -> string; a fixed ``Number`` of 0 or 1
gives a scalar, anything else (``A``, ``R``, ``G``, ``.``, 2, ...) an array.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pyarrow as pa

from ..errors import CorruptDataError

# VCFv4.3 §1.3: the eight fixed columns, then FORMAT and one column per sample.
FIXED_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
FORMAT_COLUMN = len(FIXED_COLUMNS)
FIRST_SAMPLE_COLUMN = FORMAT_COLUMN + 1

_ARROW_OF_TYPE = {
    "Integer": pa.int32(),
    "Float": pa.float64(),
    "Flag": pa.bool_(),
    "String": pa.string(),
    "Character": pa.string(),
}
# ##INFO=<ID=DP,Number=1,Type=Integer,Description="a, b"> : key=value pairs, values quoted or bare.
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^,>]*)')
_STRUCTURED = re.compile(r"^##(INFO|FORMAT)=<(.*)>\s*$")


@dataclass(frozen=True)
class FieldDef:
    """One ``##INFO`` or ``##FORMAT`` line: its ID, Number and Type."""

    id: str
    number: str = "."
    type: str = "String"

    @property
    def is_flag(self) -> bool:
        return self.type == "Flag"

    @property
    def is_scalar(self) -> bool:
        """A fixed count of at most one (Glow: ``isFixedCount && getCount <= 1``)."""
        return self.is_flag or (self.number.isdigit() and int(self.number) <= 1)

    @property
    def value_type(self) -> pa.DataType:
        return _ARROW_OF_TYPE.get(self.type, pa.string())

    @property
    def arrow_type(self) -> pa.DataType:
        return self.value_type if self.is_scalar else pa.list_(self.value_type)


@dataclass
class VcfHeader:
    """What a VCF's header says about its data lines."""

    info: Dict[str, FieldDef] = field(default_factory=dict)
    formats: Dict[str, FieldDef] = field(default_factory=dict)
    samples: List[str] = field(default_factory=list)
    lines: List[str] = field(default_factory=list)
    contig_column: str = "contigName"
    start_column: str = "start"


def parse_vcf_header(header_lines: List[str], path: Optional[str] = None) -> VcfHeader:
    """Read INFO/FORMAT definitions (first definition of an ID wins) and the sample names."""
    header = VcfHeader(lines=list(header_lines))
    for line in header_lines:
        match = _STRUCTURED.match(line)
        if match:
            definition = _field_def(match.group(2))
            if definition is not None:
                table = header.info if match.group(1) == "INFO" else header.formats
                table.setdefault(definition.id, definition)
        elif line.startswith("#CHROM"):
            # A trailing tab (seen in htsjdk's HiSeq.10000.vcf) names no sample.
            header.samples = _sample_names(line.rstrip("\r").rstrip("\t"), path)
    return header


def _field_def(body: str) -> Optional[FieldDef]:
    pairs = {key: value.strip('"') for key, value in _PAIR.findall(body)}
    if "ID" not in pairs:
        return None
    return FieldDef(pairs["ID"], pairs.get("Number", ".") or ".", pairs.get("Type", "String"))


def _sample_names(line: str, path: Optional[str]) -> List[str]:
    columns = line[1:].split("\t")
    if [c.upper() for c in columns[:len(FIXED_COLUMNS)]] != list(FIXED_COLUMNS):
        raise CorruptDataError(f"VCF #CHROM line does not start with the eight fixed columns: "
                               f"{line[:200]!r}", path)
    samples = columns[FIRST_SAMPLE_COLUMN:]
    if len(set(samples)) != len(samples):
        raise CorruptDataError("VCF #CHROM line names a sample twice", path)
    return samples
