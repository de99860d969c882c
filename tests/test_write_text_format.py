"""Writing text without Spark: headers from schemas, samples, widths, refusals, indexes.

Rows are made here (pyarrow), or read from VCFs pysam writes; parts are written as Spark's
tasks write them (one ``write_part`` per task) and committed.
"""
from __future__ import annotations

import json
import subprocess

import pyarrow as pa
import pysam
import pytest

from sparkbam_py.formats import format_named
from sparkbam_py.text.vcf_write_header import SPARK_METADATA, vcf_write_header
from sparkbam_py.write.errors import RecordEncodeError
from sparkbam_py.write.text_commit import UnsortedOutputError
from write_text_support import ATTEMPT, index_disagreements, make_vcf, records, tabix, text_lines

GENOTYPE = pa.struct([("sampleId", pa.string()), ("phased", pa.bool_()), ("calls", pa.list_(pa.int32())),
                      ("depth", pa.int32())])


def write_parts(fmt, out, parts, schema=None, **options):
    """Each list of batches in ``parts`` written as one task's part, then committed."""
    schema = schema or parts[0][0].schema
    job = format_named(fmt).open_write({"path": str(out), **{k: str(v) for k, v in options.items()}}, True, schema)
    try:
        summaries = [job.write_part(iter(batches), number, ATTEMPT) for number, batches in enumerate(parts)]
    except BaseException:
        job.abort()  # as Spark does when a task fails for good
        raise
    return job.commit(summaries)


def bed_batch(chroms, starts, **columns):
    data = {"chrom": chroms, "start": starts, "end": [s + 10 for s in starts], **columns}
    return pa.RecordBatch.from_pydict(data)


def variants(contigs, starts, genotypes=None, **columns):
    data = {"contigName": contigs, "start": starts, "referenceAllele": ["A"] * len(starts),
            "alternateAlleles": [["C"]] * len(starts), **columns}
    if genotypes is not None:
        data["genotypes"] = pa.array(genotypes, pa.list_(GENOTYPE))
    return pa.RecordBatch.from_pydict(data)


def test_vcf_header_from_schema_uses_glow_metadata_and_reserved_keys():
    described = pa.field("INFO_CSQ", pa.list_(pa.string()), metadata={
        SPARK_METADATA: json.dumps({"vcf_header_description": "from VEP", "vcf_header_count": "UNBOUNDED"})})
    schema = pa.schema([pa.field("contigName", pa.string()), pa.field("INFO_AF", pa.list_(pa.float64())),
                        pa.field("INFO_DB", pa.bool_()), pa.field("INFO_X", pa.int32()), described,
                        pa.field("genotypes", pa.list_(GENOTYPE))])
    header = vcf_write_header(schema).text(["s1", "s2"])
    assert '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">' in header
    assert '##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP membership">' in header
    assert '##INFO=<ID=X,Number=1,Type=Integer,Description="">' in header
    assert '##INFO=<ID=CSQ,Number=.,Type=String,Description="from VEP">' in header
    assert '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">' in header
    assert '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">' in header
    assert header.endswith("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\n")


def test_vcf_samples_put_in_header_order_and_missing_ones_written_missing(tmp_path):
    def call(sample, calls, phased=False, depth=None):
        return {"sampleId": sample, "phased": phased, "calls": calls, "depth": depth}

    batch = variants(["1", "1"], [99, 199], [[call("b", [0, 1], depth=7), call("a", [1, 1], True)],
                                             [call("a", [-1, -1])]])
    header = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\n"
    write_parts("vcf", tmp_path / "x.vcf.gz", [[batch]], header=header)
    lines = text_lines(tmp_path / "x.vcf.gz")[1]
    assert [line.split("\t")[8:] for line in lines] == [["GT:DP", "1|1:.", "0/1:7"], ["GT", "./.", "."]]
    with pysam.VariantFile(str(tmp_path / "x.vcf.gz")) as vcf:  # htslib reads what we wrote
        first = next(iter(vcf))
        assert first.pos == 100 and first.samples["b"]["GT"] == (0, 1) and first.samples["b"]["DP"] == 7


def test_vcf_end_kept_through_info(tmp_path):
    batch = variants(["1"], [999], end=[5000])
    write_parts("vcf", tmp_path / "sv.vcf.gz", [[batch]])
    assert text_lines(tmp_path / "sv.vcf.gz")[1][0].split("\t")[7] == "END=5000"
    assert tabix(tmp_path / "sv.vcf.gz", "1:4000-4100").count("\n") == 1  # indexed to its END


@pytest.mark.parametrize("column, value, message", [
    ("contigName", None, "contigName .CHROM. is null"),
    ("referenceAllele", "A\tC", "holds a tab or line break"),
])
def test_unwritable_rows_are_typed_errors(tmp_path, column, value, message):
    batch = variants(["1"], [5])
    batch = batch.set_column(batch.schema.get_field_index(column), column, pa.array([value], pa.string()))
    with pytest.raises(RecordEncodeError, match=message):
        write_parts("vcf", tmp_path / "bad.vcf.gz", [[batch]])
    assert not list(tmp_path.iterdir())


