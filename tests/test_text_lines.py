"""Every line exactly once: bgzipped text in every layout, split at many sizes, read by the
executor-side line reader, equals the writer's own record of the lines and their htslib
virtual offsets.  Verification catches a wrong boundary instead of losing or doubling lines."""
from __future__ import annotations

import random

import pytest

from sparkbam_py import kernels
from sparkbam_py.errors import SplitVerificationError
from sparkbam_py.text import lines as text_lines
from sparkbam_py.text.lines import LineReader
from sparkbam_py.text.plan import iter_task_chunks, plan_text_file
from text_layouts import LAYOUTS, build_text_fixture, sample_text

SPLIT_SIZES = (300, 1000, 4099, 65536, 1 << 40)


@pytest.fixture(autouse=True, params=["numba", "python"])
def kernel_path(request, monkeypatch):
    """Every test on both inflate paths: the compiled multi-block runs and the per-block ones."""
    if request.param == "numba":
        pytest.importorskip("numba")
    monkeypatch.setenv(kernels.KERNELS_ENV, request.param)
    return request.param


def read_lines(path, split_size, verify=True):
    lines, positions = [], []
    for task in plan_text_file(str(path), split_size, verify=verify):
        for chunk in iter_task_chunks(task):
            lines += chunk.to_arrow().to_pylist()
            positions += chunk.positions().tolist()
    return lines, positions


@pytest.fixture(scope="module")
def long_line_text():
    return sample_text(lines=800, long_line=150_000)


@pytest.mark.slow
@pytest.mark.parametrize("empty_blocks", [False, True], ids=["plain", "empty_blocks"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_line_once_in_every_layout(tmp_path, long_line_text, layout, empty_blocks):
    fixture = build_text_fixture(tmp_path, layout, layout, long_line_text, empty_blocks=empty_blocks,
                                 header_cut=True)
    for size in SPLIT_SIZES:
        assert read_lines(fixture.path, size) == (fixture.lines, fixture.positions), size


@pytest.mark.parametrize("shape", [dict(crlf=True), dict(trailing_newline=False),
                                   dict(crlf=True, trailing_newline=False)], ids=["crlf", "no_newline", "both"])
@pytest.mark.parametrize("layout", ["tiny", "line_aligned"])
def test_line_endings(tmp_path, layout, shape):
    fixture = build_text_fixture(tmp_path, layout, layout, sample_text(lines=400, **shape), empty_blocks=True)
    for size in (500, 4099, 1 << 40):
        assert read_lines(fixture.path, size) == (fixture.lines, fixture.positions), size


def test_stored_blocks_and_no_eof_marker(tmp_path):
    fixture = build_text_fixture(tmp_path, "stored", "small", sample_text(lines=300), level=0, eof_marker=False)
    for size in (700, 1 << 40):
        assert read_lines(fixture.path, size) == (fixture.lines, fixture.positions)


def test_one_line_over_many_blocks(tmp_path):
    data = b"x" * 200_000  # one line, no newline at all, over hundreds of tiny blocks
    fixture = build_text_fixture(tmp_path, "one", "tiny", data, empty_blocks=True)
    assert read_lines(fixture.path, 600) == ([data.decode()], [0])


def test_wrong_boundary_raises_instead_of_losing_lines(tmp_path, monkeypatch):
    fixture = build_text_fixture(tmp_path, "t", "small", sample_text(lines=300))
    real = text_lines.find_line_start
    tasks = plan_text_file(str(fixture.path), 5000)
    victim = tasks[2].range.start

    def skipping(reader, offset, stop=None, blocks_to_check=5):
        found = real(reader, offset, stop, blocks_to_check)
        if offset != victim or found is None:
            return found
        run = reader.read_run(found.block_pos, found.offset + 5000)
        index = run.raw.index(b"\n", found.offset) + 1  # claim the NEXT line is the first
        return run.pos_at(index)

    monkeypatch.setattr(text_lines, "find_line_start", skipping)
    lines, _ = read_lines(fixture.path, 5000, verify=False)
    assert len(lines) == len(fixture.lines) - 1  # without verification a line is lost...
    with pytest.raises(SplitVerificationError, match="lines between would be lost"):
        read_lines(fixture.path, 5000)  # ...with it, the read fails naming both positions


def test_reader_start_is_none_for_a_range_inside_one_line(tmp_path):
    rng = random.Random(3)
    fixture = build_text_fixture(tmp_path, "one", "tiny", bytes(rng.choice(b"ACGT") for _ in range(50_000)) + b"\nz\n")
    task = plan_text_file(str(fixture.path), 2000)[3]
    with LineReader(task) as reader:
        assert reader.start is None
        assert reader.count() == 0


def test_tasks_travel_by_pickle_and_still_work(tmp_path):
    import pickle

    from sparkbam_py.text.regions import iter_region_lines, plan_region_partitions

    fixture = build_text_fixture(tmp_path, "p", "small", sample_text(lines=200))
    for task in plan_text_file(str(fixture.path), 4000):
        copy = pickle.loads(pickle.dumps(task))
        assert copy == task
        assert [len(c) for c in iter_task_chunks(copy)] == [len(c) for c in iter_task_chunks(task)]
    bed = tmp_path / "r.bed"
    bed.write_text("".join(f"chr1\t{i}\t{i + 5}\n" for i in range(0, 5000, 10)))
    import pysam

    indexed = pysam.tabix_index(str(bed), preset="bed", force=True)
    for partition in plan_region_partitions(indexed, "chr1:100-900", 300):
        copy = pickle.loads(pickle.dumps(partition))
        same = [lines.to_pylist() for _, lines in iter_region_lines(copy)]
        assert same == [lines.to_pylist() for _, lines in iter_region_lines(partition)]
