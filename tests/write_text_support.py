"""Shared by the text-writing tests: write through the format registry as Spark tasks would,
compare records after normalising what the formats let differ, and check indexes with tabix.

What may differ (and nothing else): number spelling (``1.00`` and ``1``), the order of INFO
entries (VCFv4.3 §1.6.1 gives it no meaning), a FORMAT key whose every value is missing and
trailing missing sample fields (§1.6.2), missing values in a BED's trailing optional
columns and a trailing ``,`` after block lists (BEDv1), GFF3 percent-escapes and GTF
quoting, and a GTF key given twice (the reader joins its values with ``,``).
"""
from __future__ import annotations

import gzip
import random
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote

import pysam

from sparkbam_py.formats import format_named

ATTEMPT = 5


def write_like_spark(fmt: str, source: str, out: str, split: str, read_options=None, **write_options) -> dict:
    """Read ``source`` in ``split``-sized tasks and write each task's batches as one part."""
    known = format_named(fmt)
    read = known.open_read({"path": source, "splitSize": split, **(read_options or {})})
    options = {"path": out, **{key: str(value) for key, value in write_options.items()}}
    job = known.open_write(options, True, read.arrow_schema)
    summaries = [job.write_part(read.read(task), number, ATTEMPT) for number, task in enumerate(read.tasks())]
    return job.commit(summaries)


def text_lines(path) -> Tuple[List[str], List[str]]:
    """(header lines, data lines) of a gzip/BGZF text file."""
    with gzip.open(path, "rt", newline="") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    header = [line for line in lines if line.startswith(("#", "track", "browser"))]
    return header, [line for line in lines if line and not line.startswith(("#", "track", "browser"))]


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return text
    return round(value, 5) if value == value else "nan"


def _values(text: Optional[str]):
    if text is None:
        return True
    return tuple(_number(v) for v in text.split(","))


def _missing(value) -> bool:
    return value is True or all(v == "." for v in value)


def normal_vcf(line: str):
    fields = line.split("\t")
    info: Dict[str, object] = {}
    for entry in ([] if fields[7] == "." else fields[7].split(";")):
        if entry:
            key, _, value = entry.partition("=")
            value = _values(value if "=" in entry else None)
            if value is True or not _missing(value):
                info.setdefault(key, value)
    samples = []
    if len(fields) > 9:
        keys = fields[8].split(":")
        for sample in fields[9:]:
            values = sample.split(":")
            samples.append({key: _values(value) for key, value in zip(keys, values)
                            if not _missing(_values(value)) and not (key == "GT" and set(value) <= set("./|"))})
    qual = "." if fields[5] == "." else _number(fields[5])
    return fields[:5], qual, fields[6], info, samples


def normal_bed(line: str):
    fields = line.split("\t")
    while len(fields) > 3 and fields[-1] == ".":
        fields.pop()
    fields = [f.rstrip(",") if k in (10, 11) else f for k, f in enumerate(fields)]
    return [_number(f) if k == 4 else f for k, f in enumerate(fields)]


def normal_gff(line: str):
    fields = line.split("\t")[:9]
    attributes: Dict[str, List[str]] = {}
    text = fields[8] if len(fields) > 8 else "."
    for entry in ([] if text == "." else text.split(";")):
        entry = entry.strip()
        if not entry:
            continue
        if "=" in entry.split(" ", 1)[0]:
            key, _, value = entry.partition("=")
            key, value = unquote(key), unquote(value)
        else:
            key, _, value = entry.partition(" ")
            value = value.strip()
            value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        attributes.setdefault(key, []).append(value)
    joined = {key: ",".join(values) for key, values in attributes.items()}
    return fields[:5] + [_number(fields[5]) if fields[5] != "." else "."] + fields[6:8] + [joined]


NORMALISERS = {"vcf": normal_vcf, "bed": normal_bed, "gff": normal_gff, "tabix": lambda line: line.split("\t")}


def records(fmt: str, path) -> list:
    return [NORMALISERS[fmt](line) for line in text_lines(path)[1]]


def tabix(*arguments) -> str:
    return subprocess.run(["tabix", *map(str, arguments)], capture_output=True, text=True, check=True).stdout