def test_unsorted_rows_refused_with_where(tmp_path):
    first, second = bed_batch(["chr1", "chr2"], [10, 5]), bed_batch(["chr1"], [50])
    with pytest.raises(UnsortedOutputError, match="partition 1: chr1 appears again after chr2"):
        write_parts("bed", tmp_path / "x.bed.gz", [[first], [second]])
    with pytest.raises(UnsortedOutputError, match="chr1:6 comes after chr1:11"):
        write_parts("bed", tmp_path / "y.bed.gz", [[bed_batch(["chr1", "chr1"], [10, 5])]])
    assert not list(tmp_path.iterdir())
    write_parts("bed", tmp_path / "z.bed.gz", [[first], [second]], index="false")
    assert len(text_lines(tmp_path / "z.bed.gz")[1]) == 3


def test_sort_within_tasks_orders_parts_or_refuses_overlap(tmp_path):
    late, early = bed_batch(["chr2", "chr2"], [30, 10]), bed_batch(["chr1", "chrX"], [7, 3])
    write_parts("bed", tmp_path / "s.bed.gz", [[late], [early]], sort="true", contigs="chrX,chr1,chr2")
    assert [line.split("\t")[:2] for line in text_lines(tmp_path / "s.bed.gz")[1]] == \
        [["chrX", "3"], ["chr1", "7"], ["chr2", "10"], ["chr2", "30"]]
    with pytest.raises(UnsortedOutputError, match="overlapping"):
        write_parts("bed", tmp_path / "o.bed.gz", [[late], [bed_batch(["chr2"], [20])]], sort="true")


def test_positions_past_2_29_get_a_csi_tabix_agrees_with(tmp_path):
    far = bed_batch(["big"] * 3, [5, 700_000_000, 900_000_000])
    summary = write_parts("bed", tmp_path / "far.bed.gz", [[far.slice(0, 2)], [far.slice(2)]])
    assert summary["indexes"] == [str(tmp_path / "far.bed.gz") + ".csi"]
    regions = ["big:1-100", "big:700000001-700000005", "big:899999990-900000020"]
    assert index_disagreements(tmp_path / "far.bed.gz", ["-p", "bed"], tmp_path, regions) == []
    assert write_parts("bed", tmp_path / "asked.bed.gz", [[far.slice(0, 1)]], index="csi")["indexes"][0].endswith(".csi")


def test_bed_widths_and_dots(tmp_path):
    batch = bed_batch(["c", "c"], [1, 5], name=["a", None], strand=[None, "+"],
                      blockSizes=pa.array([None, None], pa.list_(pa.int32())))
    write_parts("bed", tmp_path / "w.bed.gz", [[batch]])
    assert text_lines(tmp_path / "w.bed.gz")[1] == ["c\t1\t11\ta", "c\t5\t15\t.\t.\t+"]
    write_parts("bed", tmp_path / "f.bed.gz", [[batch.drop_columns(["blockSizes"])]], bedColumns=6)
    assert text_lines(tmp_path / "f.bed.gz")[1] == ["c\t1\t11\ta\t.\t.", "c\t5\t15\t.\t.\t+"]


def test_gff3_escapes_and_gtf_quotes(tmp_path):
    attributes = pa.array([[("ID", "g1"), ("Note", "a;b=c,d")]], pa.map_(pa.string(), pa.string()))
    batch = pa.RecordBatch.from_pydict({"seqid": ["1"], "source": [None], "type": ["gene"], "start": [0],
                                        "end": [10], "score": [None], "strand": ["+"], "phase": [None],
                                        "attributes": attributes})
    write_parts("gff", tmp_path / "a.gff3.gz", [[batch]])
    assert text_lines(tmp_path / "a.gff3.gz")[1] == ["1\t.\tgene\t1\t10\t.\t+\t.\tID=g1;Note=a%3Bb%3Dc,d"]
    write_parts("gff", tmp_path / "a.gtf.gz", [[batch.set_column(8, "attributes", pa.array(
        [[("gene_id", "g1"), ("tag", "basic")]], pa.map_(pa.string(), pa.string())))]])
    assert text_lines(tmp_path / "a.gtf.gz")[1][0].endswith('gene_id "g1"; tag "basic"')


def test_tsv_zero_based_and_nested_columns_refused(tmp_path):
    rows = pa.RecordBatch.from_pydict({"chrom": ["1", "1"], "pos": [0, 9], "value": [0.5, None]})
    write_parts("tabix", tmp_path / "t.tsv.gz", [[rows]])
    assert text_lines(tmp_path / "t.tsv.gz") == (["#chrom\tpos\tvalue"], ["1\t1\t0.5", "1\t10\t."])
    assert tabix(tmp_path / "t.tsv.gz", "1:10-10") == "1\t10\t.\n"
    write_parts("tabix", tmp_path / "z.tsv.gz", [[rows]], zeroBased="true")
    assert text_lines(tmp_path / "z.tsv.gz")[1] == ["1\t0\t0.5", "1\t9\t."]
    nested = rows.append_column("list", pa.array([[1], [2]]))
    with pytest.raises(Exception, match="scalar columns only"):
        write_parts("tabix", tmp_path / "n.tsv.gz", [[nested]])


