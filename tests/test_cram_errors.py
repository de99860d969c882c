"""CRAM inputs that must fail loudly: wrong or missing references, truncation, corruption,
stale or doctored ``.crai`` files, and files that are not CRAM (or not BAM)."""
from __future__ import annotations

import gzip
import random
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from cram_truth import count_tasks, plan, read_tasks
from fixtures import build_fixture
from fixtures.content import short_reads
from fixtures.cram import SAMTOOLS, convert_to_cram, index_cram, sq_lines, write_random_reference
from sparkbam_py.bam.file import open_bam
from sparkbam_py.channel import open_channel
from sparkbam_py.cram.header import read_cram_header
from sparkbam_py.cram.numbers import encode_itf8, encode_ltf8, itf8_many, read_itf8, read_ltf8
from sparkbam_py.cram.reference import CramReferenceError
from sparkbam_py.cram.search import container_at, iter_containers
from sparkbam_py.errors import (
    CorruptDataError,
    IndexFormatError,
    NotBgzfError,
    SparkBamError,
    SplitVerificationError,
    TruncatedError,
    WrongFormatError,
)
from sparkbam_py.index.crai import StaleCraiWarning

pytestmark = pytest.mark.skipif(SAMTOOLS is None, reason="samtools is needed to write CRAM")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cram_errors")
    bam = build_fixture(short_reads(400, seed=11), "block_aligned", directory, "reads").path
    reference = write_random_reference(sq_lines(bam), directory / "ref.fa", seed=1)
    cram = directory / "reads.cram"
    assert convert_to_cram(bam, cram, reference, "3.0", seqs_per_slice=32)
    return {"bam": bam, "reference": reference, "cram": cram, "dir": directory}


@pytest.fixture
def no_reference_lookup(monkeypatch):
    """htslib must not look anywhere but where the test says (no EBI download, no cache)."""
    monkeypatch.setenv("REF_PATH", "/nonexistent/%s")
    monkeypatch.setenv("REF_CACHE", "/nonexistent/%s")


def test_itf8_and_ltf8_round_trip():
    rng = random.Random(3)
    for value in [0, 1, 127, 128, 16_383, 16_384, -1, -2, 2**31 - 1, -2**31] + [rng.randrange(-2**31, 2**31) for _ in range(500)]:
        encoded = encode_itf8(value)
        assert read_itf8(encoded, 0) == (value, len(encoded))
        values, after = itf8_many(np.frombuffer(encoded + bytes(5), np.uint8), np.array([0]))
        assert (values[0], after[0]) == (value, len(encoded))
        assert read_itf8(encoded[:-1], 0) is None
    for value in [0, 2**56 - 1, 2**56, 2**63 - 1, -2**63] + [rng.randrange(-2**63, 2**63) for _ in range(500)]:
        assert read_ltf8(encode_ltf8(value), 0) == (value, len(encode_ltf8(value)))


def test_wrong_reference_names_the_contig_and_md5(made, tmp_path, no_reference_lookup):
    other = write_random_reference(sq_lines(made["bam"]), tmp_path / "other.fa", seed=2)
    with open_channel(str(made["cram"])) as channel:
        expected = read_cram_header(channel).md5s["chr1"]
    with pytest.raises(CramReferenceError) as raised:
        read_tasks(plan(made["cram"], 10**9, str(other)))
    message = str(raised.value)
    assert "'chr1'" in message and expected in message and str(other) in message


def test_missing_reference_is_a_typed_error_but_counting_needs_none(made, tmp_path, no_reference_lookup):
    reference = tmp_path / "gone.fa"
    shutil.copy(made["reference"], reference)
    cram = tmp_path / "gone.cram"
    assert convert_to_cram(made["bam"], cram, reference, "3.0", seqs_per_slice=32)
    reference.unlink()
    Path(str(reference) + ".fai").unlink()
    assert count_tasks(plan(cram, 3_000)) == 400
    with pytest.raises(CramReferenceError, match="no reference= was given"):
        read_tasks(plan(cram, 10**9))


