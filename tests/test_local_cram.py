"""``read_table`` / ``iter_batches`` on CRAM: the ``format("cram")`` task code without Spark."""
from __future__ import annotations

import pyarrow as pa
import pytest

import sparkbam_py
from cram_truth import our_records, truth_records
from fixtures import build_fixture
from fixtures.content import short_reads
from fixtures.cram import SAMTOOLS, convert_to_cram, index_cram, sq_lines, write_random_reference
from sparkbam_py.bam.schema import bam_schema
from sparkbam_py.cram.reference import CramReferenceError

pytestmark = pytest.mark.skipif(SAMTOOLS is None, reason="samtools is needed to write CRAM")


@pytest.fixture(scope="module")
def cram(tmp_path_factory):
    """(cram path, reference path, bam path) of 1,500 pairs in small slices, indexed."""
    folder = tmp_path_factory.mktemp("local_cram")
    bam = build_fixture(short_reads(1500, seed=41), "block_aligned", folder).path
    reference = write_random_reference(sq_lines(bam), folder / "ref.fa")
    path = folder / "reads.cram"
    assert convert_to_cram(bam, path, reference, "3.0", 64)
    index_cram(path)
    return str(path), str(reference), str(bam)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("use_index", [True, False])
def test_read_table_reads_every_cram_record_once(cram, workers, use_index):
    path, reference, _ = cram
    table = sparkbam_py.read_table(path, split_size=4_000, workers=workers, reference=reference,
                                   use_index=use_index)
    assert table.schema == bam_schema(None)
    assert our_records(table) == truth_records(path, reference)


def test_iter_batches_streams_cram_with_chosen_columns(cram):
    path, reference, _ = cram
    batches = list(sparkbam_py.iter_batches([path], ["query_name", "file_path"], split_size=5_000,
                                            reference=reference))
    names = pa.Table.from_batches(batches).column("query_name").to_pylist()
    assert names == [row[0] for row in truth_records(path, reference)]
    assert set(pa.Table.from_batches(batches).column("file_path").to_pylist()) == {path}


def test_reference_is_for_cram_only(cram):
    with pytest.raises(TypeError, match="'reference' for BAM"):
        sparkbam_py.read_table(cram[2], reference=cram[1])


def test_a_wrong_reference_is_a_typed_error(cram, tmp_path):
    path, _, bam = cram
    wrong = write_random_reference(sq_lines(bam), tmp_path / "wrong.fa", seed=9)
    with pytest.raises(CramReferenceError):
        sparkbam_py.read_table(path, reference=str(wrong))
