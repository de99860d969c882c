"""Writing the ``record`` column (bytes as stored), and where blocks end (htslib's rule)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import CONTENT_KINDS, build_fixture
from write_helpers import quickcheck, sam_records

from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.record_column import RECORD, record_column
from sparkbam_py.errors import ConfigError
from sparkbam_py.write.block_cuts import block_cuts, block_cuts_kernel
from sparkbam_py.write.commit import UnsortedOutputWarning, commit
from sparkbam_py.write.errors import HeaderMismatchError, RecordEncodeError
from sparkbam_py.write.header import WriteHeader, header_from_bam
from sparkbam_py.write.job import WriteJob
from sparkbam_py.write.records import check_record_columns, records_from_column

NAMES = ["reference_name", "next_reference_name"]


def record_batches(path, columns=NAMES):
    """The BAM's records as the reader gives them with a ``record`` column."""
    with open_bam(str(path)) as bam:
        for chunk in bam.iter_record_chunks():
            decoded = decode_records(chunk.run.data, chunk.offsets, bam.header.reference_names, columns)
            yield decoded.append_column(pa.field(RECORD, pa.binary(), False),
                                        record_column(chunk.run.data, chunk.offsets))


def raw_records(path):
    """Every record's bytes, as samtools writes them uncompressed."""
    return b"".join(b"".join(batch.column(RECORD).to_pylist()) for batch in record_batches(path))


def write(batches, out, header):
    job = WriteJob.create(str(out), header, overwrite=True)
    return commit(job, [job.write_part(batches, 0, 1)])


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    directory = tmp_path_factory.mktemp("record-sources")
    return {kind: build_fixture(CONTENT_KINDS[kind](), "block_aligned", directory).path
            for kind in ("short_reads", "long_cigar", "many_references")}


@pytest.mark.parametrize("kind", ["short_reads", "long_cigar", "many_references"])
def test_records_are_written_byte_for_byte(sources, tmp_path, kind):
    out = tmp_path / "out.bam"
    summary = write(record_batches(sources[kind]), out, header_from_bam(str(sources[kind])))
    assert quickcheck(out)
    assert raw_records(out) == raw_records(sources[kind])
    assert summary["records"] == len(sam_records(sources[kind]))


def test_reference_ids_follow_the_names_into_a_reordered_header(sources, tmp_path):
    source = header_from_bam(str(sources["many_references"]))
    order = list(reversed(range(len(source.reference_names))))
    text = "".join(f"@SQ\tSN:{source.reference_names[i]}\tLN:{source.reference_lengths[i]}\n" for i in order)
    reordered = WriteHeader(text, tuple(source.reference_names[i] for i in order),
                            tuple(source.reference_lengths[i] for i in order))
    out = tmp_path / "out.bam"
    with pytest.warns(UnsortedOutputWarning):  # reversed references: the records are no longer sorted
        write(record_batches(sources["many_references"]), out, reordered)
    # The same SAM text: every record names the same references under the new ids.
    assert sam_records(out) == sam_records(sources["many_references"])


def test_a_name_the_header_lacks_is_refused(sources, tmp_path):
    header = WriteHeader("@SQ\tSN:other\tLN:10\n", ("other",), (10,))
    with pytest.raises(HeaderMismatchError, match="header lacks"):
        write(record_batches(sources["short_reads"]), tmp_path / "out.bam", header)


def test_a_changed_scalar_column_beside_the_record_is_refused(sources):
    batch = next(record_batches(sources["short_reads"], NAMES + ["mapping_quality"]))
    names = pa.array(list(header_from_bam(str(sources["short_reads"])).reference_names))
    records_from_column(batch, names)  # unchanged: accepted
    changed = batch.set_column(2, "mapping_quality", pa.array([7] * batch.num_rows, pa.int32()))
    with pytest.raises(RecordEncodeError, match="mapping_quality is 7 but the record holds"):
        records_from_column(changed, names)


def test_truncated_or_misframed_record_bytes_are_typed_errors(sources):
    batch = next(record_batches(sources["short_reads"]))
    names = pa.array(list(header_from_bam(str(sources["short_reads"])).reference_names))
    records = batch.column(RECORD).to_pylist()
    for broken, message in ((records[3][:-5], "block_size says"), (records[3][:20], "shorter than"),
                            (records[3][:36] + b"\xff" * (len(records[3]) - 36), "not a valid BAM record")):
        column = pa.array(records[:3] + [broken] + records[4:], pa.binary())
        with pytest.raises(RecordEncodeError, match=message):
            records_from_column(batch.set_column(2, RECORD, column), names)


@pytest.mark.parametrize("columns,message", [
    (["record"], "needs reference_name and next_reference_name"),
    (NAMES + ["record", "cigar"], "cigar would be ignored"),
])
def test_ambiguous_record_schemas_are_refused_before_writing(columns, message):
    with pytest.raises(ConfigError, match=message):
        check_record_columns(columns)
    check_record_columns(NAMES + ["record", "flag", "reference_start", "reference_end"])


# -- block cuts ---------------------------------------------------------------------------
def reference_cuts(sizes, open_fill, block_size):
    """htslib's bgzf_flush_try + bgzf_write, record by record."""
    cuts, block_start, position = [], 0, open_fill
    for size in sizes:
        if position > block_start and position + size - block_start > block_size:
            cuts.append(position)
            block_start = position
        for _ in range(size):
            position += 1
            if position - block_start == block_size:
                cuts.append(position)
                block_start = position
    return cuts


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 300), max_size=40), st.integers(0, 99), st.integers(1, 100))
def test_block_cuts_follow_htslib(sizes, open_fill, block_size):
    open_fill = open_fill % block_size
    expected = reference_cuts(sizes, open_fill, block_size)
    assert block_cuts(np.array(sizes, dtype=np.int64), open_fill, block_size).tolist() == expected
    cuts = np.empty(len(sizes) + (open_fill + sum(sizes)) // block_size + 1, dtype=np.int64)
    assert cuts[:block_cuts_kernel(np.array(sizes, dtype=np.int64), open_fill, block_size, cuts)].tolist() == expected
