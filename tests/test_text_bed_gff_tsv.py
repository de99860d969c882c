"""BED, GFF/GTF and tabix TSV parsers against a straightforward line-by-line reading.

The reference readers below split each line in plain Python; the parsers under test are
vectorised.  Both run on generated lines and on every BED/GFF/GTF/TSV of the text corpus.
"""
from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pytest

from sparkbam_py.errors import ConfigError
from sparkbam_py.pos import Pos
from sparkbam_py.text.bed import BED
from sparkbam_py.text.format import LineSource, MalformedLineError
from sparkbam_py.formats import format_named
from sparkbam_py.text.gff import GFF
from sparkbam_py.text.tsv import TABIX, parse_ddl

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"
# Corpus files that break their format, with the reason the parser must give.
MALFORMED = {
    "Illumina__manta/src__c++__lib__htsapi__test__testData__bed_streamer_test2.bed.gz": "end is before start",
    "pysam-developers__pysam/tests__tabix_data__gtf_toofew_fields.gtf.gz": "not 9 tab-separated columns",
    # Its extra columns are space-separated, glued onto blockStarts: "...,34761 MSTRG.5603 ..."
    "igvteam__igv.js/test__data__hubs__catLiftOff.bed.gz": "column 12 (blockStarts)",
    # bedMethyl with space-separated columns after the tenth; option bedColumns=9 reads it.
    "nanoporetech__modkit/tests__resources__lung_00733-m_primary-tumour_5mc-5hmc_chr20_cpg_pileup.bed.gz":
        "column 10 (blockCount)",
    # Strand in column 7 (not BED6+); option bedColumns=6 reads it.
    "brentp__vcfanno/tests__citest__at__testexon.bed.gz": "column 7 (thickStart)",
}


def reference_bed(line: str) -> dict:
    f = line.split("\t")
    dot = lambda v: None if v == "." else v  # noqa: E731
    ints = lambda v: [int(x) for x in v.rstrip(",").split(",")]  # noqa: E731
    get = lambda i: f[i] if len(f) > i else None  # noqa: E731
    return {"chrom": f[0], "start": int(f[1]), "end": int(f[2]), "name": dot(get(3)),
            "score": None if get(4) in (None, ".") else float(f[4]), "strand": dot(get(5)),
            "thickStart": None if get(6) is None else int(f[6]),
            "thickEnd": None if get(7) is None else int(f[7]), "itemRgb": dot(get(8)),
            "blockCount": None if get(9) is None else int(f[9]),
            "blockSizes": None if get(10) is None else ints(f[10]),
            "blockStarts": None if get(11) is None else ints(f[11]),
            "extraFields": f[12:] or None}


def reference_gff(line: str) -> dict:
    f = line.split("\t")
    if len(f) == 10 and f[9] == "":
        f.pop()
    dot = lambda v: None if v == "." else v  # noqa: E731
    return {"seqid": f[0], "source": dot(f[1]), "type": f[2], "start": int(f[3]) - 1,
            "end": int(f[4]), "score": None if f[5] == "." else float(f[5]), "strand": dot(f[6]),
            "phase": None if f[7] == "." else int(f[7]), "attributes": _reference_attributes(f[8])}


def _reference_attributes(text: str):
    pairs = []
    for entry in (e.strip() for e in text.split(";")):
        if not entry or text == ".":
            continue
        if re.match(r'^[^\s=;"]+=', entry):
            key, _, value = entry.partition("=")
            pairs.append((unquote(key), unquote(value)))
        else:
            key, _, value = entry.partition(" ")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            pairs.append((key, value))
    merged = {}
    for key, value in pairs:
        merged[key] = merged[key] + "," + value if key in merged else value
    return sorted(merged.items()) or None


def _parse(fmt, lines, options=None, header_lines=()):
    header = fmt.parse_header(list(header_lines), options or {})
    batch = fmt.parse(pa.array(lines, pa.string()), header, options or {}, LineSource("x"))
    assert batch.schema == fmt.schema(header, options or {})
    return batch


def _sorted_maps(rows, column):
    for row in rows:
        row[column] = sorted(row[column]) if row[column] else None
    return rows


BED_LINES = ["chr1\t0\t10", "chr1\t5\t50\tfoo\t3.5\t+\t6\t40\t255,0,0\t2\t10,20,\t0,30,",
             "chr2\t1\t1\t.\t0\t-", "chrX\t7\t9\tn\t960\t.\t7\t9\t0\t1\t2\t0\tex1\tex2"]
