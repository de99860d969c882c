"""CRAM splits and decode, exactly once, on CRAMs samtools makes from generated BAMs.

Every content kind is converted with a generated reference (CRAM 3.0, 3.1 and 2.1) and
without one (``no_ref``), with small slices so each file has many containers.  For many
split sizes: the executor-side search finds exactly the containers of the chain, the counts
add up, and the records of all splits equal pysam's sequential read, in order.
"""
from __future__ import annotations

import bisect
import pickle
import shutil
from pathlib import Path

import pytest

from cram_truth import count_tasks, our_records, plan, read_tasks, starts_of, truth_records
from fixtures import build_fixture
from fixtures.content import all_unmapped, short_reads
from fixtures.content_special import long_cigar, long_reads, many_references, odd_names, secondary_no_seq
from fixtures.cram import SAMTOOLS, convert_to_cram, index_cram, sq_lines, write_random_reference
from sparkbam_py.bam.schema import DEFAULT_COLUMNS
from sparkbam_py.channel import open_channel
from sparkbam_py.cram.header import read_cram_header
from sparkbam_py.cram.plan import CramReadOptions, plan_cram_regions
from sparkbam_py.cram.search import container_at, find_container_start, iter_containers
from sparkbam_py.kernels import KERNELS_ENV

pytestmark = pytest.mark.skipif(SAMTOOLS is None, reason="samtools is needed to write CRAM")

CONTENTS = {"short_reads": short_reads, "long_reads": long_reads, "all_unmapped": all_unmapped,
            "secondary_no_seq": secondary_no_seq, "odd_names": odd_names}
# (version, with reference); many_references (5,000 contigs) only without one.
FLAVOURS = (("3.0", True), ("3.1", True), ("2.1", True), ("3.0", False))
SEQS_PER_SLICE = 64


@pytest.fixture(scope="session")
def crams(tmp_path_factory):
    """name -> (cram path, reference path or None, bam path)."""
    directory = tmp_path_factory.mktemp("crams")
    made = {}
    sources = {name: make() for name, make in CONTENTS.items()}
    sources["many_references"] = many_references()
    for kind, content in sources.items():
        bam = build_fixture(content, "block_aligned", directory).path
        reference = None
        if kind != "many_references":
            reference = write_random_reference(sq_lines(bam) or [("unused", 10)], directory / f"{kind}.fa")
        for version, with_reference in FLAVOURS:
            if with_reference and reference is None:
                continue
            name = f"{kind}.v{version}.{'ref' if with_reference else 'noref'}"
            out = directory / f"{name}.cram"
            used = reference if with_reference else None
            assert convert_to_cram(bam, out, used, version, SEQS_PER_SLICE), name
            made[name] = (out, used, bam)
    return made


@pytest.fixture(scope="session")
def truths(crams):
    return {name: truth_records(str(path), reference and str(reference)) for name, (path, reference, _) in crams.items()}


def chain_offsets(path) -> list:
    with open_channel(str(path)) as channel:
        header = read_cram_header(channel)
        first = container_at(channel, header.first_container, header)
        if first is None or first.is_eof:
            return []
        return [container.offset for container in iter_containers(channel, first, header, channel.size)]


