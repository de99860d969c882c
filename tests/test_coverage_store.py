"""The store: narrowest dtypes, O(1) means equal to numpy, sparse tables located with
searchsorted, fsspec output, bigWig/bedGraph export and bedGraph/table import."""
from __future__ import annotations

import json

import fsspec
import numpy as np
import pytest

from sparkbam_py.coverage.export import export_bedgraph, export_bigwig
from sparkbam_py.coverage.importers import import_bedgraph, import_table
from sparkbam_py.coverage.store import CoverageStore, UnknownContigError
from sparkbam_py.coverage.store_writer import SLAB_ROWS, StoreWriter
from sparkbam_py.errors import ConfigError, CorruptDataError, MissingInputError


def write_dense(path, arrays: dict, tracks):
    writer = StoreWriter(str(path), [(name, len(a)) for name, a in arrays.items()], tracks)
    for index, values in enumerate(arrays.values()):
        writer.write_contig(index, [(0, values)])
    return writer.close()


@pytest.mark.parametrize("maximum, dtype, cumsum_dtype", [
    (0, "uint8", "uint32"), (255, "uint8", "uint32"), (256, "uint16", "uint32"), (70_000, "uint32", "uint64"),
])
def test_narrowest_dtype_holds_the_maximum(tmp_path, maximum, dtype, cumsum_dtype):
    values = np.zeros((100_000, 2), dtype=np.uint32)
    values[:, 1] = maximum  # 100,000 x 70,000 overflows uint32 sums
    values[:, 0] = np.arange(100_000) % 7
    write_dense(tmp_path / "s", {"c": values}, ["a", "b"])
    arrays = CoverageStore(tmp_path / "s").arrays("c")
    assert arrays.depth.dtype == np.dtype(dtype) and arrays.cumsum.dtype == np.dtype(cumsum_dtype)
    assert np.array_equal(arrays.depth, values) and isinstance(arrays.depth, np.memmap)


def test_means_and_bins_equal_numpy_across_slabs(tmp_path):
    rng = np.random.default_rng(3)
    length = SLAB_ROWS + 5_000  # the cumulative sums carry across a slab boundary
    values = rng.integers(0, 40, size=(length, 2)).astype(np.uint32)
    write_dense(tmp_path / "s", {"c": values, "empty": np.zeros((0, 2), np.uint32)}, ["x", "y"])
    store = CoverageStore(tmp_path / "s")
    for start, end in [(0, length), (SLAB_ROWS - 10, SLAB_ROWS + 10), (17, 18), (1000, 200_001)]:
        assert np.allclose(store.mean("c", start, end), values[start:end].mean(axis=0))
    binned = store.binned("c", 100, 1100, 3, ["y"])
    edges = [100, 433, 766, 1100]
    assert np.allclose(binned[:, 0], [values[a:b, 1].mean() for a, b in zip(edges, edges[1:])])
    assert store.contigs == [{"name": "c", "length": length}, {"name": "empty", "length": 0}]
    with pytest.raises(ConfigError):
        store.mean("c", 10, 10)
    with pytest.raises(ConfigError):
        store.binned("c", 0, 10, 11)
    with pytest.raises(UnknownContigError):
        store.mean("nope", 0, 1)
    with pytest.raises(ConfigError):
        store.track_indexes(["z"])


def test_memory_and_memmap_scratch_write_the_same_files(tmp_path, monkeypatch):
    from sparkbam_py.coverage import store_writer

    rng = np.random.default_rng(5)
    values = rng.integers(0, 300, size=(50_000, 3)).astype(np.uint32)
    write_dense(tmp_path / "memory", {"c": values, "d": values[:77]}, ["x", "y", "z"])
    monkeypatch.setattr(store_writer, "IN_MEMORY_SCRATCH_CELLS", 0)
    write_dense(tmp_path / "memmap", {"c": values, "d": values[:77]}, ["x", "y", "z"])
    for name in ("000000.npy", "000000.cumsum.npy", "000001.npy", "000001.cumsum.npy"):
        written = [(tmp_path / kind / "contigs" / name).read_bytes() for kind in ("memory", "memmap")]
        assert written[0] == written[1] and len(written[0]) > 77, name
    assert np.array_equal(CoverageStore(tmp_path / "memmap").arrays("c").depth, values)


