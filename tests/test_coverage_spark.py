"""``compute_coverage`` on every Spark engine (local, standalone cluster, Spark Connect):
the same store as the local driver, which equals ``samtools depth``; files are summed."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from depth_fixtures.data import CONTIGS, samtools_depth, write_coverage_bam
from spark.engines import spark_engine  # noqa: F401  (session fixture shared by the Spark tests)
from sparkbam_py.coverage.compute import compute_coverage_local
from sparkbam_py.coverage.store import CoverageStore
from sparkbam_py.spark.coverage import compute_coverage

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("samtools") is None, reason="samtools not installed")]
SPLIT_SIZE = 150_000  # a few tasks per file: splits still cut through reads


@pytest.fixture(scope="module")
def two_bams(tmp_path_factory):
    directory = tmp_path_factory.mktemp("coverage-spark")
    return [write_coverage_bam(directory, "one", n=3000, seed=31),
            write_coverage_bam(directory, "two", n=1500, seed=32, layout="htsjdk")]


def test_spark_coverage_equals_the_local_driver_and_samtools(spark_engine, two_bams, tmp_path):
    paths = [str(path) for path in two_bams]
    compute_coverage(spark_engine.spark, paths, str(tmp_path / "spark"), split_size=SPLIT_SIZE,
                     tracks=("strand", "read_group"), min_mapq=1)
    from sparkbam_py.coverage.blocks import DepthFilter

    compute_coverage_local(paths, str(tmp_path / "local"), split_size=SPLIT_SIZE // 5,
                           groupings=("strand", "read_group"), depth_filter=DepthFilter(min_mapq=1))
    spark_store, local_store = CoverageStore(tmp_path / "spark"), CoverageStore(tmp_path / "local")
    build_specific = ("sources", "index", "parts", "stored_bytes")  # file names differ per build
    assert {key: value for key, value in spark_store.manifest.items() if key not in build_specific} == \
        {key: value for key, value in local_store.manifest.items() if key not in build_specific}
    truths = [samtools_depth(path, "-Q", "1") for path in two_bams]
    for name, length in CONTIGS:
        ours = spark_store.values(name, 0, length)
        assert np.array_equal(ours, local_store.values(name, 0, length)), name
        expected = sum(np.pad(truth.get(name, np.zeros(0, int))[:length], (0, length))[:length] for truth in truths)
        assert np.array_equal(ours[:, 0], expected), name


def test_default_split_size_and_no_scratch_left(spark_engine, two_bams, tmp_path):
    """Split size chosen from the session's parallelism (Spark Connect included); every part
    file left is one the manifest names (pieces summed by merge tasks are gone)."""
    compute_coverage(spark_engine.spark, str(two_bams[0]), str(tmp_path / "spark"))
    compute_coverage_local([str(two_bams[0])], str(tmp_path / "local"))
    spark_store, local_store = CoverageStore(tmp_path / "spark"), CoverageStore(tmp_path / "local")
    for name, length in CONTIGS:
        assert np.array_equal(spark_store.values(name, 0, length), local_store.values(name, 0, length)), name
    assert sorted(path.name for path in (tmp_path / "spark").iterdir()) == ["index", "manifest.json", "parts"]
    named = set(spark_store.manifest["parts"])
    assert {f"parts/{path.name}" for path in (tmp_path / "spark" / "parts").iterdir()} == named