GFF_LINES = [
    "ctg1\tsrc\tgene\t1000\t9000\t.\t+\t.\tID=gene0;Name=EDEN;Note=a%2Cb%3Bc",
    "ctg1\t.\tCDS\t1201\t1500\t0.5\t-\t2\tID=cds0;Parent=mRNA1,mRNA2",
    'chr1\tENSEMBL\texon\t11\t20\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; tag "basic"; tag "CCDS"; level 2;',
    "chr1\thavana\tgene\t5\t5\t.\t?\t.\t.",
]


def test_bed_equals_reference():
    rows = _parse(BED, BED_LINES).to_pylist()
    assert rows == [reference_bed(line) for line in BED_LINES]
    assert format_named("bed").parser is BED and (BED.contig_column, BED.start_column) == ("chrom", "start")


def test_bed_columns_option():
    batch = _parse(BED, BED_LINES, {"bedcolumns": "6"})
    assert batch.schema.names == ["chrom", "start", "end", "name", "score", "strand", "extraFields"]
    assert batch.column("extraFields").to_pylist()[1] == ["6", "40", "255,0,0", "2", "10,20,", "0,30,"]
    with pytest.raises(ConfigError):
        _parse(BED, BED_LINES, {"bedColumns": "2"})


def test_gff_equals_reference():
    rows = _sorted_maps(_parse(GFF, GFF_LINES).to_pylist(), "attributes")
    assert rows == [reference_gff(line) for line in GFF_LINES]
    assert dict(rows[0]["attributes"])["Note"] == "a,b;c"
    assert dict(rows[2]["attributes"])["tag"] == "basic,CCDS"
    assert format_named("gff").parser is GFF


def test_gff_flavor_option():
    forced = _parse(GFF, GFF_LINES[:1], {"gffFlavor": "gtf"}).to_pylist()[0]["attributes"]
    assert forced[0][0] == "ID=gene0"  # read as GTF, the whole entry is one key
    with pytest.raises(ConfigError):
        _parse(GFF, GFF_LINES, {"gffFlavor": "gff4"})


BAD = [
    (BED, "chr1\t5", "fewer than 3"), (BED, "chr1\tx\t9", "column 2 (start)"),
    (BED, "chr1\t9\t5", "end is before start"), (BED, "chr1\t-1\t5", "start is negative"),
    (BED, "chr1\t1\t5\tn\t0\t+\t1\t5\t0\t1\tz\t0", "column 11 (blockSizes)"),
    (GFF, "c\ts\tt\t1\t5\t.\t+\t.", "not 9"), (GFF, "c\ts\tt\tx\t5\t.\t+\t.\t.", "start (column 4)"),
    (GFF, "c\ts\tt\t0\t5\t.\t+\t.\t.", "below 1"), (GFF, "c\ts\tt\t9\t5\t.\t+\t.\t.", "end is before"),
    (GFF, "c\ts\tt\t1\t5\tq\t+\t.\t.", "score (column 6)"),
]


@pytest.mark.parametrize("fmt,line,reason", BAD)
def test_malformed_lines(fmt, line, reason):
    good = BED_LINES[0] if fmt is BED else GFF_LINES[0]
    header = fmt.parse_header([], {})
    where = LineSource("f.gz", [Pos(0, 0).virtual, Pos(99, 7).virtual])
    with pytest.raises(MalformedLineError) as caught:
        fmt.parse(pa.array([good, line]), header, {}, where)
    assert reason in str(caught.value) and caught.value.where == Pos(99, 7)
    loose = fmt.parse(pa.array([good, line]), header, {"mode": "permissive"}, where).to_pylist()
    assert loose[1]["_corrupt_record"] == line and loose[0]["_corrupt_record"] is None
    assert loose[1]["start"] is None and loose[0]["start"] == 0 if fmt is BED else 999


def test_tabix_tsv_header_names_and_zero_based_begin():
    header_lines = ["#chrom\tbegin\tend\tvalue"]
    lines = ["chr1\t10\t20\t0.5", "chr1\t30\t40\t."]
    options = {"seqColumn": "1", "beginColumn": "2", "endColumn": "3", "zeroBased": "true"}
    batch = _parse(TABIX, lines, options, header_lines)
    assert batch.to_pylist() == [{"chrom": "chr1", "begin": 10, "end": 20, "value": "0.5"},
                                 {"chrom": "chr1", "begin": 30, "end": 40, "value": "."}]
    header = TABIX.parse_header(header_lines, options)
    assert (header.contig_column, header.start_column) == ("chrom", "begin")
    assert format_named("tabix").parser is TABIX


