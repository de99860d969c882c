"""The ``.bai.json`` index of the index, against bai-indexer's format and definitions.

The oracle is a separate, skip-only walk of the BAI written here from SAMv1 §5.2 (as
bai-indexer does it), sharing no code with the parser under test.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import List, Tuple

import pysam
import pytest

from sparkbam_py.errors import IndexFormatError
from sparkbam_py.index.bai import parse_bai, parse_bai_reference
from sparkbam_py.index.chunks import chunks_for_reference, chunks_for_region
from sparkbam_py.index.bai_json import (
    NO_MIN_BLOCK_INDEX,
    build_bai_json,
    default_bai_json_path,
    parse_bai_json,
    read_bai_json,
    read_reference_index,
    write_bai_json,
)
from sparkbam_py.pos import Pos
from index_oracle import (
    CORPUS,
    GENERATED_REFS,
    bai_bytes,
    corpus_files,
    corpus_params,
    reference_block,
    write_indexed_bam,
)


def walk_bai(data: bytes) -> Tuple[List[List[int]], int]:
    """Per-reference byte ranges and minBlockIndex by skipping through the BAI."""
    at = 8
    (n_ref,) = struct.unpack_from("<i", data, 4)
    ranges, best = [], 1_000_000_000
    for _ in range(n_ref):
        start = at
        (n_bin,) = struct.unpack_from("<i", data, at)
        at += 4
        for _ in range(n_bin):
            (n_chunk,) = struct.unpack_from("<i", data, at + 4)
            at += 8 + 16 * n_chunk
        (n_intv,) = struct.unpack_from("<i", data, at)
        for ioffset in struct.unpack_from(f"<{n_intv}Q", data, at + 4):
            if ioffset:
                best = min(best, (ioffset >> 16) + (65536 if ioffset & 0xFFFF else 0))
        at += 4 + 8 * n_intv
        ranges.append([start, at])
    assert len(data) - at in (0, 8)  # only the optional n_no_coor may follow
    return ranges, best


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return write_indexed_bam(tmp_path_factory.mktemp("baijson") / "gen.bam", GENERATED_REFS, 3_000, seed=21)


# -- the format --------------------------------------------------------------------------------


def test_bai_indexer_fixture():
    """samtools' test_input_1_a.bam.bai, as bai-indexer's own test expects it."""
    path = CORPUS / "hammerlab__pileup.js" / "test-data__test_input_1_a.bam.bai"
    if not path.is_file():
        pytest.skip(f"{path} not found (corpus absent)")
    assert build_bai_json(path.read_bytes()) == {
        "chunks": [[8, 88], [88, 168], [168, 248], [248, 256]], "minBlockIndex": 217,
    }


@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_params(corpus_files(".bai")))
def test_corpus_bai_json(path):
    data = path.read_bytes()
    content = build_bai_json(data, str(path))
    assert list(content) == ["chunks", "minBlockIndex"]
    assert (content["chunks"], content["minBlockIndex"]) == walk_bai(data)
    assert_ranges_tile_the_bai(content["chunks"], data)
    full = parse_bai(data)
    for ref_id, (start, end) in enumerate(content["chunks"]):
        assert parse_bai_reference(data[start:end], start) == full.references[ref_id]


def assert_ranges_tile_the_bai(chunks, data: bytes) -> None:
    """From byte 8, contiguous, ending at n_no_coor (when present) or at EOF."""
    expected_start = 8
    for start, end in chunks:
        assert start == expected_start and end >= start + 8  # n_bin and n_intv at least
        expected_start = end
    n_no_coor_present = parse_bai(data).n_no_coor is not None
    assert expected_start == len(data) - (8 if n_no_coor_present else 0)


def test_min_block_index_bounds_the_bam_header(generated):
    """The first record is mapped, so minBlockIndex follows from where it starts."""
    content = build_bai_json(Path(str(generated) + ".bai").read_bytes())
    with pysam.AlignmentFile(str(generated)) as handle:
        first = Pos.from_virtual(handle.tell())  # just after the header
        assert not next(handle).is_unmapped
    assert content["minBlockIndex"] == first.block_pos + (65536 if first.offset else 0)


def test_edge_cases_empty_references_and_zero_linear_index():
    empty = reference_block([])
    zero_linear = reference_block([(4681, [(5 << 16, 9 << 16)])], linear=[0, 0])
    data = bai_bytes(empty, zero_linear, empty, n_no_coor=3)
    content = build_bai_json(data)
    assert content == {"chunks": [[8, 16], [16, 64], [64, 72]], "minBlockIndex": NO_MIN_BLOCK_INDEX}
    assert build_bai_json(bai_bytes()) == {"chunks": [], "minBlockIndex": NO_MIN_BLOCK_INDEX}


def test_min_block_index_takes_the_smallest_adjusted_value():
    """Minimum of the adjusted values, not the adjusted minimum: an in-block offset adds
    65536 (bai-indexer's rule), so a later block-aligned entry can win."""
    inside = reference_block([], linear=[(100 << 16) | 7])
    aligned = reference_block([], linear=[0, 200 << 16])
    assert build_bai_json(bai_bytes(inside, aligned))["minBlockIndex"] == 200
    assert build_bai_json(bai_bytes(inside))["minBlockIndex"] == 100 + 65536


def test_csi_is_refused():
    with pytest.raises(IndexFormatError):
        build_bai_json(b"\x1f\x8b" + bytes(30))


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bai, json_name", [
    ("x.bam.bai", "x.bam.bai.json"),
    ("x.bai", "x.bam.bai.json"),
    ("index.dat", "index.dat.json"),
])
def test_default_names(tmp_path, bai, json_name):
    assert default_bai_json_path(str(tmp_path / bai)) == str(tmp_path / json_name)


