"""Corruption fuzzing: any corrupted BAM reads as a typed error or exactly the original records.

Hypothesis draws a corruption (a byte flipped in a BGZF header, a deflate payload or a
trailer; a cut anywhere; blocks swapped, duplicated or dropped; a BSIZE that lies) of a
generated BAM, and the file is read through every split at three split sizes, each read
under a time bound.  Never different records, never an untyped exception, never a hang.

One honest exception, which no reader can avoid: an edit that leaves a well-formed BAM of
other records (whole-record blocks swapped or dropped, the EOF marker moved).  Those are
accepted only when htslib, reading the file sequentially, returns exactly our records (see
``fixtures/corruption.py``).  The same kinds run over the real-world corpus in
``bench/fuzz_corpus.py``.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.content import short_reads
from fixtures.content_special import long_reads, secondary_no_seq
from fixtures.corruption import (KINDS, block_table, corrupt, is_failure, judge, original_records,
                                 split_sizes_for, tally)
from fixtures.placement import build_fixture

# Per read of one corrupted file at one split size; the generated files are ~50-300 KB.
SECONDS_PER_READ = 20
EXAMPLES = 250
SOURCES = (
    ("short_reads", "mixed"),  # records across block boundaries, block sizes vary
    ("short_reads", "block_aligned"),  # records start at block starts: swaps can stay well-formed
    ("long_reads", "htsjdk"),  # records much longer than a block
    ("secondary_no_seq", "tiny_blocks"),  # hundreds of small blocks
    ("short_reads", "level0"),  # stored blocks: deflate sees nothing, only CRC32 can
)
_CONTENT = {"short_reads": lambda: short_reads(600, seed=31), "long_reads": lambda: long_reads(seed=32),
            "secondary_no_seq": lambda: secondary_no_seq(120, seed=33)}


@pytest.fixture(scope="module")
def outcomes():
    """Every case's outcome, printed as a table when the module ends (``pytest -s`` shows it)."""
    seen = []
    yield seen
    by_kind = {kind: tally([outcome for k, outcome in seen if k == kind]) for kind in KINDS}
    print(f"\n{len(seen)} corruption cases of generated BAMs:")
    for kind, counts in by_kind.items():
        print(f"  {kind:<16} " + ", ".join(f"{label}: {count}" for label, count in counts.items()))
    print("  total            " + ", ".join(f"{label}: {count}" for label, count in tally([o for _, o in seen]).items()))


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    built = []
    for kind, layout in SOURCES:
        fixture = build_fixture(_CONTENT[kind](), layout, folder)
        data = fixture.path.read_bytes()
        built.append((fixture.name, data, block_table(data), original_records(fixture.path)))
    return built


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(which=st.integers(0, len(SOURCES) - 1), kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
def test_a_corrupted_bam_is_an_error_or_exactly_the_original(sources, outcomes, tmp_path, which, kind, seed):
    name, data, blocks, original = sources[which]
    assert original is not None, name
    corruption = corrupt(data, blocks, kind, seed)
    path = tmp_path / "corrupt.bam"
    path.write_bytes(corruption.data)
    outcome = judge(original, path, split_sizes_for(len(data)), SECONDS_PER_READ)
    outcomes.append((kind, outcome))
    assert not is_failure(outcome), f"{name}, {kind} seed {seed} ({corruption.detail}): {outcome}"


def test_every_kind_changes_the_file(sources):
    """The corruptors do what they say (a fuzzer that corrupts nothing cannot fail)."""
    name, data, blocks, _ = sources[0]
    for kind in KINDS:
        for seed in range(5):
            assert corrupt(data, blocks, kind, seed).data != data, (kind, seed)