def test_search_finds_the_next_container_from_any_byte(crams):
    for name, (path, _, _) in crams.items():
        chain = chain_offsets(path)
        with open_channel(str(path)) as channel:
            header = read_cram_header(channel)
            size = channel.size
            for offset in range(0, size, max(1, size // 150)):
                found = find_container_start(channel, header, offset)
                k = bisect.bisect_left(chain, offset)
                wanted = chain[k] if k < len(chain) else None
                assert (None if found is None else found.offset) == wanted, (name, offset)


def test_splits_read_every_record_once_at_many_sizes(crams, truths):
    for name, (path, reference, _) in crams.items():
        size = path.stat().st_size
        truth = truths[name]
        for split_size in (size, size // 2 + 1, 5_000, 1_777, 600):
            tasks = plan(path, split_size, reference and str(reference))
            assert count_tasks(tasks) == len(truth), (name, split_size)
        for split_size in (size // 3 + 7, 2_500):
            tasks = plan(path, split_size, reference and str(reference))
            assert our_records(read_tasks(tasks)) == truth, (name, split_size)


def test_crai_gives_the_same_splits_without_search(crams, truths):
    for name in ("short_reads.v3.0.ref", "short_reads.v2.1.ref", "secondary_no_seq.v3.1.ref", "odd_names.v3.0.noref"):
        path, reference, _ = crams[name]
        index_cram(path)
        try:
            for split_size in (4_000, 1_000):
                searched = plan(path, split_size, reference and str(reference), use_index=False)
                exact = plan(path, split_size, reference and str(reference), use_index=True)
                assert all(task.exact is not None for task in exact)
                assert starts_of(exact) == starts_of(searched), (name, split_size)
                assert count_tasks(exact) == len(truths[name])
            assert our_records(read_tasks(exact)) == truths[name]
        finally:
            Path(str(path) + ".crai").unlink()


def test_regions_through_crai_match_pysam_fetch(crams):
    path, reference, _ = crams["short_reads.v3.0.ref"]
    index_cram(path)
    try:
        regions = ["chr1:1-400000", "chr1:350000-900000", "chr2", "chr3:5000-5100", "chrM"]
        with __import__("pysam").AlignmentFile(str(path), "rc", reference_filename=str(reference)) as cram:
            wanted = {}
            for region in regions:
                for read in cram.fetch(region=region):
                    wanted[(read.query_name, read.flag, read.reference_start)] = True
        _, tasks = plan_cram_regions(str(path), regions, CramReadOptions(reference=str(reference)))
        table = read_tasks(tasks, ["query_name", "flag", "reference_start"])
        got = list(zip(*(table.column(c).to_pylist() for c in ("query_name", "flag", "reference_start"))))
        assert len(got) == len(set(got))
        assert set(got) == set(wanted)
    finally:
        Path(str(path) + ".crai").unlink()


def test_tasks_pickle_and_keep_working(crams, truths):
    path, reference, _ = crams["long_reads.v3.0.ref"]
    tasks = plan(path, 3_000, str(reference))
    copies = [pickle.loads(pickle.dumps(task)) for task in tasks]
    assert copies == tasks
    assert count_tasks(copies) == count_tasks(tasks) == len(truths["long_reads.v3.0.ref"])


def test_many_references_header_is_read_on_the_executor(crams, truths):
    path, _, _ = crams["many_references.v3.0.noref"]
    tasks = plan(path, 2_000)
    assert tasks and all(task.header is None for task in tasks)
    assert our_records(read_tasks(tasks)) == truths["many_references.v3.0.noref"]


def test_copy_of_a_cram_in_another_directory(crams, truths, tmp_path):
    """Nothing depends on the file's name: a copy under another name reads the same."""
    path, reference, _ = crams["secondary_no_seq.v2.1.ref"]
    copy = tmp_path / "renamed.cram"
    shutil.copy(path, copy)
    assert our_records(read_tasks(plan(copy, 1_500, str(reference)))) == truths["secondary_no_seq.v2.1.ref"]


def test_narrow_columns_decode_the_same_values(crams):
    """Narrow selections let htslib skip sequence, qualities or tags: the rest must not change."""
    for name in ("short_reads.v3.0.ref", "secondary_no_seq.v2.1.ref", "odd_names.v3.0.noref"):
        path, reference, _ = crams[name]
        tasks = plan(path, 4_000, reference and str(reference))
        full = read_tasks(tasks)
        for columns in (["query_name", "flag", "reference_end"], ["cigar", "query_qualities"], ["tags", "flag"],
                        ["query_sequence"], ["next_reference_name", "template_length", "reference_name"]):
            narrow = read_tasks(tasks, columns)
            assert narrow.to_pydict() == full.select(columns).to_pydict(), (name, columns)


def test_several_slices_per_container_and_multi_reference_slices(tmp_path):
    """Containers with several landmarks (slices), and slices spanning references (-2)."""
    bam = build_fixture(short_reads(1500, seed=31), "block_aligned", tmp_path, "slices").path
    reference = write_random_reference(sq_lines(bam), tmp_path / "slices.fa")
    for name, extra in (("slices", ["slices_per_container=3"]), ("multiref", ["multi_seq_per_slice=1"])):
        cram = tmp_path / f"{name}.cram"
        assert convert_to_cram(bam, cram, reference, "3.0", seqs_per_slice=40, extra=extra)
        truth = truth_records(str(cram), str(reference))
        for split_size in (cram.stat().st_size // 4 + 3, 3_000):
            tasks = plan(cram, split_size, str(reference))
            assert count_tasks(tasks) == len(truth)
            assert our_records(read_tasks(tasks)) == truth, (name, split_size)


def read_on(monkeypatch, path_name, tasks, columns=DEFAULT_COLUMNS):
    monkeypatch.setenv(KERNELS_ENV, path_name)
    return read_tasks(tasks, columns).to_pydict()


def test_compiled_decode_equals_the_pysam_path(crams, monkeypatch):
    """htslib's records through the BAM decoder give exactly the SAM-text path's values."""
    pytest.importorskip("numba")
    for name, (path, reference, _) in crams.items():
        tasks = plan(path, 3_000, reference and str(reference))
        assert read_on(monkeypatch, "numba", tasks) == read_on(monkeypatch, "python", tasks), name
        columns = ["query_name", "flag", "reference_end", "cigar"]  # htslib skips sequence, qualities, tags
        assert read_on(monkeypatch, "numba", tasks, columns) == read_on(monkeypatch, "python", tasks, columns), name


def test_cigars_of_more_than_65535_operations(tmp_path, monkeypatch):
    """htslib holds such a CIGAR whole; written as BAM it moves to a CG tag, which the BAM
    decoder reads back: the same CIGAR, reference end and tags as pysam's."""
    pytest.importorskip("numba")
    bam = build_fixture(long_cigar(), "block_aligned", tmp_path).path
    reference = write_random_reference(sq_lines(bam), tmp_path / "long.fa")
    cram = tmp_path / "long.cram"
    assert convert_to_cram(bam, cram, reference, "3.0")
    tasks = plan(cram, 10**9, str(reference))
    monkeypatch.setenv(KERNELS_ENV, "numba")
    assert our_records(read_tasks(tasks)) == truth_records(str(cram), str(reference))
    assert max(len(cigar) for cigar in read_tasks(tasks, ["cigar"]).column("cigar").to_pylist() if cigar) > 65535 * 2
