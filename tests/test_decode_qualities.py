"""Quality scores: 0..93 print as SAM text; a higher score is a located error on both kernel paths."""
from __future__ import annotations

import array

import pysam
import pytest

from sparkbam_py import kernels
from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.file import open_bam
from sparkbam_py.errors import CorruptRecordError


def write_reads(path, scores_per_read):
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "c", "LN": 1000}]})
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for index, scores in enumerate(scores_per_read):
            read = pysam.AlignedSegment(header)
            read.query_name, read.flag, read.reference_id, read.reference_start = f"r{index}", 4, -1, -1
            read.query_sequence = "A" * len(scores)
            read.query_qualities = array.array("B", scores)
            out.write(read)
    return path


def qualities(path):
    with open_bam(str(path)) as bam:
        return [value for chunk in bam.iter_record_chunks()
                for value in decode_records(chunk.run.data, chunk.offsets, bam.header.reference_names,
                                            ["query_qualities"], path=str(path)).column(0).to_pylist()]


@pytest.mark.parametrize("kernel_path", ["numba", "python"])
def test_scores_up_to_93_print_as_sam_text(tmp_path, monkeypatch, kernel_path):
    monkeypatch.setenv(kernels.KERNELS_ENV, kernel_path)
    path = write_reads(tmp_path / "ok.bam", [[0, 40, 93], [2, 2]])
    assert qualities(path) == ["!I~", "##"]


@pytest.mark.parametrize("kernel_path", ["numba", "python"])
@pytest.mark.parametrize("score", [94, 126, 223, 254])
def test_a_score_above_93_names_the_record_and_base(tmp_path, monkeypatch, kernel_path, score):
    monkeypatch.setenv(kernels.KERNELS_ENV, kernel_path)
    path = write_reads(tmp_path / "bad.bam", [[30, 30], [30, 30, 30, score, 30]])
    with pytest.raises(CorruptRecordError, match=f"record 1 of the batch.*quality score {score} at base 3 is above 93"):
        qualities(path)
