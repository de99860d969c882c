"""The compiled multi-block inflate gives exactly the per-block path's runs, errors and warnings."""
from __future__ import annotations

import random
import struct
import warnings
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkbam_py import kernels
from sparkbam_py.bgzf import native
from sparkbam_py.bgzf.blocks import MissingEofMarkerWarning
from sparkbam_py.bgzf.constants import EOF_MARKER
from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.bgzf.sequential import BlockRuns, NativeRuns, open_runs
from sparkbam_py.bgzf.writer import compress_block, make_extra_subfield
from sparkbam_py.channel import open_channel
from sparkbam_py.errors import SparkBamError

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not native.available(), reason="libdeflate (the deflate wheel) is not installed")


def all_runs(path, kind, chunk_bytes, verify=True, carry_every=3):
    """Every run from block 0, each carrying the last ``carry_every``-th of the previous one,
    as (bytes, block_starts, data_starts, at_end) tuples; or the error type and message.
    ``kind``: "native" (libdeflate), "native-isal" or "blocks"."""
    with open_channel(path) as channel:
        reader = BgzfReader(channel, verify_checksums=verify)
        if kind.startswith("native"):
            runs = NativeRuns(reader, 0, chunk_bytes, inflater=native.ISAL if kind == "native-isal" else native.LIBDEFLATE)
        else:
            runs = BlockRuns(reader.iter_blocks(0), chunk_bytes)
        found, carry = [], None
        try:
            while True:
                run = runs.next_run(carry)
                found.append((bytes(run.raw), run.block_starts.tolist(), run.data_starts.tolist(), run.at_end))
                if run.at_end:
                    return found
                carry = run.tail(len(run) - len(run) // carry_every)
        except SparkBamError as error:
            return type(error).__name__, str(error), error.where


def both_paths(path, chunk_bytes, **options):
    """The compiled path's runs and the per-block path's; the compiled path gives the same
    with either inflater."""
    with warnings.catch_warnings(record=True) as isal_warnings:
        warnings.simplefilter("always")
        with_isal = all_runs(path, "native-isal", chunk_bytes, **options)
    with warnings.catch_warnings(record=True) as native_warnings:
        warnings.simplefilter("always")
        fast = all_runs(path, "native", chunk_bytes, **options)
    assert with_isal == fast and [w.category for w in isal_warnings] == [w.category for w in native_warnings]
    with warnings.catch_warnings(record=True) as block_warnings:
        warnings.simplefilter("always")
        slow = all_runs(path, "blocks", chunk_bytes, **options)
    assert [w.category for w in native_warnings] == [w.category for w in block_warnings]
    return fast, slow


def blocks_of(pieces, level=6, extra=b""):
    return b"".join(compress_block(piece, level, extra) for piece in pieces)


def payloads(rng, n, max_size=65280):
    return [bytes(rng.getrandbits(8) if rng.random() < 0.3 else 65 for _ in range(rng.randint(0, max_size)))
            for _ in range(n)]


@pytest.mark.parametrize("chunk_bytes", [1, 1000, 70_000, 1 << 20])
def test_standard_layouts_give_identical_runs(tmp_path, chunk_bytes):
    rng = random.Random(chunk_bytes)
    path = tmp_path / "a.bgzf"
    # Empty blocks, stored (level 0) blocks, full blocks and a file-sized span boundary.
    pieces = payloads(rng, 40) + [b""] * 3 + payloads(rng, 5, 300)
    path.write_bytes(blocks_of(pieces[:20]) + blocks_of(pieces[20:30], level=0) + blocks_of(pieces[30:]) + EOF_MARKER)
    fast, slow = both_paths(path, chunk_bytes)
    assert fast == slow and fast[-1][3]


def test_unusual_headers_take_the_per_block_path_and_still_agree(tmp_path):
    rng = random.Random(7)
    extra = make_extra_subfield(b"XY", b"hello")  # a second subfield: a 27-byte header
    path = tmp_path / "x.bgzf"
    path.write_bytes(blocks_of(payloads(rng, 3)) + blocks_of(payloads(rng, 2), extra=extra)
                     + blocks_of(payloads(rng, 3)) + EOF_MARKER)
    fast, slow = both_paths(path, 50_000)
    assert fast == slow


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), where=st.floats(0, 1), damage=st.sampled_from(["flip", "cut", "crc", "isize"]),
       verify=st.booleans())
def test_damaged_files_fail_alike(tmp_path, seed, where, damage, verify):
    rng = random.Random(seed)
    good = blocks_of(payloads(rng, 6, 20_000)) + EOF_MARKER
    data = bytearray(good)
    at = int(where * (len(data) - 1))
    if damage == "flip":
        data[at] ^= 0x5A
    elif damage == "cut":
        data = data[:at]
    else:
        trailer_end = _block_end_after(good, at)
        field = slice(trailer_end - 8, trailer_end - 4) if damage == "crc" else slice(trailer_end - 4, trailer_end)
        data[field] = struct.pack("<I", (struct.unpack("<I", data[field])[0] + 1) & 0xFFFFFFFF)
    path = tmp_path / f"d{seed}.bgzf"
    path.write_bytes(bytes(data))
    fast, slow = both_paths(path, 30_000, verify=verify)
    assert fast == slow


def _block_end_after(data: bytes, at: int) -> int:
    pos = 0
    while True:
        end = pos + struct.unpack_from("<H", data, pos + 16)[0] + 1
        if end > at:
            return end
        pos = end


