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

from sparkbam_py.bam import kernels
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
        "from sparkbam_py.bam.kernels import compiled\n"
        "from sparkbam_py.bam.walk import chain_kernel\n"
        "kernel = compiled(chain_kernel)\n"
        "kernel(np.zeros(64, np.uint8), 0, 33, np.empty(4, np.int64))\n"
        "print(sum(kernel.stats.cache_hits.values()), sum(kernel.stats.cache_misses.values()))\n"
    )
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
            for _ in range(2)]
    hits, misses = (tuple(map(int, run.stdout.split())) for run in runs)
    assert hits[0] + misses[0] >= 1
    assert hits[1] >= 1 and misses[1] == 0