def test_truncated_cram_fails_and_never_counts_short(made, tmp_path):
    data = made["cram"].read_bytes()
    for cut in (len(data) // 2, len(data) - 20, 40):
        path = tmp_path / f"cut{cut}.cram"
        path.write_bytes(data[:cut])
        with pytest.raises(SparkBamError):
            count_tasks(plan(path, 2_000))


def test_corrupt_container_header_is_an_error_not_a_wrong_count(made, tmp_path):
    data = bytearray(made["cram"].read_bytes())
    with open_channel(str(made["cram"])) as channel:
        header = read_cram_header(channel)
        first = container_at(channel, header.first_container, header)
        third = [c.offset for c in iter_containers(channel, first, header, channel.size)][2]
    data[third + 6] ^= 0x40  # a field inside the header: its CRC32 no longer matches
    path = tmp_path / "corrupt.cram"
    path.write_bytes(bytes(data))
    assert header.first_container < third
    for split_size in (10**9, 3_000, 700):
        with pytest.raises((CorruptDataError, SplitVerificationError)):
            count_tasks(plan(path, split_size))


def test_doctored_crai_fails_verification(made, tmp_path):
    cram = tmp_path / "indexed.cram"
    shutil.copy(made["cram"], cram)
    crai = index_cram(cram)
    lines = gzip.decompress(crai.read_bytes()).decode().splitlines()
    assert count_tasks(plan(cram, 500, use_index=True)) == 400
    # Point an entry between containers: the split before it cannot end there.
    fields = lines[2].split("\t")
    fields[3] = str(int(fields[3]) + 5)
    crai.write_bytes(gzip.compress(("\n".join(lines[:2] + ["\t".join(fields)] + lines[3:]) + "\n").encode()))
    with pytest.raises((IndexFormatError, SplitVerificationError)) as raised:
        count_tasks(plan(cram, 500, use_index=True))
    assert ".crai" in str(raised.value)


def test_stale_crai_is_ignored_with_a_warning(made, tmp_path):
    cram = tmp_path / "stale.cram"
    shutil.copy(made["cram"], cram)
    crai = Path(str(cram) + ".crai")
    crai.write_bytes(gzip.compress(b"0\t1\t100\t999999999\t10\t20\n"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tasks = plan(cram, 3_000, use_index=True)
    assert any(issubclass(w.category, StaleCraiWarning) for w in caught)
    assert all(task.exact is None for task in tasks) and count_tasks(tasks) == 400


def test_not_cram_and_not_bam(made, tmp_path):
    with pytest.raises(WrongFormatError, match="not a CRAM"):
        plan(made["bam"], 10_000)
    empty = tmp_path / "empty.cram"
    empty.write_bytes(b"")
    with pytest.raises(SparkBamError):
        plan(empty, 10_000)
    with pytest.raises(NotBgzfError, match="format\\('cram'\\)"):
        open_bam(str(made["cram"]))
    cut = tmp_path / "def.cram"
    cut.write_bytes(b"CRAM\x03\x00abc")
    with pytest.raises(TruncatedError):
        plan(cut, 10_000)


def test_cram_source_options_are_checked_on_the_driver(made):
    from sparkbam_py.errors import ConfigError
    from sparkbam_py.formats.cram import CRAM

    path = str(made["cram"])
    load = CRAM.open_read({"path": path, "splitSize": "4k", "containersToCheck": "5", "useIndex": "false"})
    assert load.options.split_size == 4096 and load.options.search.containers_to_check == 5
    assert load.paths == (path,) and not load.options.use_index
    with pytest.raises(ConfigError, match="readstocheck"):
        CRAM.open_read({"path": path, "readsToCheck": "3"})
    with pytest.raises(ConfigError, match="containersToCheck"):
        CRAM.open_read({"path": path, "containersToCheck": "0"})
    with pytest.raises(ConfigError, match="verifySplits"):
        CRAM.open_read({"path": path, "verifySplits": "maybe"})
    assert CRAM.open_read({"path": str(made["dir"])}).paths == (path,)


def test_reference_url_is_fetched_once_into_the_cache(made, tmp_path, monkeypatch, no_reference_lookup):
    import fsspec

    from cram_truth import our_records, truth_records

    memory = fsspec.filesystem("memory")
    memory.pipe("/refs/genome.fa", made["reference"].read_bytes())  # no .fai there: built locally
    monkeypatch.setenv("SPARKBAM_REF_CACHE", str(tmp_path / "cache"))
    got = our_records(read_tasks(plan(made["cram"], 3_000, "memory://refs/genome.fa")))
    assert got == truth_records(str(made["cram"]), str(made["reference"]))
    cached = sorted(path.name for path in (tmp_path / "cache").iterdir())
    assert len(cached) == 2 and cached[0].endswith("genome.fa") and cached[1].endswith("genome.fa.fai")
    with pytest.raises(CramReferenceError, match="does not exist"):
        read_tasks(plan(made["cram"], 10**9, str(tmp_path / "absent.fa")))


def _finishes(work, seconds: float = 120):
    """Run ``work`` in a thread; fail (instead of hanging the suite) if it does not finish."""
    import threading

    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the decode hung"
    return outcome


def test_failed_or_abandoned_decode_of_a_big_task_never_hangs(tmp_path, no_reference_lookup):
    """htslib stops reading when it fails, or when the consumer stops early; the thread
    feeding it must not block forever on a full pipe."""
    from sparkbam_py.cram.reader import CramSplitReader

    bam = build_fixture(short_reads(6000, seed=12), "block_aligned", tmp_path, "big").path
    reference = write_random_reference(sq_lines(bam), tmp_path / "big.fa", seed=1)
    wrong = write_random_reference(sq_lines(bam), tmp_path / "wrong.fa", seed=2)
    cram = tmp_path / "big.cram"
    assert convert_to_cram(bam, cram, reference, "3.0")
    assert cram.stat().st_size > 512 << 10  # many times a pipe buffer (64 KiB)
    outcome = _finishes(lambda: read_tasks(plan(cram, 10**9, str(wrong))))
    assert isinstance(outcome.get("error"), CramReferenceError)

    def abandon():
        with CramSplitReader(plan(cram, 10**9, str(reference))[0]) as reader:
            batches = reader.iter_batches(["query_name", "query_sequence"], batch_records=100)
            first = next(batches)
            batches.close()
        return first.num_rows

    assert _finishes(abandon).get("value") == 100
