"""The store: exact means and bins from at most the edge chunks, constant chunks as a value,
size that follows the data, fsspec (memory://) stores, corrupt bytes refused, bigWig and
bedGraph export equal to the store, bedGraph and table import."""
from __future__ import annotations

import json

import fsspec
import numpy as np
import pytest

from sparkbam_py.coverage.chunk_codec import decode_chunk, encode_chunk
from sparkbam_py.coverage.export import export_bedgraph, export_bigwig, iter_runs
from sparkbam_py.coverage.importers import import_bedgraph, import_table
from sparkbam_py.coverage.store import CoverageStore, UnknownContigError
from sparkbam_py.coverage.store_writer import StoreWriter
from sparkbam_py.errors import ConfigError, CorruptDataError, MissingInputError

CHUNK = 1024
GRCH38_CHR1 = 248_956_422


def write_dense(url, arrays: dict, tracks, float_values=False, chunk_length=CHUNK):
    writer = StoreWriter(str(url), [(name, len(a)) for name, a in arrays.items()], tracks,
                         float_values=float_values, chunk_length=chunk_length)
    for index, values in enumerate(arrays.values()):
        writer.write_contig(index, [(lo, values[lo:lo + 777]) for lo in range(0, len(values), 777)])
    return writer.close()


def depth_like(rng, length, tracks=2):
    """Runs of random depth with a gap of zeros and a constant stretch, over several chunks."""
    values = np.repeat(rng.integers(0, 60, length), rng.integers(1, 9, length))[:length]
    values[CHUNK:3 * CHUNK + 5] = 0
    values[5 * CHUNK:7 * CHUNK] = 9
    return np.stack([values // (t + 1) for t in range(tracks)], axis=1)


def test_means_bins_and_values_equal_numpy(tmp_path):
    rng = np.random.default_rng(3)
    values = depth_like(rng, 10 * CHUNK + 77)
    manifest = write_dense(tmp_path / "s", {"c": values, "short": values[:5]}, ["x", "y"])
    store = CoverageStore(tmp_path / "s")
    assert manifest["chunks"] == 11 - 2 + 1  # two chunks all zero: no row
    assert np.array_equal(store.values("c", 0, len(values)), values)
    for start, end in [(0, len(values)), (CHUNK - 10, CHUNK + 10), (17, 18), (1000, 9000), (5 * CHUNK, 7 * CHUNK)]:
        assert np.allclose(store.mean("c", start, end), values[start:end].mean(axis=0))
        assert np.array_equal(store.values("c", start, end), values[start:end])
    binned = store.binned("c", 100, 3100, 3, ["y"])
    edges = [100, 1100, 2100, 3100]
    assert np.allclose(binned[:, 0], [values[a:b, 1].mean() for a, b in zip(edges, edges[1:])])
    assert np.allclose(store.binned("c", 0, 500, 500), values[:500])
    assert store.contigs == [{"name": "c", "length": len(values)}, {"name": "short", "length": 5}]
    for call in (lambda: store.mean("c", 10, 10), lambda: store.binned("c", 0, 10, 11),
                 lambda: store.track_indexes(["z"])):
        with pytest.raises(ConfigError):
            call()
    with pytest.raises(UnknownContigError):
        store.mean("nope", 0, 1)


def test_a_mean_reads_at_most_its_two_edge_chunks(tmp_path, monkeypatch):
    values = depth_like(np.random.default_rng(4), 40 * CHUNK, tracks=1)
    write_dense(tmp_path / "s", {"c": values}, ["all"])
    store = CoverageStore(tmp_path / "s")
    decoded = []
    real = store.source.inflated
    monkeypatch.setattr(store.source, "inflated", lambda rows, cache=True: decoded.append(len(rows)) or real(rows))
    for start, end in [(3, 39 * CHUNK + 5), (0, 40 * CHUNK), (CHUNK, 30 * CHUNK), (10, 20)]:
        decoded.clear()
        assert np.isclose(store.mean("c", start, end)[0], values[start:end, 0].mean())
        assert sum(decoded) <= 2
    decoded.clear()
    store.binned("c", 0, 40 * CHUNK, 100)
    assert sum(decoded) <= 101


@pytest.mark.parametrize("kernels", ["numba", "python"])
def test_edge_sums_are_the_same_compiled_or_not(tmp_path, monkeypatch, kernels):
    pytest.importorskip("numba")
    monkeypatch.setenv("SPARKBAM_KERNELS", kernels)
    rng = np.random.default_rng(9)
    values = depth_like(rng, 6 * CHUNK + 11, tracks=3)
    values[:, 2] = rng.integers(0, 2000, len(values)) * (rng.random(len(values)) < 0.01)  # big steps
    write_dense(tmp_path / "s", {"c": values}, ["a", "b", "c"])
    store = CoverageStore(tmp_path / "s")
    edges = np.sort(rng.integers(0, len(values) + 1, 300))
    expected = np.concatenate([np.zeros((1, 3), np.int64), np.cumsum(values, axis=0)])[edges]
    assert np.array_equal(store.prefix_sums("c", edges, [0, 1, 2]), expected)
    assert np.array_equal(store.prefix_sums("c", edges[::-1], [2]), expected[::-1, 2:])


def test_a_genome_sized_store_of_little_data_costs_kilobytes(tmp_path):
    writer = StoreWriter(str(tmp_path / "s"), [("chr1", GRCH38_CHR1), ("chr2", 242_193_529)], ["all"],
                         float_values=False)
    positions = np.array([10, 11, 150_000_000, GRCH38_CHR1 - 1])
    writer.write_sparse_contig(0, positions, np.array([[3], [4], [5], [6]]))
    constant = np.full(1 << 18, 30, dtype=np.int64)  # four whole chunks of one value
    writer.write_contig(1, [(1 << 20, constant)])
    manifest = writer.close()
    assert manifest["stored_bytes"] < 8_000 and manifest["chunks"] == 3 + 4
    store = CoverageStore(tmp_path / "s")
    assert np.array_equal(store.values("chr1", 9, 13)[:, 0], [0, 3, 4, 0])
    assert store.mean("chr1", 0, GRCH38_CHR1)[0] == pytest.approx(18 / GRCH38_CHR1)
    assert store.mean("chr2", 0, 242_193_529)[0] == pytest.approx(30 * (1 << 18) / 242_193_529)
    assert store.mean("chr2", (1 << 20) + 5, (1 << 20) + 70_000)[0] == 30


def test_float_values_and_stores_on_any_fsspec_filesystem():
    rng = np.random.default_rng(5)
    values = np.round(rng.random((3 * CHUNK, 1)) * (rng.random((3 * CHUNK, 1)) < 0.3), 3)
    manifest = write_dense("memory://cov-store", {"c": values}, ["v"], float_values=True)
    assert manifest["values"] == "float" and fsspec.filesystem("memory").exists("memory://cov-store/manifest.json")
    store = CoverageStore("memory://cov-store")
    assert np.array_equal(store.values("c", 0, len(values)), values)
    assert np.isclose(store.mean("c", 7, 2900)[0], values[7:2900].mean())


def test_missing_foreign_and_corrupt_stores_are_clear_errors(tmp_path):
    with pytest.raises(MissingInputError):
        CoverageStore(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(CorruptDataError):
        CoverageStore(tmp_path)
    manifest = write_dense(tmp_path / "s", {"c": depth_like(np.random.default_rng(6), 4 * CHUNK)}, ["x", "y"])
    part = tmp_path / "s" / next(iter(manifest["parts"]))
    data = bytearray(part.read_bytes())
    data[len(data) // 2:len(data) // 2 + 40] = b"\xff" * 40
    part.write_bytes(bytes(data))
    with pytest.raises(CorruptDataError, match=part.name):
        CoverageStore(tmp_path / "s").values("c", 0, 4 * CHUNK)
    part.write_bytes(bytes(data[:100]))
    with pytest.raises(CorruptDataError, match="part file holds 100 bytes"):
        CoverageStore(tmp_path / "s").values("c", 0, 4 * CHUNK)


@pytest.mark.parametrize("values, float_values", [
    (np.array([0, 0, 5, 5, 5, 300, -2, -2]), False), (np.array([0.5, 0.25, 0.25, 1e-3]), True),
    (np.array([7]), False), (np.repeat(np.arange(200) % 3, 400), False),
])
def test_chunk_codec_round_trips(values, float_values):
    starts = np.flatnonzero(np.diff(values, prepend=values[0] - 1))
    lengths = np.diff(np.append(starts, len(values)))
    runs = values[starts].astype(np.float64 if float_values else np.int64)
    blob = encode_chunk(np.tile(lengths, 2), np.tile(runs, 2), np.array([len(runs)] * 2))
    decoded_starts, decoded_values, offsets = decode_chunk(blob, 2, len(values))
    assert np.array_equal(decoded_starts, np.tile(starts, 2)) and np.array_equal(decoded_values, np.tile(runs, 2))
    assert list(offsets) == [0, len(runs), 2 * len(runs)]
    with pytest.raises(CorruptDataError):
        decode_chunk(blob[:-3], 2, len(values))


TABLE = "position\tstrand\tliver\tbrain\n5\t+\t1\t2\n5\t-\t3\t4\n100\t+\t0.5\t7\n999\t-\t2\t2\n"


def test_table_import_equals_the_dense_view(tmp_path):
    (tmp_path / "t.tsv").write_text(TABLE)
    manifest = import_table(str(tmp_path / "t.tsv"), str(tmp_path / "s"), contig="chr1", lengths={"chr1": 1000})
    store = CoverageStore(tmp_path / "s")
    assert store.tracks == ["liver:+", "liver:-", "brain:+", "brain:-"]
    assert manifest["strands"]["brain:-"] == "-"
    dense = np.zeros((1000, 4))
    dense[5] = [1, 3, 2, 4]
    dense[100] = [0.5, 0, 7, 0]
    dense[999] = [0, 2, 0, 2]
    assert np.array_equal(store.values("chr1", 0, 1000), dense)
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
    pytest.importorskip("pybigtools")
    pyBigWig = pytest.importorskip("pyBigWig")  # an independent reader: libBigWig
    assert export_bigwig(store, 0, str(tmp_path / "out.bw")) == 3
    with pyBigWig.open(str(tmp_path / "out.bw")) as bigwig:
        assert bigwig.chroms() == {"chr1": 30, "chr2": 8}
        assert np.array_equal(np.nan_to_num(bigwig.values("chr1", 0, 30)), expected)


def test_bigwig_and_bedgraph_equal_the_store_across_chunks(tmp_path):
    pytest.importorskip("pybigtools")
    pyBigWig = pytest.importorskip("pyBigWig")
    rng = np.random.default_rng(8)
    arrays = {"c": depth_like(rng, 12 * CHUNK + 3, 1), "d": depth_like(rng, 20 * CHUNK, 1)}
    write_dense(tmp_path / "s", arrays, ["all"])
    store = CoverageStore(tmp_path / "s")
    runs = export_bigwig(store, "all", "memory://exported/out.bw")  # any fsspec target
    (tmp_path / "out.bw").write_bytes(fsspec.filesystem("memory").cat("memory://exported/out.bw"))
    with pyBigWig.open(str(tmp_path / "out.bw")) as bigwig:
        assert bigwig.header()["nLevels"] > 0  # zoom levels for whole-chromosome views
        for name, values in arrays.items():
            assert np.array_equal(np.nan_to_num(bigwig.values(name, 0, len(values))), values[:, 0]), name
            covered = values[values > 0]  # bigWig leaves zero runs out: its mean is over covered bases
            assert bigwig.stats(name, 0, len(values), exact=True)[0] == pytest.approx(covered.mean())
    assert runs == sum(len(s) for name in arrays for s, _, _ in iter_runs(store, name, 0))
    export_bedgraph(store, "all", str(tmp_path / "out.bedgraph.gz"))
    with fsspec.open(str(tmp_path / "out.bedgraph.gz"), "rt", compression="gzip") as handle:
        lines = [line.split("\t") for line in handle]
    assert len(lines) == runs
    rebuilt = {name: np.zeros(len(values), dtype=np.int64) for name, values in arrays.items()}
    for name, start, end, value in lines:
        rebuilt[name][int(start):int(end)] = int(value)
        assert int(value) != 0
    for name, values in arrays.items():
        assert np.array_equal(rebuilt[name], values[:, 0]), name


def test_runs_are_joined_across_chunks(tmp_path):
    values = np.zeros(4 * CHUNK, dtype=np.int64)
    values[CHUNK - 5:3 * CHUNK + 2] = 4  # one run over three chunk boundaries
    values[3 * CHUNK + 2:3 * CHUNK + 9] = 9
    write_dense(tmp_path / "s", {"c": values[:, None]}, ["all"])
    flat = [(s, e, v) for starts, ends, vals in iter_runs(CoverageStore(tmp_path / "s"), "c", 0)
            for s, e, v in zip(starts.tolist(), ends.tolist(), vals.tolist())]
    assert flat == [(CHUNK - 5, 3 * CHUNK + 2, 4), (3 * CHUNK + 2, 3 * CHUNK + 9, 9)]
