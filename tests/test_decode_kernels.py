"""The compiled decode kernels give exactly the numpy path's batches, and the same errors."""
from __future__ import annotations

import array
import math
import random
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparkbam_py import kernels
from sparkbam_py.bam.decode import decode_records
from sparkbam_py.bam.schema import DEFAULT_COLUMNS
from sparkbam_py.bam.typed_tags import TagSpec
from sparkbam_py.errors import SparkBamError
from test_decode_cigar import LONG_OPS, cg_ops
from test_decode_oracle import make_segment, read_raw_records, write_bam
from test_decode_random import records, segment_from

numba = pytest.importorskip("numba")

# Every declarable kind, over tags the generated records use.
TYPED = TagSpec.parse("NM:i,XF:f,XA:A,MD:Z,XH:H,XB:B:i,XG:B:f,ZZ:Z")


def decode_with(monkeypatch, path_name: str, data, offsets, names, columns=None, typed_tags=None):
    """The batch, or the error's type and message, on the chosen kernel path."""
    monkeypatch.setenv(kernels.KERNELS_ENV, path_name)
    try:
        return decode_records(data, offsets, names, columns, path="x.bam", typed_tags=typed_tags)
    except SparkBamError as error:
        return type(error).__name__, str(error)


def assert_paths_agree(monkeypatch, data, offsets, names, columns=None, typed_tags=None):
    compiled = decode_with(monkeypatch, "numba", data, offsets, names, columns, typed_tags)
    python = decode_with(monkeypatch, "python", data, offsets, names, columns, typed_tags)
    if isinstance(python, tuple) or isinstance(compiled, tuple):
        assert compiled == python
    else:
        assert compiled.schema == python.schema
        assert same_batch(compiled, python), _first_difference(compiled, python)
    return compiled


def same_batch(a, b) -> bool:
    return all(same_column(a.column(name), b.column(name)) for name in a.schema.names)


def same_column(a, b) -> bool:
    """Equal values; NaN equal to itself (Arrow's equality says not) and -0.0 apart from 0.0.

    Strings compare as bytes, as damaged records may hold invalid UTF-8 (on both paths).
    """
    return a.equals(b) or repr(_as_bytes(a).to_pylist()) == repr(_as_bytes(b).to_pylist())


def _as_bytes(column):
    return column.cast(_bytes_type(column.type))


def _bytes_type(arrow_type):
    if arrow_type == pa.string():
        return pa.binary()
    if isinstance(arrow_type, pa.MapType):
        return pa.map_(_bytes_type(arrow_type.key_type), _bytes_type(arrow_type.item_type))
    if isinstance(arrow_type, pa.StructType):
        return pa.struct([field.with_type(_bytes_type(field.type)) for field in arrow_type])
    return arrow_type


def _first_difference(a, b) -> str:
    for name in a.schema.names:
        left, right = _as_bytes(a.column(name)).to_pylist(), _as_bytes(b.column(name)).to_pylist()
        if repr(left) != repr(right):
            index = next(i for i, (x, y) in enumerate(zip(left, right)) if repr(x) != repr(y))
            return f"column {name}, record {index}: {left[index]!r} != {right[index]!r}"
    return "batches differ"


def floats_of_every_kind():
    return [0.0, -0.0, 1.5, -2.25e-30, 3.4e38, 1e-45, math.inf, -math.inf, math.nan, 123456.7, 1e6, 1e-5]