def test_a_wrong_crc_is_named_with_the_block(tmp_path):
    block = bytearray(compress_block(b"payload" * 1000, 6))
    block[-8:-4] = struct.pack("<I", zlib.crc32(b"other"))
    path = tmp_path / "crc.bgzf"
    path.write_bytes(compress_block(b"first", 6) + bytes(block) + EOF_MARKER)
    fast, slow = both_paths(path, 1 << 20)
    assert fast == slow and fast[0] == "CorruptBlockError" and "CRC32" in fast[1]
    assert fast[2] == len(compress_block(b"first", 6))
    unchecked, _ = both_paths(path, 1 << 20, verify=False)
    assert unchecked[-1][0] == b"first" + b"payload" * 1000


def test_no_eof_marker_warns_once_on_both_paths(tmp_path):
    path = tmp_path / "n.bgzf"
    path.write_bytes(blocks_of(payloads(random.Random(3), 4)))
    fast, slow = both_paths(path, 10_000)  # checks that both warn alike
    assert fast == slow
    with pytest.warns(MissingEofMarkerWarning) as caught:
        all_runs(path, "native", 10_000)
    assert len(caught) == 1


def test_isal_passes_its_start_up_check_here():
    # Where it fails (a future ISA-L with another state layout), text takes libdeflate.
    from sparkbam_py.bgzf.isal_state import isal_state

    assert isal_state() is not None


def test_the_python_kernel_setting_selects_the_block_path(tmp_path, monkeypatch):
    path = tmp_path / "a.bgzf"
    path.write_bytes(blocks_of([b"abc"]) + EOF_MARKER)
    with open_channel(path) as channel:
        reader = BgzfReader(channel)
        monkeypatch.setenv(kernels.KERNELS_ENV, "numba")  # "auto" would skip numba for 3 bytes
        assert isinstance(open_runs(reader, 0, 100), NativeRuns)
        monkeypatch.setenv(kernels.KERNELS_ENV, "python")
        assert isinstance(open_runs(reader, 0, 100), BlockRuns)


def test_a_reused_buffer_still_carries_correctly(tmp_path):
    rng = random.Random(11)
    path = tmp_path / "r.bgzf"
    path.write_bytes(blocks_of(payloads(rng, 30)) + EOF_MARKER)
    with open_channel(path) as channel:
        reader = BgzfReader(channel)
        runs, carry, seen = NativeRuns(reader, 0, 40_000, reuse_buffer=True), None, []
        while True:
            run = runs.next_run(carry)
            keep = len(run) // 2
            seen.append(bytes(run.raw[: len(run) - keep]))
            if run.at_end:
                seen.append(bytes(run.raw[len(run) - keep:]))
                break
            carry = run.tail(len(run) - keep)
    with open_channel(path) as channel:
        assert b"".join(seen) == b"".join(block.data for block in BgzfReader(channel).iter_blocks())


def test_a_run_still_held_is_never_overwritten_and_a_dropped_one_is_recycled(tmp_path):
    rng = random.Random(12)
    path = tmp_path / "h.bgzf"
    path.write_bytes(blocks_of(payloads(rng, 30)) + EOF_MARKER)
    with open_channel(path) as channel:
        expected = b"".join(block.data for block in BgzfReader(channel).iter_blocks())
    with open_channel(path) as channel:
        runs, carry, held, copies, buffers = NativeRuns(BgzfReader(channel), 0, 40_000), None, [], [], set()
        while True:
            run = runs.next_run(carry)
            buffers.add(run.data.base.ctypes.data)
            # Every other run is kept (as a consumer holding a chunk would), the rest dropped.
            cut = max(0, len(run) - 100)  # a short carry: runs of about the same size
            if len(copies) % 2 == 0:
                held.append(run.data[:cut])
            copies.append(bytes(run.raw[:cut]))
            if run.at_end:
                copies.append(bytes(run.raw[cut:]))
                break
            carry = run.tail(cut)
            del run
    assert b"".join(copies) == expected
    assert [bytes(view) for view in held] == copies[:-1:2]
    assert len(buffers) < len(copies) - 1  # some buffer served two runs


@pytest.mark.parametrize("stop_fraction", [0.0, 0.3, 0.7, 2.0])
def test_runs_stop_before_a_block_at_stop_at_on_both_paths(tmp_path, stop_fraction):
    rng = random.Random(5)
    path = tmp_path / "a.bgzf"
    path.write_bytes(blocks_of(payloads(rng, 30, 3000) + [b""] * 2 + payloads(rng, 10, 3000)) + EOF_MARKER)
    stop_at = int(stop_fraction * path.stat().st_size)
    found = []
    for kind in ("native", "blocks"):
        with open_channel(path) as channel:
            reader = BgzfReader(channel)
            runs = NativeRuns(reader, 0, 20_000) if kind == "native" else BlockRuns(reader.iter_blocks(0), 20_000)
            first = runs.next_run(None, stop_at=stop_at)
            # Then one block at a time past the stop, carrying everything.
            second = runs.next_run(first, wanted=1)
            found.append([(bytes(run.raw), run.block_starts.tolist(), run.data_starts.tolist(), run.at_end)
                          for run in (first, second)])
    assert found[0] == found[1]
    raw, first_blocks, _, at_end = found[0][0]
    assert all(start < stop_at for start in first_blocks[:-1])
    if len(raw) < 20_000 and not at_end:  # it stopped for stop_at, not for the chunk size
        assert first_blocks[-1] >= stop_at