def test_tabix_tsv_ddl_schema_one_based():
    options = {"schema": "chrom STRING, pos INT, score DOUBLE, ok BOOLEAN", "begincolumn": "2"}
    rows = _parse(TABIX, ["1\t100\t2.5\ttrue", "1\t7\t.\tfalse"], options).to_pylist()
    assert rows == [{"chrom": "1", "pos": 99, "score": 2.5, "ok": True},
                    {"chrom": "1", "pos": 6, "score": None, "ok": False}]
    with pytest.raises(MalformedLineError, match="column 3"):
        _parse(TABIX, ["1\t100\tx\ttrue"], options)
    with pytest.raises(MalformedLineError, match="below 1"):
        _parse(TABIX, ["1\t0\t1\ttrue"], options)
    assert parse_ddl("`a b` STRING, n BIGINT").names == ["a b", "n"]


def test_tabix_tsv_needs_names():
    with pytest.raises(ConfigError, match="schema"):
        TABIX.parse_header([], {})
    with pytest.raises(ConfigError):
        parse_ddl("a MAP")
    with pytest.raises(ConfigError):
        TABIX.parse_header(["#a\tb"], {"beginColumn": "5"})


def _corpus(kinds):
    manifest = CORPUS_TEXT / "MANIFEST.tsv"
    if not manifest.is_file():
        return ["<absent>"]
    with open(manifest, newline="") as handle:
        return [r["file"] for r in csv.DictReader(handle, delimiter="\t") if r["kind"] in kinds]


def _read(path):
    with gzip.open(path, "rt", newline="") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    header = [line for line in lines if line.startswith(("#", "track", "browser"))]
    return header, [line for line in lines if line and not line.startswith(("#", "track", "browser"))]


@pytest.mark.corpus
@pytest.mark.parametrize("name", _corpus({"bed", "gff", "gtf"}))
def test_corpus_bed_gff_equal_reference(name):
    if name == "<absent>":
        pytest.skip(f"text corpus not found at {CORPUS_TEXT}")
    header, data = _read(CORPUS_TEXT / name)
    is_bed = ".bed" in name or ".bg." in name
    fmt, reference = (BED, reference_bed) if is_bed else (GFF, reference_gff)
    if name in MALFORMED:
        with pytest.raises(MalformedLineError, match=re.escape(MALFORMED[name])):
            _parse(fmt, data, header_lines=header)
        return
    rows = _parse(fmt, data, header_lines=header).to_pylist()
    if fmt is GFF:
        rows = _sorted_maps(rows, "attributes")
    assert rows == [reference(line) for line in data]


@pytest.mark.corpus
@pytest.mark.parametrize("name", _corpus({"tsv"}))
def test_corpus_tsv_all_lines_parse(name):
    if name == "<absent>":
        pytest.skip(f"text corpus not found at {CORPUS_TEXT}")
    header, data = _read(CORPUS_TEXT / name)
    width = max(len(line.split("\t")) for line in data)
    if any(len(line.split("\t")) != width for line in data):
        pytest.skip("ragged TSV: needs a schema per file")
    if width < 2:
        pytest.skip("one column: no begin column to index on")
    names = ",".join(f"c{i}" for i in range(width))
    options = {"columns": names, "beginColumn": "2", "mode": "PERMISSIVE"}
    rows = _parse(TABIX, data, options).to_pylist()
    assert len(rows) == len(data)
    for row, line in zip(rows, data):
        fields = line.split("\t")
        begin = fields[1]
        if row["_corrupt_record"] is not None:  # the begin column is not a 1-based integer
            assert row["_corrupt_record"] == line
            assert not (begin.isdigit() and int(begin) >= 1)
        else:
            assert [row[f"c{i}"] for i in range(width)] == \
                [int(f) - 1 if i == 1 else f for i, f in enumerate(fields)]


def test_headers_and_formats_pickle():
    """Headers travel from the driver to executors; formats are looked up by name there."""
    import pickle

    vcf_header = format_named("vcf").parser.parse_header(['##INFO=<ID=DP,Number=1,Type=Integer,Description="d">',
                                              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"], {})
    tsv_header = TABIX.parse_header(["#a\tb"], {})
    for fmt, header in ((format_named("vcf").parser, vcf_header), (TABIX, tsv_header), (BED, BED.parse_header([], {})),
                        (GFF, GFF.parse_header(["##gff-version 3"], {}))):
        copy = pickle.loads(pickle.dumps(header))
        assert fmt.schema(copy, {}) == fmt.schema(header, {})
        assert pickle.loads(pickle.dumps(fmt)).name == fmt.name