def test_write_and_read_round_trip(generated, tmp_path):
    bai = str(generated) + ".bai"
    summary = write_bai_json(bai)
    out = Path(bai + ".json")
    assert summary == {
        "path": str(out), "bai": bai, "references": len(GENERATED_REFS), "bytes": out.stat().st_size,
        "bai_bytes": Path(bai).stat().st_size, "min_block_index": summary["min_block_index"],
    }
    assert json.loads(out.read_text()) == build_bai_json(Path(bai).read_bytes())
    assert read_bai_json(str(out)).to_dict() == json.loads(out.read_text())
    custom = tmp_path / "elsewhere.json"
    assert write_bai_json(bai, str(custom))["path"] == str(custom) and custom.is_file()


@pytest.mark.parametrize("content, message", [
    ({"chunks": [[8, 16]]}, "needs"),
    ({"chunks": [[8, 16], [17, 30]], "minBlockIndex": 5}, "should start at 16"),
    ({"chunks": [[0, 16]], "minBlockIndex": 5}, "should start at 8"),
    ({"chunks": [[8, "16"]], "minBlockIndex": 5}, "integers"),
    ({"chunks": [], "minBlockIndex": -1}, "minBlockIndex"),
])
def test_parse_bai_json_rejects(content, message):
    with pytest.raises(IndexFormatError, match=message):
        parse_bai_json(content, "x.bai.json")


def test_read_bai_json_rejects_non_json(tmp_path):
    path = tmp_path / "x.bam.bai.json"
    path.write_bytes(b"\x00not json")
    with pytest.raises(IndexFormatError, match="not a .bai.json"):
        read_bai_json(str(path))


# -- fetching one reference alone ---------------------------------------------------------------


class RecordingChannel:
    """A remote-like source that records every byte range asked of it."""

    def __init__(self, data: bytes):
        self.data, self.size, self.path, self.requests = data, len(data), "http://host/x.bam.bai", []

    def read_at(self, offset: int, n: int) -> bytes:
        self.requests.append((offset, n))
        return self.data[offset:offset + n]


def test_read_reference_index_fetches_only_its_range(generated):
    data = Path(str(generated) + ".bai").read_bytes()
    bai_json = parse_bai_json(build_bai_json(data))
    full = parse_bai(data)
    for ref_id, (start, end) in enumerate(bai_json.chunks):
        channel = RecordingChannel(data)
        assert read_reference_index(channel, bai_json, ref_id) == full.references[ref_id]
        assert channel.requests == [(start, end - start)]
    assert read_reference_index(data, bai_json, 0) == full.references[0]
    assert read_reference_index(str(generated) + ".bai", bai_json, 1) == full.references[1]


def test_read_reference_index_past_the_end(generated):
    data = Path(str(generated) + ".bai").read_bytes()
    bai_json = parse_bai_json(build_bai_json(data))
    with pytest.raises(IndexFormatError, match="past the end"):
        read_reference_index(data[:-100], bai_json, len(bai_json.chunks) - 1)
    with pytest.raises(IndexError):
        read_reference_index(data, bai_json, len(bai_json.chunks))


def test_chunks_from_a_lazily_fetched_reference(generated):
    """Only one reference's bytes are needed to plan reads on it."""
    data = Path(str(generated) + ".bai").read_bytes()
    bai_json, full = parse_bai_json(build_bai_json(data)), parse_bai(data)
    for ref_id, (_, length) in enumerate(GENERATED_REFS):
        alone = read_reference_index(RecordingChannel(data), bai_json, ref_id)
        for beg, end in [(0, length), (length // 3, length // 3 + 20_000), (length - 10, length)]:
            assert chunks_for_reference(alone, beg, end) == chunks_for_region(full, ref_id, beg, end)
