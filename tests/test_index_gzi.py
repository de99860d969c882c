"""``.gzi`` parsing: every entry names a real block start and its inflated offset, on files
``bgzip -i`` writes here and on the corpus's own ``.gzi`` files."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sparkbam_py.bgzf.blocks import iter_block_info
from sparkbam_py.channel import open_channel
from sparkbam_py.errors import IndexFormatError
from sparkbam_py.index.gzi import parse_gzi, read_gzi
from sparkbam_py.pos import Pos

CORPUS_TEXT = Path(__file__).resolve().parents[2] / "shared" / "corpus-text"


def block_offsets(path):
    """{compressed block start: (inflated offset, inflated size)} from our own block walk."""
    offsets, inflated = {}, 0
    with open_channel(str(path)) as channel:
        for block in iter_block_info(channel, include_eof_marker=True):
            offsets[block.start] = (inflated, block.uncompressed_size)
            inflated += block.uncompressed_size
    return offsets


def check(gzi_path, data_path):
    index = read_gzi(str(gzi_path))
    truth = block_offsets(data_path)
    for compressed, uncompressed in zip(index.compressed.tolist(), index.uncompressed.tolist()):
        offset, size = truth[compressed]
        assert offset == uncompressed
        assert index.to_uncompressed(Pos(compressed, 2)) == uncompressed + 2
        if size:  # both ends of a block's data map back into that block
            assert index.to_pos(uncompressed) == Pos(compressed, 0)
            assert index.to_pos(uncompressed + size - 1) == Pos(compressed, size - 1)
    return index


@pytest.mark.skipif(shutil.which("bgzip") is None, reason="bgzip not installed")
def test_bgzip_written_gzi(tmp_path):
    data = tmp_path / "x.txt"
    data.write_bytes(b"".join(b"line %d with some text\n" % i for i in range(60_000)))
    subprocess.run(["bgzip", "-i", str(data)], check=True)
    index = check(str(data) + ".gz.gzi", str(data) + ".gz")
    assert len(index.compressed) > 10


def test_corpus_gzi_files():
    found = sorted(CORPUS_TEXT.glob("*/*.gzi")) if CORPUS_TEXT.is_dir() else []
    if not found:
        pytest.skip("no .gzi in ../shared/corpus-text")
    for gzi in found:
        check(gzi, str(gzi)[: -len(".gzi")])


def test_bad_gzi_is_an_index_error():
    with pytest.raises(IndexFormatError, match="shorter"):
        parse_gzi(b"\x01")
    with pytest.raises(IndexFormatError, match="announces 2 entries"):
        parse_gzi((2).to_bytes(8, "little") + bytes(16))
