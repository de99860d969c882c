"""``s3://`` end to end against a real S3-protocol server on loopback (moto in server mode),
through s3fs: ``format("bam")``, globs of many BAMs, intervals through ``.bai``, ``.bai.json``
and ``.csi``, the ``.sbi``, and credentials and endpoint given as data source options
(``storage.*``, ``storageOptions``, Hadoop's ``fs.s3a.*``) or as the environment."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pysam
import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

from spark.engines import activate  # noqa: E402
from sparkbam_py.channel import open_channel  # noqa: E402
from sparkbam_py.testing.moto_s3 import MotoS3  # noqa: E402
from sparkbam_py.channel.storage import split_storage_options, storage_options_applied  # noqa: E402
from sparkbam_py.errors import InputIOError, MissingInputError  # noqa: E402
from sparkbam_py.index.bai_json import write_bai_json  # noqa: E402
from sparkbam_py.index.sbi import compute_sbi, sbi_path_for, write_sbi  # noqa: E402
from sparkbam_py.bam.file import open_bam  # noqa: E402
from sparkbam_py.intervals import plan_interval_partitions, read_interval_partition  # noqa: E402
from sparkbam_py.bam.splits import plan_file  # noqa: E402
from index_oracle import GENERATED_REFS, write_indexed_bam  # noqa: E402

BUCKET = "sparkbam-reads"
# A few small BAMs of different layouts, cut coarsely: every task costs S3 round trips.
MANY = ("short_reads.htsjdk", "long_reads.block_aligned", "short_reads.mixed", "all_unmapped.mixed",
        "secondary_no_seq.tiny_blocks")
SPLIT_SIZE = "96k"
REGIONS = "chr1:100000-400000,chr2,chr3:4000000-4100000,*"


@pytest.fixture(scope="module")
def s3():
    with MotoS3() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, s3):
    """One coordinate-sorted BAM uploaded three times: with a .bai (+ .bai.json), a .csi, a .sbi."""
    folder = tmp_path_factory.mktemp("s3_indexed")
    bai_bam = write_indexed_bam(folder / "bai.bam", GENERATED_REFS, 4_000, seed=9)
    (folder / "csi").mkdir()
    csi_bam = write_indexed_bam(folder / "csi" / "csi.bam", GENERATED_REFS, 4_000, seed=9, index_args=("-c",))
    write_bai_json(str(bai_bam) + ".bai", str(bai_bam) + ".bai.json")
    sbi_bam = folder / "sbi.bam"
    shutil.copy(bai_bam, sbi_bam)
    with open_bam(str(sbi_bam)) as bam:
        write_sbi(compute_sbi(bam, 64), sbi_path_for(str(sbi_bam)))
    urls = {}
    for local, key in ((bai_bam, "idx/bai.bam"), (csi_bam, "idx/csi.bam"), (sbi_bam, "idx/sbi.bam")):
        urls[key] = s3.upload(BUCKET, key, local)
    s3.upload(BUCKET, "idx/bai.bam.bai", str(bai_bam) + ".bai")
    s3.upload(BUCKET, "idx/csi.bam.csi", str(csi_bam) + ".csi")
    s3.upload(BUCKET, "idx/sbi.bam.sbi", sbi_path_for(str(sbi_bam)))
    jsonless = s3.upload(BUCKET, "json/bai.bam", bai_bam)
    s3.upload(BUCKET, "json/bai.bam.bai", str(bai_bam) + ".bai")
    s3.upload(BUCKET, "json/bai.bam.bai.json", str(bai_bam) + ".bai.json")
    return {"local": bai_bam, "bai": urls["idx/bai.bam"], "csi": urls["idx/csi.bam"], "sbi": urls["idx/sbi.bam"],
            "bai_json": jsonless}


@pytest.fixture(scope="module")
def many(s3, bam_fixtures):
    """Five generated BAMs under one prefix, plus a file that is not a BAM."""
    for name in MANY:
        s3.upload(BUCKET, f"many/{name}.bam", bam_fixtures[name].path)
    s3.client().put_object(Bucket=BUCKET, Key="many/notes.txt", Body=b"not a BAM")
    return {f"s3://{BUCKET}/many/{name}.bam": bam_fixtures[name] for name in MANY}


def truth_of(fixture):
    return sorted((pos.virtual, name) for pos, name in zip(fixture.record_pos, fixture.query_names))


def pysam_overlaps(bam, regions: str):
    """The names of the reads samtools-style region queries return (read names are unique)."""
    with pysam.AlignmentFile(str(bam)) as handle:
        return {read.query_name for region in regions.split(",") for read in handle.fetch(region=region)}


# -- without Spark -------------------------------------------------------------------------


def test_channel_reads_exact_bytes_and_names_missing_objects(s3, indexed):
    data = indexed["local"].read_bytes()
    with storage_options_applied(s3.storage_options, [indexed["bai"]]):
        with open_channel(indexed["bai"]) as channel:
            assert channel.size == len(data)
            assert channel.read_at(1000, 70_000) == data[1000:71_000]
        with pytest.raises(MissingInputError) as caught:
            open_channel(f"s3://{BUCKET}/absent.bam").size
        assert "absent.bam" in str(caught.value)


def test_without_credentials_the_error_is_typed(s3, indexed, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    with storage_options_applied({"endpoint_url": s3.endpoint_url}, [indexed["bai"]]):
        with pytest.raises(InputIOError) as caught:
            open_channel(indexed["bai"], max_attempts=1).size
    assert indexed["bai"] in str(caught.value)


def test_listing_errors_are_typed_and_name_the_url(s3, indexed, monkeypatch):
    from sparkbam_py.formats.paths import expand_paths

    with storage_options_applied(s3.storage_options, [indexed["bai"]]):
        with pytest.raises(MissingInputError, match="nothing-here"):
            expand_paths(f"s3://{BUCKET}/nothing-here/*.bam")
        with pytest.raises(MissingInputError, match="no-such-bucket"):
            expand_paths("s3://no-such-bucket-of-ours/a.bam")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    with storage_options_applied({"endpoint_url": s3.endpoint_url, "config_kwargs": {"retries": {"max_attempts": 1}}},
                                 [indexed["bai"]]):
        with pytest.raises((InputIOError, MissingInputError)) as caught:
            expand_paths(f"s3://{BUCKET}/*.bam")
    assert f"s3://{BUCKET}/*.bam" in str(caught.value)


def test_option_names_map_to_s3fs_keywords():
    others, storage = split_storage_options({
        "splitSize": "1m", "storage.endpoint_url": "http://h:1", "storage.anon": "false",
        "fs.s3a.access.key": "AK", "fs.s3a.secret.key": "SK", "fs.s3a.endpoint": "minio.local:9000",
        "storageOptions": json.dumps({"config_kwargs": {"read_timeout": 5}})})
    assert others == {"splitSize": "1m"}
    assert storage == {"endpoint_url": "https://minio.local:9000", "anon": False, "key": "AK", "secret": "SK",
                       "config_kwargs": {"read_timeout": 5}}


def test_storage_options_apply_inside_and_are_restored_after():
    import fsspec.config

    before = dict(fsspec.config.conf)
    with storage_options_applied({"endpoint_url": "http://h:1"}, ["s3://b/x.bam", "/local/y.bam", "http://h/z.bam"]):
        assert fsspec.config.conf["s3"]["endpoint_url"] == "http://h:1"
        assert "http" not in fsspec.config.conf or fsspec.config.conf["http"] == before.get("http")
    assert fsspec.config.conf == before


def test_sbi_beside_an_s3_bam_gives_exact_splits(s3, indexed):
    with storage_options_applied(s3.storage_options, [indexed["sbi"]]):
        _, tasks = plan_file(indexed["sbi"], 20_000)
    assert len(tasks) > 3 and all(task.exact is not None for task in tasks)


# -- through Spark -------------------------------------------------------------------------


@pytest.fixture
def spark():
    from sparkbam_py.spark.api import register

    session = activate("local").spark
    register(session)
    return session


def s3_reader(spark, s3, style: str = "storage"):
    reader = spark.read.format("bam").option("splitSize", SPLIT_SIZE)
    if style == "storage":
        return reader.options(**{f"storage.{k}": v for k, v in s3.storage_options.items()})
    if style == "json":
        return reader.option("storageOptions", json.dumps(s3.storage_options))
    return (reader.option("fs.s3a.endpoint", s3.endpoint_url).option("fs.s3a.access.key", s3.storage_options["key"])
            .option("fs.s3a.secret.key", s3.storage_options["secret"]))


def rows_by_file(frame):
    files = {}
    for row in frame.collect():
        files.setdefault(row.file_path, []).append((row.file_position, row.query_name))
    return {path: sorted(rows) for path, rows in files.items()}


@pytest.mark.spark
@pytest.mark.slow
def test_a_glob_of_many_bams_reads_every_record_once(spark, s3, many, indexed):
    frame = s3_reader(spark, s3, "storage").schema("file_path string, query_name string, file_position bigint") \
        .load(f"s3://{BUCKET}/many/*.bam")
    assert rows_by_file(frame) == {url: truth_of(fixture) for url, fixture in many.items()}
    counted = (spark.read.format("bam_splits").option("storageOptions", json.dumps(s3.storage_options))
               .option("splitSize", SPLIT_SIZE).option("count", "true").load(indexed["sbi"]).collect())
    assert len(counted) >= 2 and sum(row.records for row in counted) == count_with_pysam(indexed["local"])


@pytest.mark.spark
@pytest.mark.slow
def test_format_bam_and_intervals_with_hadoop_s3a_options(spark, s3, indexed):
    local = spark.read.format("bam").option("splitSize", SPLIT_SIZE).load(str(indexed["local"]))
    remote = s3_reader(spark, s3, "s3a").load(indexed["bai"])
    assert sorted(map(tuple, remote.collect())) == sorted(map(tuple, local.collect()))
    frame = s3_reader(spark, s3, "s3a").option("intervals", REGIONS).schema("query_name string, file_position bigint") \
        .load(indexed["bai"])
    got = [(row.file_position, row.query_name) for row in frame.collect()]
    assert len(got) == len(set(got))
    assert {name for _, name in got} == pysam_overlaps(indexed["local"], REGIONS)


@pytest.mark.parametrize("index", ["bai_json", "csi"])
def test_intervals_through_a_bai_json_and_a_csi(s3, indexed, index):
    """The executor code of ``intervals`` (planning, then each partition read) on S3."""
    with storage_options_applied(s3.storage_options, [indexed[index]]):
        partitions = plan_interval_partitions(indexed[index], REGIONS.split(","), 30_000)
        got = [name for partition in partitions
               for batch in read_interval_partition(partition, ["query_name"]) for name in batch.column(0).to_pylist()]
    assert len(got) == len(set(got)) and set(got) == pysam_overlaps(indexed["local"], REGIONS)


def count_with_pysam(bam) -> int:
    with pysam.AlignmentFile(str(bam)) as handle:
        return sum(1 for _ in handle.fetch(until_eof=True))


@pytest.mark.slow
def test_the_environment_alone_reaches_s3_from_the_command_line(s3, indexed):
    """boto3's variables, as a spark-submit job or notebook would have them: a fresh process
    (its own JVM and Python workers) counts the reads of an s3:// BAM."""
    env = dict(os.environ, **s3.environment, SPARKBAM_MASTER="local[1]")
    command = [sys.executable, "-m", "sparkbam_py", "count-reads", indexed["bai"], "-m", SPLIT_SIZE, "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    expected = count_with_pysam(indexed["local"])
    assert result["counts"] == {"sparkbam": expected, "hadoop_bam": expected} and result["matched"], result
