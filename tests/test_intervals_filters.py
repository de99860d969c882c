"""Regions from the ``intervals`` option text and from pushed-down Spark filters.

The filter oracle: for random ANDs of filters, every read of the file that passes them
(evaluated here with SQL semantics on a pysam pass) must be among the reads the planned
regions give; Spark then re-applies the filters, so a superset is exactly right.
"""
from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest
from pyspark.sql.datasource import (
    EqualNullSafe,
    EqualTo,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNotNull,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Not,
    StringStartsWith,
)

from sparkbam_py.bam.header import BamHeader
from sparkbam_py.index.regions import Region
from sparkbam_py.intervals import regions_from_filters, split_intervals
from sparkbam_py.intervals.filters import MAX_POSITION
from sparkbam_py.pos import Pos
from index_oracle import GENERATED_REFS, write_indexed_bam
from test_intervals_oracle import read_ids

NAME, START = ("reference_name",), ("reference_start",)
HEADER = BamHeader("", ("chr1", "chr2", "chrM", "HLA:1"), (1000, 2000, 300, 50), Pos(0, 100))


@pytest.mark.parametrize("text, expected", [
    ("chr1:1-100,chr2", ["chr1:1-100", "chr2"]),
    ("chr1:1,000-2,000,chr2", ["chr1:1,000-2,000", "chr2"]),
    ("chr1:1,000,chr2:5,000-", ["chr1:1,000", "chr2:5,000-"]),
    ("  chr1 ;chr2\t* ", ["chr1", "chr2", "*"]),
    ("{HLA:1}:1,000-2,000,*", ["{HLA:1}:1,000-2,000", "*"]),
    ("chr1,,chr2", ["chr1", "chr2"]),
    ("chr1:100,200", ["chr1:100,200"]),  # samtools reads this as 100200 too
    ("", []),
])
def test_split_intervals(text, expected):
    assert split_intervals(text) == expected


def test_no_usable_filter_means_a_full_scan():
    assert regions_from_filters([], HEADER) is None
    assert regions_from_filters([EqualTo(("flag",), 4), Not(EqualTo(NAME, "chr1"))], HEADER) is None


def test_name_filters():
    assert regions_from_filters([EqualTo(NAME, "chr2")], HEADER) == [Region(1, "chr2", -1, MAX_POSITION + 1)]
    assert [r.name for r in regions_from_filters([In(NAME, ("chrM", "chr1", None, "nope"))], HEADER)] == \
        ["chr1", "chrM"]
    assert [r.name for r in regions_from_filters([StringStartsWith(NAME, "chr")], HEADER)] == ["chr1", "chr2", "chrM"]
    assert regions_from_filters([EqualTo(NAME, "nope")], HEADER) == []
    assert regions_from_filters([IsNull(NAME)], HEADER) == [Region(-1, "*", 0, 0)]
    assert regions_from_filters([EqualNullSafe(NAME, None)], HEADER) == [Region(-1, "*", 0, 0)]
    assert len(regions_from_filters([IsNotNull(NAME)], HEADER)) == 4  # every reference, no "*"


def test_start_filters_make_uncapped_ranges():
    regions = regions_from_filters([EqualTo(NAME, "chr1"), GreaterThan(START, 99), LessThanOrEqual(START, 500)],
                                   HEADER)
    assert regions == [Region(0, "chr1", 100, 501)]
    regions = regions_from_filters([EqualTo(NAME, "chrM"), GreaterThanOrEqual(START, 5000)], HEADER)
    assert regions == [Region(2, "chrM", 5000, MAX_POSITION + 1)]  # past chrM's end: kept
    assert regions_from_filters([EqualTo(NAME, "chr1"), LessThan(START, 10), GreaterThan(START, 20)], HEADER) == []
    assert regions_from_filters([EqualTo(NAME, "chr1"), In(START, (7, 3, 50))], HEADER) == [Region(0, "chr1", 3, 51)]
    assert regions_from_filters([EqualTo(NAME, "chr1"), GreaterThan(START, 9.5)], HEADER) == \
        [Region(0, "chr1", 10, MAX_POSITION + 1)]


def test_start_only_filter_covers_every_reference_and_the_unplaced_reads():
    regions = regions_from_filters([GreaterThanOrEqual(START, 100)], HEADER)
    assert [r.ref_id for r in regions] == [0, 1, 2, 3, -1]  # SAM lets unplaced reads have any POS


# -- the superset oracle ----------------------------------------------------------------------------


def passes(read: pysam.AlignedSegment, item) -> bool:
    """SQL semantics of one filter on one read (a comparison with null is not true)."""
    value = read.reference_name if item.attribute == NAME else read.reference_start
    if isinstance(item, IsNull):
        return value is None
    if isinstance(item, IsNotNull):
        return value is not None
    if isinstance(item, EqualNullSafe):
        return value == item.value
    if value is None:
        return False
    if isinstance(item, In):
        return value in item.value
    if isinstance(item, StringStartsWith):
        return value.startswith(item.value)
    compare = {EqualTo: lambda a, b: a == b, GreaterThan: lambda a, b: a > b,
               GreaterThanOrEqual: lambda a, b: a >= b, LessThan: lambda a, b: a < b,
               LessThanOrEqual: lambda a, b: a <= b}[type(item)]
    return compare(value, item.value)


def random_filters(rng: random.Random, names, lengths):
    filters = []
    if rng.random() < 0.8:
        kind = rng.choice(["eq", "in", "null", "notnull", "prefix"])
        name = rng.choice(names)
        filters.append({"eq": EqualTo(NAME, name), "in": In(NAME, tuple(rng.sample(names, 2))),
                        "null": IsNull(NAME), "notnull": IsNotNull(NAME),
                        "prefix": StringStartsWith(NAME, name[:4])}[kind])
    for _ in range(rng.randint(0 if filters else 1, 2)):
        bound = rng.randrange(-2, max(lengths) + 10)
        filters.append(rng.choice([GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual, EqualTo])(START, bound))
    return filters


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return write_indexed_bam(tmp_path_factory.mktemp("filters") / "gen.bam", GENERATED_REFS, 3_000, seed=61)


def test_filter_regions_never_lose_a_matching_read(generated):
    rng = random.Random(9)
    names, lengths = [n for n, _ in GENERATED_REFS], [ln for _, ln in GENERATED_REFS]
    header = BamHeader("", tuple(names), tuple(lengths), Pos(0, 0))
    with pysam.AlignmentFile(str(generated)) as handle:
        everything = []
        for read in handle.fetch(until_eof=True):
            everything.append((read, read.query_name))
    for _ in range(40):
        filters = random_filters(rng, names, lengths)
        wanted = {name for read, name in everything if all(passes(read, f) for f in filters)}
        regions = regions_from_filters(filters, header)
        got = {name for _, name in read_ids(generated, regions)} if regions else set()
        assert wanted <= got, (filters, sorted(wanted - got)[:5])
