"""The VCF parser against pysam's VariantFile on generated VCFs, and its options and errors."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sparkbam_py.errors import ConfigError, CorruptDataError
from sparkbam_py.pos import Pos
from sparkbam_py.text.format import LineSource, MalformedLineError
from sparkbam_py.formats import format_named
from sparkbam_py.text.vcf import VCF
from vcf_oracle import actual_row, expected_rows

HEADER = """##fileformat=VCFv4.3
##contig=<ID=1,length=100000>
##contig=<ID=chrX,length=100000>
##FILTER=<ID=q10,Description="Quality below 10">
##FILTER=<ID=s50,Description="Less than 50% of samples">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth, with a comma">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=RC,Number=R,Type=Integer,Description="Read counts">
##INFO=<ID=TAGS,Number=.,Type=String,Description="Tags">
##INFO=<ID=PAIR,Number=2,Type=Float,Description="Two floats">
##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP">
##INFO=<ID=AA,Number=1,Type=String,Description="Ancestral allele">
##INFO=<ID=CH,Number=1,Type=Character,Description="One character">
##INFO=<ID=END,Number=1,Type=Integer,Description="End position">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Likelihoods">
##FORMAT=<ID=GL,Number=G,Type=Float,Description="Log likelihoods">
##FORMAT=<ID=FT,Number=1,Type=String,Description="Sample filter">
##FORMAT=<ID=HQ,Number=2,Type=Integer,Description="Haplotype qualities">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC"""

EDGE_LINES = [
    # multi-allelic, every INFO Number kind, flag, phased/unphased/missing calls
    "1\t100\trs1;rs2\tA\tC,G\t50.5\tPASS\tDP=10;AF=0.25,0.5;RC=1,2,3;TAGS=x,y;"
    "PAIR=1.5,-2;DB;AA=A;CH=z\tGT:AD:DP:GQ:PL\t0|1:3,4,5:12:99:0,1,2,3,4,5\t1/2:.:.:.:.\t./.:0,0,0:0:0:.",
    # missing ID/ALT/QUAL/FILTER/INFO, haploid and triploid calls, dropped trailing fields
    "1\t200\t.\tT\t.\t.\t.\t.\tGT:DP:GQ\t0\t0/0/0:7\t.",
    # another FORMAT order on the next line (mixed FORMATs), undeclared keys both places
    "1\t300\t.\tACGT\tA\t3\tq10;s50\tDP=4;XU=hello;AF=.;DB\tGT:DP:XF:FT\t1|1:5:u:PASS\t0|0:.:v:.\t.|1:7:w:q10",
    # INFO END, a symbolic allele, float specials
    "chrX\t400\t.\tN\t<DEL>\t1e3\tPASS\tEND=900;AF=nan\tGT:GL:HQ\t1:-0.5,-1.25:10,20\t0:.:.\t1:-1,-2:.,3",
    # GT without FORMAT rest, negative and zero ints
    "chrX\t500\t.\tG\tGA,GAA,GAAA\t0\tPASS\tDP=-3;RC=0,0,0,0\tGT:AD\t3/3:1,2,3,4\t0/3:.\t2|3:0,0,0,0",
]


def _header_lines():
    return HEADER.split("\n")


def _write_vcf(tmp_path, lines, name="t.vcf"):
    path = tmp_path / name
    path.write_text("\n".join(_header_lines() + lines) + "\n")
    return path


def _compare_with_pysam(tmp_path, lines, options=None, samples=None):
    path = _write_vcf(tmp_path, lines)
    header = VCF.parse_header(_header_lines(), options or {})
    batch = VCF.parse(pa.array(lines), header, options or {}, LineSource(str(path)))
    assert batch.schema == VCF.schema(header, options or {})
    expected = list(expected_rows(path, header, lines, samples))
    assert len(expected) == batch.num_rows == len(lines)
    for want, got, line in zip(expected, batch.to_pylist(), lines):
        assert actual_row(got, header) == want, line
    return batch


def test_edge_cases_equal_pysam(tmp_path):
    batch = _compare_with_pysam(tmp_path, EDGE_LINES)
    rows = batch.to_pylist()
    assert rows[0]["names"] == ["rs1", "rs2"] and rows[0]["start"] == 99 and rows[0]["end"] == 100
    assert rows[1]["alternateAlleles"] == [] and rows[1]["filters"] == [] and rows[1]["qual"] is None
    assert [g["calls"] for g in rows[1]["genotypes"]] == [[0], [0, 0, 0], [-1]]
    assert rows[2]["otherInfoFields"] == [("XU", "hello")]
    assert rows[2]["genotypes"][0]["otherFields"] == [("XF", "u")]
    assert rows[2]["INFO_DB"] is True and rows[3]["INFO_DB"] is False
    assert rows[3]["end"] == 900 and rows[3]["INFO_END"] == 900
    assert rows[2]["genotypes"][1]["depth"] is None  # '.' is null


