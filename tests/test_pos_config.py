import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sparkbam_py.config import parse_size
from sparkbam_py.errors import ConfigError
from sparkbam_py.pos import Pos

positions = st.builds(Pos, st.integers(0, (1 << 48) - 1), st.integers(0, 0xFFFF))


@given(positions)
def test_virtual_offset_round_trip(pos):
    assert Pos.from_virtual(pos.virtual) == pos
    assert Pos.parse(str(pos)) == pos
    assert pickle.loads(pickle.dumps(pos)) == pos


@given(positions, positions)
def test_order_is_virtual_offset_order(a, b):
    assert (a < b) == (a.virtual < b.virtual)


def test_printed_as_block_colon_offset():
    assert str(Pos(239479, 311)) == "239479:311"
    assert Pos(1, 2).virtual == (1 << 16) | 2


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        Pos.parse("12")
    with pytest.raises(ValueError):
        Pos.from_virtual(-1)


@pytest.mark.parametrize(
    "text, size",
    [("64m", 64 << 20), ("128MB", 128 << 20), ("32MiB", 32 << 20), (4096, 4096), ("1.5k", 1536), ("2g", 2 << 30)],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "abc", "-5", 0, -1, True, "12q"])
def test_parse_size_rejects(bad):
    with pytest.raises(ConfigError):
        parse_size(bad)