def regions_of(data_lines: List[str], contig_column: int, begin_column: int, count: int = 12,
               seed: int = 7) -> List[str]:
    """Random regions around the file's records (and one whole contig)."""
    rng = random.Random(seed)
    chosen = rng.sample(data_lines, min(count, len(data_lines)))
    regions = []
    for line in chosen:
        fields = line.split("\t")
        begin = int(fields[begin_column - 1]) + 1
        regions.append(f"{fields[contig_column - 1]}:{max(1, begin - rng.randint(0, 5000))}-"
                       f"{begin + rng.randint(0, 20000)}")
    if chosen:
        regions.append(chosen[0].split("\t")[contig_column - 1])
    return regions


def index_disagreements(ours: Path, preset_args: List[str], tmp: Path, regions: List[str]) -> List[str]:
    """Where our index and ``tabix <preset_args>`` of the same bytes answer differently."""
    theirs = tmp / ("theirs" + "".join(ours.suffixes))
    theirs.write_bytes(ours.read_bytes())
    csi = Path(str(ours) + ".csi").exists()
    subprocess.run(["tabix", "-f", *(["-C"] if csi else []), *preset_args, str(theirs)], check=True,
                   capture_output=True)
    problems = []
    if tabix("-l", ours) != tabix("-l", theirs):
        problems.append("tabix -l differs")
    for region in regions:
        if tabix(ours, region) != tabix(theirs, region):
            problems.append(f"region {region} differs")
    return problems


def make_vcf(path: Path, count: int, samples=("s1", "s2", "s3")) -> Path:
    """A sorted, bgzipped VCF pysam writes: two contigs, multi-allelics and indels, INFO
    Integer and Flag, GT (phased, unphased, missing) and AD (Number=R)."""
    unsorted = Path(str(path) + ".unsorted.vcf.gz")
    header = pysam.VariantHeader()
    for name in ("chr1", "chr2"):
        header.contigs.add(name, length=10_000_000)
    header.info.add("DP", 1, "Integer", "depth")
    header.info.add("DB", 0, "Flag", "dbSNP")
    header.formats.add("GT", 1, "String", "Genotype")
    header.formats.add("AD", "R", "Integer", "depths")
    for sample in samples:
        header.add_sample(sample)
    with pysam.VariantFile(str(unsorted), "wz", header=header) as out:
        for k in range(count):
            record = out.new_record(contig="chr1" if k < count * 2 // 3 else "chr2", start=k * 997 % 9_000_000 + k,
                                    alleles=("A", "C", "G") if k % 7 == 0 else ("AT", "A"), info={"DP": k})
            if k % 3 == 0:
                record.info["DB"] = True
            for n, sample in enumerate(samples):
                record.samples[sample]["GT"] = (None, None) if (k + n) % 11 == 0 else (n % 2, 1)
                record.samples[sample].phased = k % 2 == 0
                record.samples[sample]["AD"] = tuple(range(len(record.alleles)))
            out.write(record)
    subprocess.run(["bcftools", "sort", "-Oz", "-o", str(path), str(unsorted)], check=True, capture_output=True)
    unsorted.unlink()
    return path


def differing_lines(fmt: str, expected: List[str], written: List[str]) -> List[Tuple[str, str]]:
    """The (expected, written) line pairs that differ after normalising (a line equal as text
    is not normalised: most are); a different count differs entirely."""
    if len(written) != len(expected):
        return [(f"{len(expected)} records", f"{len(written)} records")]
    normal = NORMALISERS[fmt]
    return [(a, b) for a, b in zip(expected, written) if a != b and normal(a) != normal(b)]


def differing_records(fmt: str, expected: List[str], path) -> List[Tuple[str, str]]:
    """``differing_lines`` of the data lines of ``path``."""
    return differing_lines(fmt, expected, text_lines(path)[1])


def bcftools_view(path) -> Optional[List[str]]:
    """``bcftools view -H`` of ``path``'s records (bcftools re-prints every value it parsed);
    None where bcftools refuses the file."""
    done = subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True, text=True)
    return done.stdout.splitlines() if done.returncode == 0 else None


def bcftools_disagreements(source, written) -> List[Tuple[str, str]]:
    """Where ``bcftools view`` of ``written`` differs from its view of ``source`` (after
    normalising); nothing to compare where bcftools refuses the source itself."""
    expected = bcftools_view(source)
    if expected is None:
        return []
    ours = bcftools_view(written)
    return [("bcftools reads the source", "bcftools refuses ours")] if ours is None else \
        differing_lines("vcf", expected, ours)
