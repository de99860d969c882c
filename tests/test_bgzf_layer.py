"""The BGZF layer against the project's own writer (layout truth) and hand-made headers."""
import random
import struct
import zlib

import pytest

from sparkbam_py.bgzf.blocks import MissingEofMarkerWarning, iter_block_info
from sparkbam_py.bgzf.constants import EOF_MARKER
from sparkbam_py.bgzf.header import block_size_at, parse_block_header
from sparkbam_py.bgzf.reader import BgzfReader
from sparkbam_py.bgzf.search import find_block_start
from sparkbam_py.bgzf.writer import BgzfWriter, compress_block, make_extra_subfield
from sparkbam_py.channel import open_channel
from sparkbam_py.errors import BlockNotFoundError, CorruptBlockError, TruncatedError
from sparkbam_py.pos import Pos


def write_blocks(path, payloads, level=6, eof=True, extra=b""):
    with open(path, "wb") as handle:
        for data in payloads:
            handle.write(compress_block(data, level, extra))
        if eof:
            handle.write(EOF_MARKER)
    return path


def random_payloads(n, seed=0, max_size=60000):
    rng = random.Random(seed)
    return [bytes(rng.getrandbits(8) if rng.random() < 0.3 else 65 for _ in range(rng.randint(0, max_size)))
            for _ in range(n)]


def test_header_parse_standard_and_extra_subfields():
    block = compress_block(b"hello", 6)
    header = parse_block_header(block, 100)
    assert (header.start, header.header_size, header.block_size) == (100, 18, len(block))
    moved = compress_block(b"hello", 6, make_extra_subfield(b"XY", b"abcd"))
    assert parse_block_header(moved, 0).block_size == len(moved)
    assert parse_block_header(moved, 0).header_size == 18 + 8


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda b: b"\x00" + b[1:], "magic"),
        (lambda b: b[:2] + b"\x07" + b[3:], "deflate"),
        (lambda b: b[:3] + b"\x00" + b[4:], "FEXTRA"),
        (lambda b: b[:3] + b"\x0c" + b[4:], "FEXTRA"),
        (lambda b: b[:12] + b"XC" + b[14:], "BC"),
        (lambda b: b[:16] + b"\x00\x00" + b[18:], "too small"),
    ],
)
def test_header_validation_names_the_problem(mutate, reason):
    bad = mutate(compress_block(b"some data", 6))
    assert block_size_at(bad) is None
    with pytest.raises(CorruptBlockError, match=reason) as info:
        parse_block_header(bad, 1234, "x.bam")
    assert "x.bam" in str(info.value) and "1234" in str(info.value)


def test_blocks_and_inflate_round_trip(tmp_path):
    payloads = random_payloads(12) + [b""] + random_payloads(3, seed=5)
    path = write_blocks(tmp_path / "a.bgzf", payloads)
    with open_channel(path) as channel:
        infos = list(iter_block_info(channel))
        reader = BgzfReader(channel)
        data = [block.data for block in reader.iter_blocks()]
    assert [i.uncompressed_size for i in infos] == [len(p) for p in payloads]  # EOF marker excluded
    assert data[:-1] == payloads and data[-1] == b""  # the iteration includes the EOF marker
    assert infos[0].start == 0 and all(a.start + a.compressed_size == b.start for a, b in zip(infos, infos[1:]))


@pytest.mark.parametrize("level", [0, 1, 9])
def test_levels_including_stored_blocks(tmp_path, level):
    payloads = random_payloads(4, seed=level)
    path = write_blocks(tmp_path / "l.bgzf", payloads, level=level)
    with open_channel(path) as channel:
        assert [b.data for b in BgzfReader(channel).iter_blocks()][:-1] == payloads


def test_find_block_start_from_every_offset(tmp_path):
    payloads = random_payloads(8, seed=3, max_size=3000) + [b""] + random_payloads(4, seed=4, max_size=3000)
    path = write_blocks(tmp_path / "s.bgzf", payloads)
    with open_channel(path) as channel:
        starts = [i.start for i in iter_block_info(channel, include_eof_marker=True)]
        size = channel.size
        for offset in range(0, size + 3):
            expected = next((s for s in starts if s >= offset), size)
            assert find_block_start(channel, offset) == expected, offset


def test_find_block_start_gives_up_on_garbage(tmp_path):
    path = tmp_path / "garbage"
    path.write_bytes(bytes(random.Random(1).getrandbits(8) for _ in range(200_000)))
    with open_channel(path) as channel, pytest.raises(BlockNotFoundError, match="garbage"):
        find_block_start(channel, 0)


