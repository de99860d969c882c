"""Text that is not BGZF (plain gzip read whole with a warning; uncompressed text split by
Hadoop's newline rule) and broken files (typed errors with path and offset, never a short read)."""
from __future__ import annotations

import bz2
import gzip

import pytest

from sparkbam_py.errors import CorruptDataError, NotBgzfError, TruncatedError
from sparkbam_py.text.plan import iter_task_chunks, plan_text_file
from sparkbam_py.text.sniff import NotSplittableWarning
from text_layouts import build_text_fixture, sample_text, truth_lines


def read_lines(path, split_size):
    lines, positions = [], []
    for task in plan_text_file(str(path), split_size):
        for chunk in iter_task_chunks(task):
            lines += chunk.to_arrow().to_pylist()
            positions += chunk.positions().tolist()
    return lines, positions


def byte_offsets(data: bytes):
    offsets, at = [], 0
    for line in data.split(b"\n")[: len(truth_lines(data))]:
        offsets.append(at)
        at += len(line) + 1
    return offsets


@pytest.mark.parametrize("shape", [{}, dict(crlf=True), dict(trailing_newline=False)], ids=["lf", "crlf", "no_newline"])
def test_uncompressed_text_is_split_by_newlines(tmp_path, shape):
    data = sample_text(lines=500, **shape)
    path = tmp_path / "x.txt"
    path.write_bytes(data)
    for size in (300, 4097, len(data) - 1, 1 << 40):
        assert read_lines(path, size) == (truth_lines(data), byte_offsets(data)), size
    small = data[:700]
    path.write_bytes(small)
    for size in (1, 2, 3, 50):
        assert read_lines(path, size) == (truth_lines(small), byte_offsets(small)), size


@pytest.mark.parametrize("members", [1, 3])
def test_plain_gzip_is_read_whole_with_a_warning(tmp_path, members):
    data = sample_text(lines=500)
    path = tmp_path / "plain.vcf.gz"
    cut = [0, len(data) // 3, len(data) // 2, len(data)][: members] + [len(data)]
    path.write_bytes(b"".join(gzip.compress(data[a:b]) for a, b in zip(cut, cut[1:])))
    with pytest.warns(NotSplittableWarning, match=r"plain\.vcf\.gz.*bgzip"):
        tasks = plan_text_file(str(path), 1000)
    assert len(tasks) == 1
    lines = [line for task in tasks for chunk in iter_task_chunks(task) for line in chunk.to_arrow().to_pylist()]
    assert lines == truth_lines(data)


def test_truncated_plain_gzip_is_an_error(tmp_path):
    whole = gzip.compress(sample_text(lines=2000))
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.warns(NotSplittableWarning), pytest.raises(TruncatedError, match="cut.gz"):
        read_lines(path, 1000)


def test_corrupt_plain_gzip_is_an_error(tmp_path):
    whole = bytearray(gzip.compress(sample_text(lines=2000)))
    whole[200:260] = bytes(60)
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(whole))
    with pytest.warns(NotSplittableWarning), pytest.raises(CorruptDataError, match="bad.gz"):
        read_lines(path, 1000)


def test_garbage_after_gzip_member_is_an_error(tmp_path):
    path = tmp_path / "tail.gz"
    path.write_bytes(gzip.compress(b"a\nb\n") + b"junk")
    with pytest.warns(NotSplittableWarning), pytest.raises(CorruptDataError, match="not another gzip member"):
        read_lines(path, 1000)


def test_other_compression_is_refused(tmp_path):
    path = tmp_path / "x.bz2"
    path.write_bytes(bz2.compress(b"a\nb\n"))
    with pytest.raises(NotBgzfError, match="bzip2"):
        plan_text_file(str(path))


def test_truncated_bgzf_text_is_an_error_at_every_split_size(tmp_path):
    fixture = build_text_fixture(tmp_path, "t", "small", sample_text(lines=300), eof_marker=False)
    whole = fixture.path.read_bytes()
    fixture.path.write_bytes(whole[:-40])
    for size in (500, 5000, 1 << 40):
        with pytest.raises(TruncatedError, match="t.gz") as error:
            read_lines(fixture.path, size)
        assert error.value.compressed_offset is not None


def test_corrupt_bgzf_block_is_an_error(tmp_path):
    fixture = build_text_fixture(tmp_path, "c", "small", sample_text(lines=300))
    data = bytearray(fixture.path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 8] = b"\xff" * 8
    fixture.path.write_bytes(bytes(data))
    with pytest.raises(CorruptDataError, match="c.gz"):
        read_lines(fixture.path, 1 << 40)


def test_empty_files_have_no_lines(tmp_path):
    empty = tmp_path / "e.txt"
    empty.write_bytes(b"")
    assert read_lines(empty, 100) == ([], [])
    fixture = build_text_fixture(tmp_path, "e", "small", b"")
    assert read_lines(fixture.path, 100) == ([], [])
