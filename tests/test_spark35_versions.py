"""The Spark 3.5 ways in give what Spark 4's data sources give, on the same real files.

On each case (a sample of the bgzipped-text corpus per format, with and without regions,
a GRCh38-sized VCF header, and a generated BAM), the loaders (``load_vcf``... through
``mapInArrow``), ``convert`` and ``write_bam(engine="arrow")`` run on this environment's
session, and the reference is made by ``spark.read.format`` / ``df.write`` on Spark 4: in
this process when this environment is 4.x, else by the interpreter named in
``SPARKBAM_SPARK4_PYTHON`` (CI's main environment), whose outputs come back as Arrow,
Parquet and BAM files.  Rows are compared in order, value by value.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from depth_fixtures.data import write_coverage_bam
from spark.engines import activate
from spark35_support import (CORPUS_TEXT, Case, cases_to_json, data_source_frame, frame_table, loader_frame,
                             read_output, write_outputs)
from write_helpers import sam_records

pytestmark = [pytest.mark.spark, pytest.mark.spark35, pytest.mark.slow,
              pytest.mark.skipif(not (CORPUS_TEXT / "MANIFEST.tsv").is_file(),
                                 reason="bgzipped-text corpus not found (expected ../shared/corpus-text)")]
SPARK4_PYTHON = "SPARKBAM_SPARK4_PYTHON"
REFERENCE_TIMEOUT = 900
# One sample per text format: several splits each, tabix-indexed where regions are read.
TEXT_CASES = (
    ("vcf", "vcf", "samtools__htsjdk/src__test__resources__htsjdk__variant__HiSeq.10000.vcf.bgz", "64k", {}),
    ("vcf_regions", "vcf", "samtools__htsjdk/src__test__resources__htsjdk__variant__HiSeq.10000.vcf.bgz", "64k",
     {"regions": "chr1:1000000-3000000"}),
    ("vcf_grch38_header", "vcf",
     "samtools__htsjdk/src__test__resources__htsjdk__tribble__tabix__4featuresHG38Header.vcf.gz", "8k", {}),
    ("bed", "bed", "Illumina__hap.py/example__performance.confident.bed.gz", "64k", {}),
    ("gff", "gff", "Ensembl__ensembl-vep/t__testdata__custom__test.gff.gz", "128k", {}),
    ("tabix", "tabix", "broadinstitute__gatk/src__test__resources__org__broadinstitute__hellbender__tools__walkers__"
     "sv__printevidence__test_hg38.rd.txt.gz", "64k", {}),
    ("lines", "bgzf_text", "samtools__htsjdk/src__test__resources__htsjdk__tribble__fakeVCF.vcf.gz", "64k",
     {"include_header_lines": True}),
)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    bam = str(write_coverage_bam(tmp_path_factory.mktemp("spark35-versions"), "reads", n=3000, seed=36))
    made = [Case(name, "read", format_name, str(CORPUS_TEXT / path), split, options)
            for name, format_name, path, split, options in TEXT_CASES]
    vcf = made[0].path
    return made + [Case("bam", "read", "bam", bam, "40k"),
                   Case("bam_parquet", "convert", "bam", bam, "40k"),
                   Case("vcf_parquet", "convert", "vcf", vcf, "64k"),
                   Case("bam_written", "write_bam", "bam", bam, "40k")]


@pytest.fixture(scope="module")
def spark4_outputs(cases, tmp_path_factory):
    """The folder of Spark 4's outputs for ``cases``."""
    out = tmp_path_factory.mktemp("spark4-outputs")
    spark = activate("local").spark
    if int(spark.version.split(".")[0]) >= 4:
        write_outputs(spark, cases, out, data_source_frame)
        return out
    python = os.environ.get(SPARK4_PYTHON)
    if not python:
        pytest.skip(f"on Spark {spark.version}: set {SPARK4_PYTHON} to a Spark 4 environment's python")
    listed = out / "cases.json"
    listed.write_text(cases_to_json(cases))
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYSPARK_", "SPARK_HOME", "SPARK_CONNECT"))}
    env.update(PYSPARK_PYTHON=python, SPARK_LOCAL_IP="127.0.0.1")
    done = subprocess.run([python, str(Path(__file__).with_name("spark35_support.py")), str(listed), str(out)],
                          env=env, capture_output=True, text=True, timeout=REFERENCE_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1].startswith("4."), done.stdout
    return out


@pytest.fixture(scope="module")
def our_outputs(cases, tmp_path_factory):
    """The same cases through the loaders (mapInArrow), convert and write_bam(engine="arrow")."""
    out = tmp_path_factory.mktemp("our-outputs")
    write_outputs(activate("local").spark, cases, out, lambda spark, case: loader_frame(spark, case, method="mapInArrow"),
                  engine="arrow")
    return out


def test_loaders_equal_spark4_data_sources(cases, spark4_outputs, our_outputs):
    for case in (case for case in cases if case.kind == "read"):
        ours, theirs = read_output(our_outputs, case), read_output(spark4_outputs, case)
        assert ours.schema.names == theirs.schema.names, case.name
        assert ours.num_rows > 0 and ours.to_pylist() == theirs.to_pylist(), case.name


def test_convert_equals_spark4(cases, spark4_outputs, our_outputs):
    for case in (case for case in cases if case.kind == "convert"):
        ours, theirs = read_output(our_outputs, case), read_output(spark4_outputs, case)
        assert ours.schema.equals(theirs.schema), case.name
        assert ours.num_rows > 0 and ours.equals(theirs), case.name
        assert sorted(path.name for path in (our_outputs / case.name).iterdir() if not path.name.endswith(
            ".parquet")) == sorted(path.name for path in (spark4_outputs / case.name).iterdir()
                                   if not path.name.endswith(".parquet"))


def test_write_bam_equals_spark4(cases, spark4_outputs, our_outputs):
    for case in (case for case in cases if case.kind == "write_bam"):
        ours, theirs = read_output(our_outputs, case), read_output(spark4_outputs, case)
        assert sam_records(ours) == sam_records(theirs) == sam_records(case.path), case.name
        assert ours.read_bytes() == theirs.read_bytes(), case.name
        for suffix in (".bai", ".sbi"):
            assert Path(f"{ours}{suffix}").read_bytes() == Path(f"{theirs}{suffix}").read_bytes(), suffix


def test_loader_on_this_line_equals_the_local_driver(cases, our_outputs):
    """The loaders' rows also equal the local driver's reading of the same files, whatever
    the line (so a difference above is Spark's, not ours)."""
    from spark35_support import local_table

    for case in (case for case in cases if case.kind == "read" and case.format != "bam"):
        local = local_table(case.path, case.format, case.split_size, dict(case.options))
        assert read_output(our_outputs, case).to_pylist() == local.to_pylist(), case.name