def test_truncated_last_block_is_a_typed_error_not_a_short_result(tmp_path):
    payloads = random_payloads(5, seed=9)
    whole = write_blocks(tmp_path / "w.bgzf", payloads)
    with open_channel(whole) as channel:
        last_start = list(iter_block_info(channel))[-1].start
    cut = tmp_path / "cut.bgzf"
    cut.write_bytes(whole.read_bytes()[: last_start + 100])
    with open_channel(cut) as channel:
        with pytest.raises(TruncatedError) as info:
            list(BgzfReader(channel).iter_blocks())
        assert info.value.where == last_start and "cut.bgzf" in str(info.value)
        # The block search must not answer "no block here" for the cut block either.
        with pytest.raises(TruncatedError):
            find_block_start(channel, last_start - 10)


def test_missing_eof_marker_warns(tmp_path):
    path = write_blocks(tmp_path / "n.bgzf", random_payloads(2), eof=False)
    with open_channel(path) as channel, pytest.warns(MissingEofMarkerWarning):
        list(iter_block_info(channel))


def test_corrupt_deflate_and_isize(tmp_path):
    block = bytearray(compress_block(b"A" * 5000 + bytes(range(256)) * 20, 6))
    block[30] ^= 0xFF
    bad = tmp_path / "bad.bgzf"
    bad.write_bytes(bytes(block) + EOF_MARKER)
    with open_channel(bad) as channel, pytest.raises(CorruptBlockError, match="compressed byte 0"):
        BgzfReader(channel).block(0)
    good = bytearray(compress_block(b"xyz" * 100, 6))
    good[-4:] = struct.pack("<I", 7)  # ISIZE lies
    lying = tmp_path / "isize.bgzf"
    lying.write_bytes(bytes(good))
    with open_channel(lying) as channel, pytest.raises(CorruptBlockError, match="ISIZE"):
        BgzfReader(channel).block(0)


def test_crc_checked_unless_turned_off(tmp_path):
    block = bytearray(compress_block(b"payload" * 10, 0))
    block[-8:-4] = struct.pack("<I", zlib.crc32(b"other"))
    path = tmp_path / "crc.bgzf"
    path.write_bytes(bytes(block))
    with open_channel(path) as channel:
        assert BgzfReader(channel, verify_checksums=False).block(0).data == b"payload" * 10
        with pytest.raises(CorruptBlockError, match="CRC32"):
            BgzfReader(channel).block(0)


def write_one_block_each(path, pieces):
    """One block per piece (an empty piece: an empty block); the blocks' starts."""
    with BgzfWriter(path) as writer:
        for piece in pieces:
            writer.write_block(piece) if piece else writer.write_empty_block()
    with open_channel(path) as channel:
        return [i.start for i in iter_block_info(channel)]


def test_reader_read_crosses_blocks_and_names_positions(tmp_path):
    path = tmp_path / "r.bgzf"
    starts = write_one_block_each(path, (b"abc", b"", b"defgh", b"ij"))
    with open_channel(path) as channel:
        reader = BgzfReader(channel)
        data, after = reader.read(Pos(starts[0], 1), 6)
        assert data == b"bcdefg" and after == Pos(starts[2], 4)
        # The end of a block's data is named by the next block (even an empty one) at 0.
        assert reader.read(Pos(starts[0], 0), 3)[1] == Pos(starts[1], 0)
        with pytest.raises(TruncatedError):
            reader.read(Pos(starts[2], 0), 50)


def test_run_positions_follow_the_htslib_convention(tmp_path):
    path = tmp_path / "p.bgzf"
    starts = write_one_block_each(path, (b"0123", b"", b"45", b"6789"))
    with open_channel(path) as channel:
        reader = BgzfReader(channel)
        run = reader.read_run(0, 1 << 20)
        assert run.raw == b"0123456789" and run.at_end
        assert [run.pos_at(i) for i in (0, 3, 4, 5, 6, 9)] == [
            Pos(starts[0], 0), Pos(starts[0], 3), Pos(starts[1], 0), Pos(starts[2], 1), Pos(starts[3], 0), Pos(starts[3], 3)]
        assert run.index_of(Pos(starts[2], 1)) == 5
        tail = run.tail(5)
        assert tail.raw == b"56789" and tail.pos_at(0) == Pos(starts[2], 1)
