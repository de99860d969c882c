"""The compiled chain walk gives exactly the pure-Python walk's results: records, stop, errors."""
from __future__ import annotations

import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkbam_py import kernels
from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.walk import walk_chain
from sparkbam_py.bgzf.run import InflatedRun
from sparkbam_py.errors import ConfigError, CorruptRecordError, SparkBamError

numba = pytest.importorskip("numba")


def run_of(raw: bytes) -> InflatedRun:
    return InflatedRun(raw, [0, 1 << 20], [0, len(raw)], False)


def walk_with(monkeypatch, path_name: str, raw: bytes, index: int):
    """(offsets, stop) or the error message and position, on the chosen path."""
    monkeypatch.setenv(kernels.KERNELS_ENV, path_name)
    try:
        offsets, stop = walk_chain(run_of(raw), index, "x.bam")
        return offsets.tolist(), stop
    except CorruptRecordError as error:
        return str(error)


# Chains of records whose block_size is mostly valid, sometimes too small or negative,
# followed by a few junk bytes (a record cut by the end of the run).
records = st.lists(st.one_of(st.integers(33, 400), st.integers(-5, 40)), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=records, tail=st.binary(max_size=7), start=st.integers(0, 3))
def test_random_chains_walk_alike(monkeypatch, sizes, tail, start):
    raw = b"\0" * start + b"".join(struct.pack("<i", size) + b"\x07" * max(size, 0) for size in sizes) + tail
    assert walk_with(monkeypatch, "numba", raw, start) == walk_with(monkeypatch, "python", raw, start)


def test_a_too_small_block_size_is_named_on_both_paths(monkeypatch):
    raw = struct.pack("<i", 40) + b"\0" * 40 + struct.pack("<i", 12) + b"\0" * 12
    for path_name in ("numba", "python"):
        message = walk_with(monkeypatch, path_name, raw, 0)
        assert "block_size 12 is below the minimum 33" in message and "x.bam" in message


def test_the_kernel_setting_is_checked(monkeypatch):
    monkeypatch.setenv(kernels.KERNELS_ENV, "fortran")
    with pytest.raises(ConfigError, match="SPARKBAM_KERNELS"):
        kernels.kernel_choice()
    monkeypatch.setenv(kernels.KERNELS_ENV, "python")
    assert kernels.kernels_in_use() == "python"


def walk_file(monkeypatch, path_name: str, path) -> object:
    monkeypatch.setenv(kernels.KERNELS_ENV, path_name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open_bam(str(path)) as bam:
                return [c.virtual_offsets().tolist() for c in bam.iter_record_chunks()]
    except SparkBamError as error:
        return type(error).__name__


def test_fixture_bams_walk_alike(monkeypatch, bam_fixtures):
    for name, fixture in bam_fixtures.items():
        compiled = walk_file(monkeypatch, "numba", fixture.path)
        assert compiled == walk_file(monkeypatch, "python", fixture.path), name


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_bams_walk_alike(monkeypatch, corpus_dir):
    for path in sorted(corpus_dir.rglob("*.bam")):
        assert walk_file(monkeypatch, "numba", path) == walk_file(monkeypatch, "python", path), path


def test_a_fresh_process_loads_the_cached_kernel(tmp_path):
    """A new worker process finds the compiled walk in the on-disk cache instead of compiling."""
    script = (
        "import numpy as np, numba\n"
        "from sparkbam_py.kernels import compiled\n"
        "from sparkbam_py.bam.walk import chain_kernel\n"
        "kernel = compiled(chain_kernel)\n"
        "kernel(np.zeros(64, np.uint8), 0, 33, np.empty(4, np.int64))\n"
        "print(sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values()))\n"
    )
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
            for _ in range(2)]
    (first_hits, first_misses), (second_hits, second_misses) = (map(int, run.stdout.split()) for run in runs)
    assert first_hits + first_misses >= 1  # compiled, or loaded from the kernels shipped in the tree
    assert second_hits >= 1 and second_misses == 0


# -- the tag walk ----------------------------------------------------------------------------

def tag_bytes(kind: str, value: int) -> bytes:
    """One tag of the given type with a small value (pysam-free: the layout is SAMv1 §4.2.4)."""
    if kind in "cC":
        return b"XA" + kind.encode() + bytes([value % 128])
    if kind in "sS":
        return b"XB" + kind.encode() + struct.pack("<h", value % 1000)
    if kind in "iIf":
        return b"XC" + kind.encode() + struct.pack("<i", value)
    if kind in "ZH":
        return b"XD" + kind.encode() + b"A" * (value % 7) + b"\0"
    if kind == "A":
        return b"XE" + b"A" + b"K"
    width = {"i": 4, "f": 4, "S": 2}[kind[-1]]
    return b"XF" + b"B" + kind[-1].encode() + struct.pack("<I", value % 4) + b"\1" * (value % 4) * width


tag_kinds = st.sampled_from(list("cCsSiIfZHA") + ["Bi", "Bf", "BS"])
regions = st.lists(st.lists(st.tuples(tag_kinds, st.integers(0, 1000)), max_size=6), max_size=12)


def locate_with(monkeypatch, path_name, buffer, offsets):
    from sparkbam_py.bam.spans import MalformedRecord
    from sparkbam_py.bam.tags import locate_tags

    monkeypatch.setenv(kernels.KERNELS_ENV, path_name)
    data = np.frombuffer(buffer, dtype=np.uint8)
    try:
        entries = locate_tags(data, offsets[:-1], offsets[1:], np.arange(len(offsets) - 1) + 100)
        return entries.start.tolist(), entries.size.tolist(), entries.entry_offsets.tolist()
    except MalformedRecord as bad:
        return bad.message, bad.record


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=regions, cut=st.integers(0, 11), cut_bytes=st.integers(0, 6), junk=st.integers(0, 255))
def test_random_tag_regions_walk_alike(monkeypatch, records, cut, cut_bytes, junk):
    texts = [b"".join(tag_bytes(kind, value) for kind, value in tags) for tags in records]
    if cut < len(texts) and texts[cut]:
        # One corrupt record (the paths may name different ones when several are): its tags
        # cut short, or a junk type byte.
        texts[cut] = texts[cut][: max(0, len(texts[cut]) - cut_bytes)] if cut_bytes else \
            texts[cut][:2] + bytes([junk]) + texts[cut][3:]
    offsets = np.cumsum([0] + [len(text) for text in texts]).astype(np.int64)
    buffer = b"".join(texts)
    assert locate_with(monkeypatch, "numba", buffer, offsets) == locate_with(monkeypatch, "python", buffer, offsets)