def every_kind_of_record(header):
    """Each tag type and array subtype (empty arrays too), missing fields, unmapped reads, a long CIGAR."""
    integer_tags = [("X" + kind, value, kind) for kind, value in
                    (("c", -128), ("C", 255), ("s", -32768), ("S", 65535), ("i", -2**31), ("I", 2**32 - 1))]
    arrays = [("B" + kind.lower() if kind.islower() else "Y" + kind, array.array(code, values), None)
              for kind, code, values in (("c", "b", [-1, 5]), ("C", "B", [0, 255]), ("s", "h", [-300]),
                                         ("S", "H", []), ("i", "i", [7, -2**31]), ("I", "I", [2**32 - 1]))]
    yield make_segment(header, name="ints", tags=integer_tags + [("NM", 3, "C")])
    yield make_segment(header, name="arrays", tags=arrays + [("XB", array.array("i", [1, -1]), None)])
    yield make_segment(header, name="floats", tags=[("XF", value, "f") for value in floats_of_every_kind()[:1]]
                       + [("XG", array.array("f", floats_of_every_kind()), None), ("XE", array.array("f", []), None)])
    for index, value in enumerate(floats_of_every_kind()):
        yield make_segment(header, name=f"float{index}", tags=[("XF", value, "f"), ("XA", "q", "A")])
    yield make_segment(header, name="strings", tags=[("MD", "3A0", "Z"), ("XH", "1AE301", "H"), ("ZZ", "", "Z"),
                                                     ("XA", "!", "A")])
    yield make_segment(header, name="no-quals", quals=None, tags=[("RG", "g1", "Z")])
    yield make_segment(header, name="no-seq", cigar=None, seq=None, quals=None)
    yield make_segment(header, name="unmapped", flag=4, ref=-1, pos=-1, cigar=None, seq="ACGTN", quals=[1] * 5)
    yield make_segment(header, name="odd", cigar="2S1M", seq="ACG", quals=[93, 0, 40])
    yield make_segment(header, name="long", pos=1000, cigar="1M1I" * (LONG_OPS // 2), seq="ACGT" * (LONG_OPS // 4),
                       quals=None, tags=[("NM", 35_000, "I"), ("RG", "g", "Z")])
    yield make_segment(header, name="placeholder", pos=10, cigar="4S10N", seq="ACGT", quals=[5] * 4,
                       tags=[("CG", array.array("I", cg_ops([(2, "M"), (1, "D"), (2, "M")])), None)])
    yield make_segment(header, name="cg-kept", cigar="4M", tags=[("CG", array.array("I", cg_ops([(4, "M")])), None)])
    yield make_segment(header, name="no-tags", tags=())


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    path = write_bam(tmp_path_factory.mktemp("kernels") / "kinds.bam", lambda h: list(every_kind_of_record(h)))
    return read_raw_records(path)


@pytest.mark.parametrize("columns", [None, ["tags"], ["cigar", "reference_end"], ["query_sequence", "query_qualities"],
                                     ["query_name", "reference_name", "next_reference_name"]])
def test_every_kind_of_record_decodes_alike(monkeypatch, every_kind, columns):
    batch = assert_paths_agree(monkeypatch, *every_kind, columns)
    assert batch.num_rows == len(every_kind[1])


def test_typed_tags_decode_alike(monkeypatch, every_kind):
    data, offsets, names = every_kind
    # Records with a float array declared B:i fail conversion: the same error on both paths.
    assert_paths_agree(monkeypatch, data, offsets, names, ["query_name"], TYPED)
    assert_paths_agree(monkeypatch, data, offsets[:5], names, ["query_name"], TagSpec.parse("XF:f,XB:B:i,NM:i"))


def test_long_cigar_text_and_dropped_cg(monkeypatch, every_kind):
    batch = assert_paths_agree(monkeypatch, *every_kind)
    rows = {row["query_name"]: row for row in batch.to_pylist()}
    assert rows["long"]["cigar"] == "1M1I" * (LONG_OPS // 2)
    assert rows["placeholder"]["cigar"] == "2M1D2M" and "CG" not in dict(rows["placeholder"]["tags"])
    assert "CG" in dict(rows["cg-kept"]["tags"])
    assert dict(rows["floats"]["tags"])["XG"].startswith("B:f,0,-0,1.5,")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(st.lists(records(), min_size=1, max_size=30))
def test_random_records_decode_alike(monkeypatch, specs):
    with tempfile.TemporaryDirectory() as folder:
        path = write_bam(Path(folder) / "random.bam", lambda h: [segment_from(h, spec) for spec in specs])
        data, offsets, names = read_raw_records(path)
    assert_paths_agree(monkeypatch, data, offsets, names)


@pytest.mark.parametrize("seed", range(150))
def test_corrupted_records_fail_or_decode_alike(monkeypatch, every_kind, seed):
    """Random bytes overwritten: both paths decode the same batch or raise the same error."""
    data, offsets, names = every_kind
    rng = random.Random(seed)
    damaged = data.copy()
    sizes = np.diff(np.append(offsets, len(data)))
    # Not in the long record (most of the bytes): the damage should hit every kind of field.
    small = np.flatnonzero(sizes < 10_000)
    for _ in range(rng.randint(1, 3)):
        record = int(rng.choice(small))
        damaged[offsets[record] + rng.randrange(4, int(sizes[record]))] = rng.randrange(256)
    assert_paths_agree(monkeypatch, damaged, offsets, names)
    assert_paths_agree(monkeypatch, damaged, offsets, names, ["query_name"], TYPED)


def test_empty_batch_decodes_alike(monkeypatch, every_kind):
    data, _, names = every_kind
    batch = assert_paths_agree(monkeypatch, data, np.zeros(0, dtype=np.int64), names)
    assert batch.num_rows == 0 and batch.schema.names == list(DEFAULT_COLUMNS)