def test_info_key_repeated_with_the_same_value_is_kept_once():
    header = VCF.parse_header(_header_lines(), {})
    line = "1\t10\t.\tA\tC\t.\tPASS\tDP=3;DB;DP=3;DB;AA=x\tGT\t0\t0\t0"
    row = VCF.parse(pa.array([line]), header, {}, LineSource()).to_pylist()[0]
    assert (row["INFO_DP"], row["INFO_DB"], row["INFO_AA"]) == (3, True, "x")


def test_gt_anywhere_in_format():
    """VCF wants GT first; htslib then reads no calls, we read them where they are."""
    header = VCF.parse_header(_header_lines(), {})
    line = "1\t300\t.\tA\tC\t3\tPASS\t.\tDP:GT\t5:1|1\t.:0/1\t7:."
    genotypes = VCF.parse(pa.array([line]), header, {}, LineSource()).to_pylist()[0]["genotypes"]
    assert [(g["calls"], g["phased"], g["depth"]) for g in genotypes] == \
        [([1, 1], True, 5), ([0, 1], False, None), ([-1], True, 7)]


def _random_lines(rng: np.random.Generator, count: int):
    """Random but valid records: 1-3 ALTs, ploidy 1-3, missing values anywhere."""
    lines = []
    for i in range(count):
        alts = int(rng.integers(1, 4))
        ref = "ACGT"[int(rng.integers(0, 4))] * int(rng.integers(1, 4))
        alt = ",".join(["T", "TT", "G"][:alts])
        genotypes_count = (alts + 1) * (alts + 2) // 2
        samples = []
        for _ in range(3):
            ploidy = int(rng.integers(1, 4))
            calls = [("." if rng.random() < 0.1 else str(int(rng.integers(0, alts + 1))))
                     for _ in range(ploidy)]
            separator = "|" if rng.random() < 0.5 else "/"
            ad = ",".join(str(int(v)) for v in rng.integers(0, 50, alts + 1))
            pl = "." if rng.random() < 0.2 else ",".join(str(int(v)) for v in rng.integers(0, 99, genotypes_count))
            fields = [separator.join(calls), ad, str(int(rng.integers(0, 99))), ".", pl]
            keep = int(rng.integers(1, 6))  # trailing fields may be dropped
            samples.append(":".join(fields[:keep]))
        info = [f"DP={int(rng.integers(0, 1000))}",
                "AF=" + ",".join(f"{v:.3f}" for v in rng.random(alts))]
        if rng.random() < 0.5:
            info.append("DB")
        qual = "." if rng.random() < 0.2 else f"{rng.random() * 100:.2f}"
        lines.append(f"1\t{1000 + i * 7}\t.\t{ref}\t{alt}\t{qual}\tPASS\t{';'.join(info)}\t"
                     f"GT:AD:DP:GQ:PL\t" + "\t".join(samples))
    return lines


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_records_equal_pysam(tmp_path, seed):
    _compare_with_pysam(tmp_path, _random_lines(np.random.default_rng(seed), 300))


def test_sample_subset_and_without_ids(tmp_path):
    options = {"samples": "C,A", "includesampleids": "false"}
    header = VCF.parse_header(_header_lines(), options)
    batch = VCF.parse(pa.array(EDGE_LINES), header, options, LineSource())
    genotype_type = batch.schema.field("genotypes").type.value_type
    assert "sampleId" not in [f.name for f in genotype_type]
    full = VCF.parse(pa.array(EDGE_LINES), header, {}, LineSource()).to_pylist()
    for row, whole in zip(batch.to_pylist(), full):
        assert [g["calls"] for g in row["genotypes"]] == \
            [whole["genotypes"][2]["calls"], whole["genotypes"][0]["calls"]]
    single = VCF.parse(pa.array(EDGE_LINES), header, {"samples": "B"}, LineSource()).to_pylist()
    assert [row["genotypes"] for row in single] == [[whole["genotypes"][1]] for whole in full]
    none = VCF.parse(pa.array(EDGE_LINES), header, {"samples": ""}, LineSource())
    assert none.column("genotypes").to_pylist() == [[]] * len(EDGE_LINES)
    with pytest.raises(ConfigError):
        VCF.parse(pa.array(EDGE_LINES), header, {"samples": "Z"}, LineSource())


def test_info_map_when_not_flattened():
    options = {"flattenInfoFields": "false"}
    header = VCF.parse_header(_header_lines(), options)
    batch = VCF.parse(pa.array(EDGE_LINES), header, options, LineSource())
    assert not [n for n in batch.schema.names if n.startswith("INFO_")]
    info = batch.column("attributes").to_pylist()
    assert ("DB", None) in info[0] and ("AF", "0.25,0.5") in info[0]
    assert info[1] is None
    assert batch.schema == VCF.schema(header, options)