def test_append_adds_shards_and_a_file_cannot_be_appended(tmp_path):
    batch = bed_batch(["c"], [1])
    job = format_named("bed").open_write({"path": str(tmp_path / "d"), "sharded": "true"}, False, batch.schema)
    job.commit([job.write_part(iter([batch]), 0, ATTEMPT)])
    job = format_named("bed").open_write({"path": str(tmp_path / "d"), "sharded": "true"}, False, batch.schema)
    job.commit([job.write_part(iter([batch]), 0, ATTEMPT)])
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == \
        ["part-00000.bed.gz", "part-00000.bed.gz.tbi", "part-00001.bed.gz", "part-00001.bed.gz.tbi"]
    write_parts("bed", tmp_path / "one.bed.gz", [[batch]])
    with pytest.raises(Exception, match="cannot be appended"):
        format_named("bed").open_write({"path": str(tmp_path / "one.bed.gz")}, False, batch.schema)


def test_pysam_vcf_round_trip_many_parts(tmp_path):
    """A VCF pysam writes (several contigs, multi-allelics, flags, phased and missing calls),
    read in small splits and written back as many parts: bcftools sees the same records."""
    source = make_vcf(tmp_path / "s.vcf.gz", 3000)
    read = format_named("vcf").open_read({"path": str(source), "splitSize": "3k"})
    tasks = read.tasks()
    assert len(tasks) > 3
    write_parts("vcf", tmp_path / "out.vcf.gz", [list(read.read(task)) for task in tasks], read.arrow_schema,
                headerFrom=str(source))

    def view(path):
        return subprocess.run(["bcftools", "view", "-H", str(path)], capture_output=True, text=True,
                              check=True).stdout
    assert view(tmp_path / "out.vcf.gz") == view(source)
    assert records("vcf", tmp_path / "out.vcf.gz") == records("vcf", source)


def test_vcf_sample_columns_same_from_the_compiled_and_arrow_paths(monkeypatch):
    """Samples out of order or absent, null and empty values, null and negative numbers, a
    line with no value at all, extra keys in otherFields: the compiled
    layout of sample columns (integers printed into it) gives the Arrow path's bytes."""
    genotype = pa.struct([("sampleId", pa.string()), ("phased", pa.bool_()), ("calls", pa.list_(pa.int32())),
                          ("alleleDepths", pa.list_(pa.int32())), ("depth", pa.int64()),
                          ("otherFields", pa.map_(pa.string(), pa.string()))])

    def call(sample, calls=None, depths=None, depth=None, other=None, phased=False):
        return {"sampleId": sample, "phased": phased, "calls": calls, "alleleDepths": depths, "depth": depth,
                "otherFields": other}

    rows = [[call("a", [0, 1], [3, 4], 7), call("b", [1, 1], [], None, [("FT", "PASS")], True), call("c", [2, 10])],
            [call("c"), call("a")],
            [call("b", [-1], None, 5), call("c", [0, 1, 2], [1, 2, 3], None, [("FT", "q10")]), call("a", [0, 0])],
            [call("a", None, [None, -4], 3), call("b", [0, 1]), call("c", [1, 0], None, None, None, True)],
            [call("a", [0, 1], [1, 2], 4), call("b", [0, 0], [None, None], -7), call("c", [1, 1], [0, 5], 12345678901)]]
    plain = variants(["1"] * 5, [10, 20, 30, 40, 50])
    batch = plain.append_column("genotypes", pa.array(rows, pa.list_(genotype)))
    header = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\tc"
    writer = format_named("vcf").open_write({"path": "unused.vcf.gz", "header": header}, True, batch.schema)
    line_writer = writer.job.line_writer
    monkeypatch.setenv("SPARKBAM_KERNELS", "python")
    expected = line_writer.format(batch, None).lines.to_pylist()
    monkeypatch.setenv("SPARKBAM_KERNELS", "numba")
    assert line_writer.format(batch, None).lines.to_pylist() == expected
    assert [line.split("\t", 8)[8] for line in expected] == [
        "GT:AD:DP:FT\t0/1:3,4:7:.\t1|1::.:PASS\t2/10:.:.:.",
        "GT\t.\t.\t.",
        "GT:AD:DP:FT\t0/0:.:.:.\t.:.:5:.\t0/1/2:1,2,3:.:q10",
        "GT:AD:DP\t.:.,-4:3\t0/1:.:.\t1|0:.:.",
        "GT:AD:DP\t0/1:1,2:4\t0/0:.,.:-7\t1/1:0,5:12345678901",
    ]
