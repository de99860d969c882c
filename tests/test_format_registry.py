"""Every public entry point takes every format it claims, through the format registry, or
refuses it with a typed error naming the path and what was sniffed.

Parametrised over the registry's list (``sparkbam_py.formats.FORMATS``): a format added there
is tried by every entry point here at once, with a small sample of it made below.  Claimed
formats are read and their record counts checked; the others must raise
``UnsupportedFormatError`` before any work starts.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import pysam
import pytest
from pyspark import cloudpickle

import sparkbam_py
from fixtures.cram import convert_to_cram
from index_oracle import write_indexed_bam
from sparkbam_py.cli.main import discover_commands, main
from sparkbam_py.errors import UnsupportedFormatError
from sparkbam_py.formats import FORMAT_NAMES, FORMATS, LINE_FORMATS, READ_FORMATS, format_named, sniff_format
from spark.engines import activate

# The functions below run in Spark's Python workers, which cannot import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROWS = 120  # records of every sample (the BAM adds 10 unplaced reads)
CONTIGS = [("chr1", 100_000), ("chr2", 50_000)]


@dataclass(frozen=True)
class Sample:
    path: str
    rows: int


def _text_sample(folder: Path, name: str, header: Sequence[str], line: Callable[[int], str],
                 index: Optional[dict]) -> Sample:
    plain = folder / name
    plain.write_text("".join(f"{text}\n" for text in header) + "".join(f"{line(i)}\n" for i in range(ROWS)))
    if index is None:
        pysam.tabix_compress(str(plain), str(plain) + ".gz", force=True)
        return Sample(str(plain) + ".gz", ROWS)
    return Sample(pysam.tabix_index(str(plain), force=True, **index), ROWS)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Dict[str, Sample]:
    """One small file of every registered format, made here (pysam, samtools, tabix)."""
    folder = tmp_path_factory.mktemp("formats")
    bam = write_indexed_bam(folder / "sample.bam", CONTIGS, ROWS, seed=19, unplaced=10)
    cram = folder / "sample.cram"
    assert convert_to_cram(bam, cram), "samtools could not write the CRAM sample"
    made = {
        "bam": Sample(str(bam), ROWS + 10),
        "cram": Sample(str(cram), ROWS + 10),
        "vcf": _text_sample(folder, "sample.vcf", ["##fileformat=VCFv4.2", "##contig=<ID=chr1,length=100000>",
                                                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"],
                            lambda i: f"chr1\t{10 + i * 50}\tv{i}\tA\tG\t50\tPASS\t.", {"preset": "vcf"}),
        "gff": _text_sample(folder, "sample.gff", ["##gff-version 3"],
                            lambda i: f"chr1\tsrc\tgene\t{10 + i * 50}\t{40 + i * 50}\t.\t+\t.\tID=g{i}",
                            {"preset": "gff"}),
        "bed": _text_sample(folder, "sample.bed", [], lambda i: f"chr1\t{i * 50}\t{i * 50 + 30}\tb{i}",
                            {"preset": "bed"}),
        "tabix": _text_sample(folder, "sample.tsv", ["#chrom\tpos\tvalue"], lambda i: f"chr2\t{1 + i * 7}\t{i}",
                              {"seq_col": 0, "start_col": 1, "end_col": 1}),
        "bgzf_text": _text_sample(folder, "sample.txt", [], lambda i: f"line {i}\twith a tab", None),
    }
    assert set(made) == set(FORMAT_NAMES), "make a sample of the new format here"
    return made


def test_every_sample_is_sniffed_as_its_format(samples):
    for name, sample in samples.items():
        assert sniff_format(sample.path) is format_named(name), sample.path


def _refused(name: str, sample: Sample, call: Callable[[], object]) -> None:
    with pytest.raises(UnsupportedFormatError) as refusal:
        call()
    assert refusal.value.sniffed == name and sample.path in str(refusal.value)


# -- Python entry points, no Spark ---------------------------------------------------------------


def _rows_of_batches(path: str) -> int:
    return sum(batch.num_rows for batch in sparkbam_py.iter_batches(path))


def _map_regions_rows(path: str) -> int:
    return sum(sparkbam_py.map_regions(path, lambda window, rows: sum(1 for _ in rows), workers=1))


LOCAL_ENTRIES = {
    "read_table": (FORMAT_NAMES, lambda path, out: sparkbam_py.read_table(path).num_rows),
    "iter_batches": (FORMAT_NAMES, lambda path, out: _rows_of_batches(path)),
    "convert_local": (FORMAT_NAMES, lambda path, out: sparkbam_py.convert_local(path, str(out)).rows),
    "map_regions": (LINE_FORMATS, lambda path, out: _map_regions_rows(path)),
}


@pytest.mark.parametrize("entry", sorted(LOCAL_ENTRIES))
@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_local_entry_points(samples, tmp_path, entry, name):
    claimed, run = LOCAL_ENTRIES[entry]
    sample = samples[name]
    if name in claimed:
        assert run(sample.path, tmp_path / "out") == sample.rows
    else:
        _refused(name, sample, lambda: run(sample.path, tmp_path / "out"))


@pytest.fixture(scope="module")
def coverage_store(samples, tmp_path_factory) -> str:
    from sparkbam_py.coverage.compute import compute_coverage_local

    out = str(tmp_path_factory.mktemp("store") / "store")
    compute_coverage_local([samples["bam"].path], out)
    return out


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_the_service_serves_reads_of_bams_only(samples, coverage_store, name):
    from sparkbam_py.serve.app import create_app
    from sparkbam_py.serve.reads import SERVED_FORMATS

    sample = samples[name]
    if name in SERVED_FORMATS:
        assert [bam.path for bam in create_app(coverage_store, [sample.path]).bams] == [sample.path]
    else:
        _refused(name, sample, lambda: create_app(coverage_store, [sample.path]))


# -- Spark entry points, one local session ---------------------------------------------------------


def _count_of_pysam(reads) -> int:
    return sum(1 for _ in reads)


def _count_of_batches(batches) -> int:
    return sum(batch.num_rows for batch in batches)


SPARK_ENTRIES = {
    "load_reads": (READ_FORMATS, lambda spark, path, out: sparkbam_py.load_reads(spark, path).count()),
    "load_cram": (("cram",), lambda spark, path, out: sparkbam_py.load_cram(spark, path).count()),
    "load_reads_and_positions": (("bam",), lambda spark, path, out:
                                 sparkbam_py.load_reads_and_positions(spark, path).count()),
    "count_reads": (READ_FORMATS, lambda spark, path, out: sparkbam_py.count_reads(spark, path)),
    "compute_splits": (READ_FORMATS, lambda spark, path, out:
                       len(sparkbam_py.compute_splits(spark, path, "64k")) and None),
    "map_partitions": (("bam",), lambda spark, path, out:
                       sum(sparkbam_py.map_partitions(spark, path, _count_of_pysam).collect())),
    "map_splits(pysam)": (("bam",), lambda spark, path, out: sum(sparkbam_py.map_splits(spark, path, _count_of_pysam))),
    "map_splits(arrow)": (FORMAT_NAMES, lambda spark, path, out:
                          sum(sparkbam_py.map_splits(spark, path, _count_of_batches, records="arrow"))),
    "load_intervals": (("bam",), lambda spark, path, out:
                       sparkbam_py.load_intervals(spark, path, ["chr1", "chr2", "*"]).count()),
    "compute_coverage": (("bam",), lambda spark, path, out:
                         len(sparkbam_py.compute_coverage(spark, path, str(out))["contigs"]) and None),
    "convert": (FORMAT_NAMES, lambda spark, path, out: sparkbam_py.convert(spark, path, str(out)).rows),
}


@pytest.fixture(scope="module")
def spark():
    return activate("local").spark


@pytest.mark.spark
@pytest.mark.parametrize("entry", sorted(SPARK_ENTRIES))
@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_spark_entry_points(spark, samples, tmp_path, entry, name):
    claimed, run = SPARK_ENTRIES[entry]
    sample = samples[name]
    if name not in claimed:
        _refused(name, sample, lambda: run(spark, sample.path, tmp_path / "out"))
        return
    seen = run(spark, sample.path, tmp_path / "out")
    assert seen is None or seen == sample.rows


@pytest.mark.spark
@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_is_a_data_source(spark, samples, name):
    """``spark.read.format(name)`` for each, and ``<name>_splits`` where the format lists splits."""
    sparkbam_py.register(spark)
    sample = samples[name]
    assert spark.read.format(name).load(sample.path).count() == sample.rows
    if format_named(name).split_rows:
        rows = spark.read.format(name + "_splits").option("count", "true").load(sample.path).collect()
        assert sum(row.records for row in rows) == sample.rows


# -- the CLI: every command that takes input files declares their formats ----------------------------

# Each command's arguments besides its input ({out}: a fresh folder).
CLI_ARGUMENTS = {
    "check-bam": [], "full-check": [], "check-blocks": [], "time-load": ["-m", "64k"],
    "count-reads": ["-m", "64k"], "compute-splits": ["-m", "64k"], "count-lines": ["--local"],
    "convert": ["-o", "{out}/table", "--local", "1"], "coverage": ["-o", "{out}/store"],
    "view": ["-o", "{out}/view.bam"], "index-records": ["{out}/x.records"], "index-sbi": ["{out}/x.sbi"],
}
COMMANDS = {command.name: command for command in discover_commands() if command.formats}


def test_every_command_with_inputs_is_tried_here():
    assert set(COMMANDS) == set(CLI_ARGUMENTS)
    for command in COMMANDS.values():
        assert set(command.formats) <= set(FORMAT_NAMES), command.name


@pytest.mark.spark
@pytest.mark.parametrize("command", sorted(CLI_ARGUMENTS))
@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_cli_commands(spark, samples, tmp_path, capsys, command, name):
    sample = samples[name]
    argv = [command, sample.path] + [argument.format(out=tmp_path) for argument in CLI_ARGUMENTS[command]]
    code = main(argv + ["--json"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    if name in COMMANDS[command].formats:
        assert code == 0, report
    else:
        assert code == 2 and report["error"] == "UnsupportedFormatError" and sample.path in report["message"]