def test_registry_and_columns():
    assert format_named("vcf").parser is VCF
    assert (VCF.contig_column, VCF.start_column) == ("contigName", "start")
    header = VCF.parse_header(_header_lines(), {})
    names = VCF.schema(header, {}).names
    assert names[:9] == ["contigName", "start", "end", "names", "referenceAllele",
                         "alternateAlleles", "qual", "filters", "splitFromMultiAllelic"]
    genotype = VCF.schema(header, {}).field("genotypes").type.value_type
    assert [f.name for f in genotype][:3] == ["sampleId", "phased", "calls"]
    assert genotype.field("phredLikelihoods").type == pa.list_(pa.int32())
    assert genotype.field("conditionalQuality").type == pa.int32()
    assert genotype.field("genotypeLikelihoods").type == pa.list_(pa.float64())


MALFORMED = [
    ("1\t10\t.\tA\tC\t.\tPASS", "fewer than 8"),
    ("1\tx\t.\tA\tC\t.\tPASS\t.\tGT\t0\t0\t0", "POS is not an integer"),
    ("1\t10\t.\tA\tC\tq\tPASS\t.\tGT\t0\t0\t0", "QUAL is not a number"),
    ("1\t10\t.\tA\tC\t.\tPASS\tDP=x\tGT\t0\t0\t0", "INFO DP is not Integer"),
    ("1\t10\t.\tA\tC\t.\tPASS\t.\tGT:DP\t0:1\t0:z\t0", "FORMAT DP is not Integer"),
    ("1\t10\t.\tA\tC\t.\tPASS\t.\tGT\t0/x\t0\t0", "GT has an allele"),
    ("1\t10\t.\tA\tC\t.\tPASS\t.\tGT\t0/2\t0\t0", "beyond the line's ALT"),
    ("1\t10\t.\tA\tC\t.\tPASS\t.\tGT\t0\t0", "not 12 columns"),
    ("1\t10\t.\t\tC\t.\tPASS\t.\tGT\t0\t0\t0", "REF is empty"),
    ("1\t10\t.\tA\tC\t.\tPASS\tDP=1;DP=2\tGT\t0\t0\t0", "INFO DP appears twice with different"),
]


@pytest.mark.parametrize("line,reason", MALFORMED)
def test_malformed_line_names_path_position_and_reason(line, reason):
    good = EDGE_LINES[0]
    header = VCF.parse_header(_header_lines(), {})
    positions = np.array([Pos(0, 10).virtual, Pos(7000, 123).virtual, Pos(7000, 456).virtual])
    with pytest.raises(MalformedLineError) as caught:
        VCF.parse(pa.array([good, line, good]), header, {}, LineSource("s3://b/x.vcf.gz", positions))
    error = caught.value
    assert isinstance(error, CorruptDataError) and isinstance(error, ValueError)
    assert error.where == Pos(7000, 123) and error.path == "s3://b/x.vcf.gz"
    assert reason in str(error) and "7000:123" in str(error)
    loose = VCF.parse(pa.array([good, line, good]), header, {"mode": "PERMISSIVE"}, LineSource())
    rows = loose.to_pylist()
    assert rows[1]["_corrupt_record"] == line and rows[1]["contigName"] is None
    assert rows[1]["genotypes"] is None and rows[0]["_corrupt_record"] is None
    assert rows[0]["contigName"] == rows[2]["contigName"] == "1"
    assert loose.schema == VCF.schema(header, {"mode": "PERMISSIVE"})


def test_bad_header_and_options():
    with pytest.raises(CorruptDataError):
        VCF.parse_header(["#CHROM\tPOS\tID"], {})
    header = VCF.parse_header(_header_lines(), {})
    with pytest.raises(ConfigError):
        VCF.parse(pa.array(EDGE_LINES), header, {"mode": "DROPMALFORMED"}, LineSource())
    with pytest.raises(ConfigError):
        VCF.schema(header, {"flattenInfoFields": "maybe"})


def test_sliced_chunked_and_null_input():
    header = VCF.parse_header(_header_lines(), {})
    lines = [line for line in EDGE_LINES if "nan" not in line]
    whole = VCF.parse(pa.array(lines), header, {}, LineSource()).to_pylist()
    sliced = pa.array(["x"] + lines + ["y"]).slice(1, len(lines))
    assert VCF.parse(sliced, header, {}, LineSource()).to_pylist() == whole
    chunked = pa.chunked_array([lines[:2], lines[2:]])
    assert VCF.parse(chunked, header, {}, LineSource()).to_pylist() == whole
    with pytest.raises(ConfigError):
        VCF.parse(pa.array([None, lines[0]]), header, {}, LineSource())


def test_empty_batch_and_large_strings():
    header = VCF.parse_header(_header_lines(), {})
    empty = VCF.parse(pa.array([], pa.string()), header, {}, LineSource())
    assert empty.num_rows == 0 and empty.schema == VCF.schema(header, {})
    lines = [line for line in EDGE_LINES if "nan" not in line]  # NaN != NaN in to_pylist
    large = VCF.parse(pa.array(lines, pa.large_string()), header, {}, LineSource())
    assert large.to_pylist() == VCF.parse(pa.array(lines), header, {}, LineSource()).to_pylist()
