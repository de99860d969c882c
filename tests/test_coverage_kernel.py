"""The compiled depth kernel gives the numpy path's events, chunk by chunk: every CIGAR op,
every filter, strand/read-group/sample tracks, long CIGARs in CG tags, sorted and unsorted
input, blocks cut at chunk boundaries; and a corrupt record raises the same typed error."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from depth_fixtures.data import write_coverage_bam
from fixtures import build_fixture
from fixtures.content_special import long_cigar
from sparkbam_py.kernels import KERNELS_ENV
from sparkbam_py.bgzf.writer import BgzfWriter
from sparkbam_py.coverage.blocks import DEFAULT_EXCLUDE_FLAGS, DepthFilter
from sparkbam_py.coverage.compute import plan_coverage
from sparkbam_py.coverage.depth_kernel import compiled_depth_kernel
from sparkbam_py.coverage.split_depth import compute_split_depth
from sparkbam_py.errors import CorruptRecordError

pytest.importorskip("numba")
ALL_GROUPINGS = ("strand", "read_group", "sample")


@pytest.fixture(scope="module")
def coverage_bam(tmp_path_factory):
    return write_coverage_bam(tmp_path_factory.mktemp("kernel"))


def split_events(plan, monkeypatch, kernels: str) -> dict:
    """{(contig, chunk): sorted start keys, sorted end keys} over all of ``plan``'s splits."""
    monkeypatch.setenv(KERNELS_ENV, kernels)
    found = {}
    for task in plan.tasks:
        keys, start_keys, end_keys = compute_split_depth(task, plan.job).events()
        for key in np.unique(keys).tolist():
            starts, ends = found.get((key >> 32, key & 0xFFFFFFFF), ([], []))
            found[(key >> 32, key & 0xFFFFFFFF)] = (starts + [start_keys[keys == key]], ends + [end_keys[keys == key]])
    return {key: (np.sort(np.concatenate(starts)), np.sort(np.concatenate(ends)))
            for key, (starts, ends) in found.items()}


def assert_same_events(plan, monkeypatch):
    compiled_events = split_events(plan, monkeypatch, "numba")
    numpy_events = split_events(plan, monkeypatch, "python")
    assert compiled_events.keys() == numpy_events.keys()
    assert compiled_events, "no events at all: the comparison would prove nothing"
    for key, (starts, ends) in numpy_events.items():
        assert np.array_equal(compiled_events[key][0], starts), key
        assert np.array_equal(compiled_events[key][1], ends), key


@pytest.mark.parametrize("depth_filter", [
    DepthFilter(),
    DepthFilter(count_deletions=True),
    DepthFilter(min_mapq=20, exclude_flags=DEFAULT_EXCLUDE_FLAGS | 0x800),
    DepthFilter(exclude_flags=0, require_flags=0x10),
])
@pytest.mark.parametrize("groupings", [(), ALL_GROUPINGS])
def test_kernel_events_equal_the_numpy_paths(coverage_bam, monkeypatch, depth_filter, groupings):
    plan = plan_coverage([str(coverage_bam)], split_size=7_000, groupings=groupings, depth_filter=depth_filter)
    assert compiled_depth_kernel() is not None
    assert_same_events(plan, monkeypatch)


def test_blocks_cut_at_chunk_boundaries_and_unsorted_input(tmp_path, monkeypatch):
    unsorted = write_coverage_bam(tmp_path, "unsorted", sort=False)
    # All ten tracks: 2**16 bases per chunk would hold every contig whole; the kernel's chunk
    # cut is exercised by planning the job with a far shorter chunk.
    plan = plan_coverage([str(unsorted)], split_size=5_000, groupings=ALL_GROUPINGS)
    job = plan.job.__class__(plan.job.depth_filter, plan.job.layout, 4096, plan.job.contigs, plan.job.lengths)
    plan = plan.__class__(plan.tasks, job, plan.contigs, plan.metadata)
    assert_same_events(plan, monkeypatch)
    assert max(chunk for _, chunk in split_events(plan, monkeypatch, "numba")) >= 4


def test_long_cigars_take_the_numpy_path_and_agree(tmp_path, monkeypatch):
    path = build_fixture(long_cigar(), "htsjdk", tmp_path).path
    plan = plan_coverage([str(path)], split_size=50_000, depth_filter=DepthFilter(count_deletions=True),
                         groupings=("strand",))
    assert_same_events(plan, monkeypatch)


@pytest.mark.parametrize("groupings", [(), ("read_group",)])
@pytest.mark.parametrize("corruption, message", [("op code", "op code 9"), ("name end", "not NUL-terminated")])
def test_a_bad_record_raises_the_numpy_paths_typed_error(tmp_path, monkeypatch, groupings, corruption, message):
    import pysam

    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chrA", "LN": 1000}]}
    path = tmp_path / "bad.bam"
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        read = pysam.AlignedSegment(out.header)
        read.query_name, read.reference_id, read.reference_start = "readX", 0, 10
        read.cigarstring, read.query_sequence = "4M", "ACGT"
        out.write(read)
    # Corrupt the inflated record (pysam writes only valid ones), then compress it again.
    raw = bytearray(gzip.decompress(path.read_bytes()))
    name_end = raw.index(b"readX\x00") + len(b"readX")
    if corruption == "op code":
        op_at = name_end + 1  # the first CIGAR op, little-endian: its low 4 bits are the code
        raw[op_at] = (raw[op_at] & 0xF0) | 0x9
    else:
        raw[name_end] = ord("Y")
    with BgzfWriter(str(path)) as out:
        out.write(bytes(raw))
    plan = plan_coverage([str(path)], groupings=groupings)
    for kernels in ("numba", "python"):
        monkeypatch.setenv(KERNELS_ENV, kernels)
        with pytest.raises(CorruptRecordError, match=message) as raised:
            compute_split_depth(plan.tasks[0], plan.job)
        assert str(path) in str(raised.value)
