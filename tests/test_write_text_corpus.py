"""Every text-corpus file our readers take, read and written back as Spark's tasks would:
records equal the input's (after normalising what the formats let differ, see
``write_text_support``) at two split sizes, as one file and as shards; ``bcftools view`` of a
written VCF equals its view of the input (where bcftools reads the input); the merged index
answers ``tabix -l`` and random region queries as ``tabix -p`` of the same bytes does.

Files out of tabix order (the input was never indexable) must be refused with
UnsortedOutputError, and written without an index instead.
"""
from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from sparkbam_py.errors import CorruptDataError
from sparkbam_py.formats import format_named
from sparkbam_py.index.tabix import find_tabix_path, read_tabix
from sparkbam_py.write.text_commit import UnsortedOutputError
from write_text_support import (ATTEMPT, bcftools_disagreements, differing_lines, differing_records,
                                index_disagreements, regions_of, text_lines)

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"
FORMAT_OF_KIND = {"vcf": "vcf", "bed": "bed", "gff": "gff", "gtf": "gff", "tsv": "tabix"}
PRESET = {"vcf": ["-p", "vcf"], "bed": ["-p", "bed"], "gff": ["-p", "gff"]}
# Split sizes as fractions of the file: about 8 and 3 parts (every file gets several).
PARTS = (8, 3)
MIN_SPLIT = 2048


def _corpus():
    manifest = CORPUS_TEXT / "MANIFEST.tsv"
    if not manifest.is_file():
        return ["<absent>"]
    with open(manifest, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row["file"] for row in rows if row["kind"] in FORMAT_OF_KIND and row["bgzf"] == "yes"
            and "truncated" not in row["notes"] and "BGZF ERRORS" not in row["notes"]]


def _kind(name: str) -> str:
    with open(CORPUS_TEXT / "MANIFEST.tsv", newline="") as handle:
        return next(row["kind"] for row in csv.DictReader(handle, delimiter="\t") if row["file"] == name)


def _options(fmt: str, source: Path):
    """(read options, write options, tabix arguments) the file needs."""
    if fmt != "tabix":
        return {}, {"headerFrom": str(source)}, PRESET[fmt]
    header, data = text_lines(source)
    width = max(len(line.split("\t")) for line in data)
    index = find_tabix_path(str(source))
    config = read_tabix(index).config if index else None
    seq, begin, end = (config.col_seq, config.col_beg, config.col_end) if config else (1, 2, 0)
    zero = bool(config and config.zero_based)
    read = {"columns": ",".join(f"c{i}" for i in range(width))}
    if not config:
        read.update(seqColumn="1", beginColumn="2")
    write = {"seqColumn": seq, "beginColumn": begin, "endColumn": end, "zeroBased": str(zero).lower()}
    if header:
        write["header"] = "\n".join(header)
    arguments = ["-s", str(seq), "-b", str(begin), "-e", str(end or begin)] + (["-0"] if zero else [])
    if any(not line.startswith("#") for line in header):
        arguments += ["-S", str(len(header))]
    return read, write, arguments


def _tasks_batches(fmt, source, split, read_options):
    read = format_named(fmt).open_read({"path": str(source), "splitSize": split, **read_options})
    return read.arrow_schema, [list(read.read(task)) for task in read.tasks()]


def _write(fmt, out, schema, tasks, **options):
    job = format_named(fmt).open_write({"path": str(out), **{k: str(v) for k, v in options.items()}}, True, schema)
    return job.commit([job.write_part(iter(batches), number, ATTEMPT) for number, batches in enumerate(tasks)])


@pytest.mark.corpus
@pytest.mark.parametrize("name", _corpus())
def test_corpus_round_trip(name, tmp_path):
    if name == "<absent>":
        pytest.skip(f"text corpus not found at {CORPUS_TEXT}")
    fmt = FORMAT_OF_KIND[_kind(name)]
    source = CORPUS_TEXT / name
    read_options, write_options, tabix_arguments = _options(fmt, source)
    splits = [str(max(MIN_SPLIT, source.stat().st_size // parts)) for parts in PARTS]
    expected = text_lines(source)[1]
    for number, split in enumerate(splits):
        try:
            schema, tasks = _tasks_batches(fmt, source, split, read_options)
        except CorruptDataError as error:  # a line the reader refuses (its own tests name why)
            pytest.skip(f"the {fmt} reader refuses this file: {str(error)[:120]}")
        single, shards = tmp_path / f"single{number}.gz", tmp_path / f"shards{number}"
        indexed = _write_or_refuse(fmt, single, schema, tasks, write_options)
        assert differing_records(fmt, expected, single)[:3] == []
        if fmt == "vcf" and number == 0:
            assert bcftools_disagreements(source, single)[:3] == []
        if indexed and number == 0:
            data = text_lines(single)[1]
            begin = int(tabix_arguments[tabix_arguments.index("-b") + 1]) if "-b" in tabix_arguments else \
                {"vcf": 2, "bed": 2, "gff": 4}[fmt]
            assert index_disagreements(single, tabix_arguments, tmp_path, regions_of(data, 1, begin)) == []
        written = _write(fmt, shards, schema, tasks, sharded="true", index="false", **write_options)
        shard_lines = [line for shard in written["shards"] for line in text_lines(shard)[1]]
        assert differing_lines(fmt, expected, shard_lines)[:3] == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _write_or_refuse(fmt, out, schema, tasks, write_options) -> bool:
    """Write with an index; where that is refused, the input must not be in tabix order
    either (``tabix`` refuses it too): write it without one."""
    try:
        _write(fmt, out, schema, tasks, **write_options)
        return True
    except UnsortedOutputError:
        _write(fmt, out, schema, tasks, index="false", **write_options)
        check = subprocess.run(["tabix", "-f", *(_options(fmt, out)[2] if fmt == "tabix" else PRESET[fmt]), str(out)],
                               capture_output=True)
        assert check.returncode != 0, "we refused to index rows tabix indexes"
        return False