def test_missing_and_foreign_stores_are_clear_errors(tmp_path):
    with pytest.raises(MissingInputError):
        CoverageStore(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(CorruptDataError):
        CoverageStore(tmp_path)


def test_store_is_written_through_fsspec():
    values = np.arange(3000, dtype=np.uint32).reshape(-1, 1) % 300
    write_dense("memory://cov-store", {"c": values}, ["all"])
    fs = fsspec.filesystem("memory")
    manifest = json.loads(fs.cat("memory://cov-store/manifest.json"))
    assert manifest["contigs"][0]["dtype"] == "<u2" and manifest["tool"] == "sparkbam_py"
    with fs.open("memory://cov-store/" + manifest["contigs"][0]["depth"]) as handle:
        assert np.array_equal(np.load(handle), values)


TABLE = "position\tstrand\tliver\tbrain\n5\t+\t1\t2\n5\t-\t3\t4\n100\t+\t0.5\t7\n999\t-\t2\t2\n"


def test_table_import_is_sparse_and_equals_the_dense_view(tmp_path):
    (tmp_path / "t.tsv").write_text(TABLE)
    manifest = import_table(str(tmp_path / "t.tsv"), str(tmp_path / "s"), contig="chr1", lengths={"chr1": 1000})
    store = CoverageStore(tmp_path / "s")
    assert store.tracks == ["liver:+", "liver:-", "brain:+", "brain:-"]
    assert manifest["contigs"][0]["layout"] == "sparse" and manifest["strands"]["brain:-"] == "-"
    dense = np.zeros((1000, 4))
    dense[5] = [1, 3, 2, 4]
    dense[100] = [0.5, 0, 7, 0]
    dense[999] = [0, 2, 0, 2]
    assert np.array_equal(store.values("chr1", 0, 1000), dense)
    assert store.arrays("chr1").depth.shape == (3, 4)  # only the listed positions
    for start, end in [(0, 1000), (5, 6), (6, 100), (100, 1000), (0, 5)]:
        assert np.allclose(store.mean("chr1", start, end), dense[start:end].mean(axis=0))
    assert np.allclose(store.binned("chr1", 0, 1000, 1000), dense)


@pytest.mark.parametrize("text, message", [
    ("position\tstrand\ta\n5\t+\t1\n5\t+\t2\n", "listed twice"),
    ("position\tstrand\ta\n5\tx\t1\n", "neither"),
    ("pos\ta\n5\t1\n", "no 'position'"),
])
def test_bad_tables_are_refused(tmp_path, text, message):
    (tmp_path / "t.tsv").write_text(text)
    with pytest.raises(CorruptDataError, match=message):
        import_table(str(tmp_path / "t.tsv"), str(tmp_path / "s"), contig="c")


BEDGRAPH = "track type=bedGraph\nchr1\t0\t10\t1.5\nchr1\t20\t25\t3\nchr2\t3\t5\t2\n"


def test_bedgraph_round_trip_and_bigwig(tmp_path):
    (tmp_path / "in.bedgraph").write_text(BEDGRAPH)
    import_bedgraph(str(tmp_path / "in.bedgraph"), str(tmp_path / "s"), lengths={"chr1": 30, "chr2": 8})
    store = CoverageStore(tmp_path / "s")
    assert store.contigs == [{"name": "chr1", "length": 30}, {"name": "chr2", "length": 8}]
    expected = np.zeros(30)
    expected[:10], expected[20:25] = 1.5, 3
    assert np.array_equal(store.values("chr1", 0, 30)[:, 0], expected)
    assert export_bedgraph(store, "value", str(tmp_path / "out.bedgraph")) == 3
    assert (tmp_path / "out.bedgraph").read_text() == BEDGRAPH.split("\n", 1)[1]
    pyBigWig = pytest.importorskip("pyBigWig")
    assert export_bigwig(store, 0, str(tmp_path / "out.bw")) == 3
    with pyBigWig.open(str(tmp_path / "out.bw")) as bigwig:
        assert bigwig.chroms() == {"chr1": 30, "chr2": 8}
        assert np.array_equal(np.nan_to_num(bigwig.values("chr1", 0, 30)), expected)


def test_runs_are_merged_across_export_slabs(tmp_path, monkeypatch):
    import sparkbam_py.coverage.export as export

    values = np.repeat([0, 4, 4, 9, 0, 1], 5).astype(np.uint32)
    write_dense(tmp_path / "s", {"c": values}, ["all"])
    runs = [tuple(map(np.ndarray.tolist, r)) for r in export.iter_runs(CoverageStore(tmp_path / "s"), "c", 0, slab=7)]
    flat = [(s, e, v) for starts, ends, vals in runs for s, e, v in zip(starts, ends, vals)]
    assert flat == [(5, 15, 4), (15, 20, 9), (25, 30, 1)]
