"""pysam's VariantFile as the oracle for the VCF parser: both sides as comparable dicts.

htslib stores Float as float32 (BCF2), so floats compare as float32.  A list whose values
are all missing compares equal to a missing value (pysam gives ``(None,)`` for ``.``).
"""
from __future__ import annotations

import math
import re
from typing import Iterable, List

import numpy as np
import pyarrow as pa
import pysam

from sparkbam_py.text.vcf_genotypes import GLOW_GENOTYPE_NAMES
from sparkbam_py.text.vcf_header import VcfHeader


def norm(value):
    """A value in comparable form: float32 floats, lists for tuples, all-missing -> None."""
    if isinstance(value, (tuple, list)):
        items = [norm(v) for v in value]
        return None if all(v is None for v in items) else items
    if isinstance(value, float):
        return "nan" if math.isnan(value) else float(np.float32(value))
    if value == ".":  # htslib keeps a missing String as '.'; we give null
        return None
    return value


def expected_rows(path, header: VcfHeader, data_lines: List[str],
                  samples: List[str] = None) -> Iterable[dict]:
    """One dict per record of ``path`` as pysam parses it, in our column names.

    ``data_lines`` (the same records as text) give INFO END: htslib may compute a symbolic
    allele's stop from SVLEN instead, while Glow and the VCF spec take END.
    """
    with pysam.VariantFile(str(path)) as vcf:
        for record, line in zip(vcf, data_lines):
            yield _expected_row(record, header, samples, line)


def _info_end(line: str):
    info = line.split("\t")[7]
    match = re.search(r"(?:^|;)END=(\d+)(?:;|$)", info)
    return int(match.group(1)) if match else None


def _expected_row(record, header: VcfHeader, samples, line: str) -> dict:
    end = _info_end(line)
    row = {
        "contigName": record.chrom,
        "start": record.start,
        "end": end if end is not None else record.start + len(record.ref),
        "names": record.id.split(";") if record.id else [],
        "referenceAllele": record.ref,
        "alternateAlleles": list(record.alts or ()),
        "qual": norm(record.qual),
        "filters": list(record.filter.keys()),
    }
    for key, definition in header.info.items():
        value = record.info.get(key)
        if key == "END":  # htslib moves INFO END into the record's stop
            value = end if end != record.start + len(record.ref) else None
        elif definition.is_scalar and definition.value_type == pa.string() and isinstance(value, tuple):
            value = ",".join(value)  # pysam splits a Number=1 String at commas; the text has one value
        row["INFO_" + key] = bool(value) if definition.is_flag else norm(value)
    row["otherInfoFields"] = sorted(k for k in record.info.keys() if k not in header.info) or None
    chosen = samples if samples is not None else list(record.samples.keys())
    row["genotypes"] = [_expected_genotype(record.samples[name], name, header) for name in chosen]
    return row


def _expected_genotype(sample, name: str, header: VcfHeader) -> dict:
    gt = sample.get("GT") if "GT" in sample else None
    genotype = {"sampleId": name,
                "calls": None if gt is None else [-1 if a is None else a for a in gt],
                "phased": bool(sample.phased) if gt is not None else None}
    if "GT" in header.formats and header.formats["GT"].type != "String":
        genotype["calls"] = genotype["phased"] = "GT declared non-String: htslib reads it as a number"
    for key, definition in header.formats.items():
        if key != "GT":
            value = sample.get(key) if key in sample else None
            if definition.is_scalar and definition.value_type == pa.string() and isinstance(value, tuple):
                value = ",".join(value)  # pysam splits a Number=1 String at commas
            genotype[GLOW_GENOTYPE_NAMES.get(key, key)] = norm(value)
    return genotype


def actual_row(row: dict, header: VcfHeader) -> dict:
    """Our row in the oracle's form."""
    out = {k: row[k] for k in ("contigName", "start", "end", "names", "referenceAllele",
                               "alternateAlleles", "filters")}
    out["qual"] = norm(row["qual"])
    for key, definition in header.info.items():
        value = row["INFO_" + key]
        if key == "END":
            value = value[0] if isinstance(value, list) and len(value) == 1 else value
            value = None if value == row["start"] + len(row["referenceAllele"]) else value
        out["INFO_" + key] = value if definition.is_flag else norm(value)
    other = row["otherInfoFields"]
    out["otherInfoFields"] = sorted(k for k, _ in other) if other else None
    out["genotypes"] = [_actual_genotype(g, header) for g in row["genotypes"]]
    if "GT" in header.formats and header.formats["GT"].type != "String":
        for genotype in out["genotypes"]:
            genotype["calls"] = genotype["phased"] = "GT declared non-String: htslib reads it as a number"
    return out


def _actual_genotype(genotype: dict, header: VcfHeader) -> dict:
    calls = genotype["calls"]
    # pysam reads GT "." as a missing GT; a sample without GT has calls null here.
    out = {"sampleId": genotype["sampleId"], "calls": calls,
           "phased": genotype["phased"] if calls is not None else None}
    for key in header.formats:
        if key != "GT":
            name = GLOW_GENOTYPE_NAMES.get(key, key)
            out[name] = norm(genotype[name])
    return out
