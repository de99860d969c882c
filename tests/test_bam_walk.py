"""Header parse and record walk against the fixture builder's own record of where it put things."""
import json

import numpy as np
import pytest

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bam.layout import FIXED_FIELDS_DTYPE, gather_fixed_fields
from sparkbam_py.bam.walk import iter_record_chunks
from sparkbam_py.bgzf.blocks import iter_block_info
from sparkbam_py.channel import open_channel
from sparkbam_py.cli.main import main as cli_main
from sparkbam_py.pos import Pos


def readable(bam_fixtures):
    return {name: f for name, f in bam_fixtures.items() if f.readable}


def walk_positions(bam, start=None, stop=None, chunk_bytes=None):
    start = bam.header.end if start is None else start
    kwargs = {} if chunk_bytes is None else {"chunk_bytes": chunk_bytes}
    return [Pos.from_virtual(int(v)) for c in iter_record_chunks(bam.reader, start, stop, **kwargs)
            for v in c.virtual_offsets()]


def test_every_layout_walks_to_the_truth(bam_fixtures):
    for name, fixture in readable(bam_fixtures).items():
        with open_bam(str(fixture.path)) as bam:
            assert bam.header.end == fixture.header_end, name
            assert bam.header.n_ref == fixture.n_refs, name
            assert walk_positions(bam) == fixture.record_pos, name
            # Tiny chunks force records (and block_size fields) to be carried between chunks.
            assert walk_positions(bam, chunk_bytes=700) == fixture.record_pos, name


def test_walk_from_inside_and_stop_before(bam_fixtures):
    fixture = bam_fixtures["many_blocks.htsjdk"]
    truth = fixture.record_pos
    with open_bam(str(fixture.path)) as bam:
        for first, last in [(0, 10), (17, 5000), (4321, len(truth)), (100, 101)]:
            stop = truth[last] if last < len(truth) else None
            assert walk_positions(bam, truth[first], stop, chunk_bytes=5000) == truth[first:last]
        # A stop of Pos(block, 0) keeps exactly the records starting in earlier blocks.
        block = fixture.block_starts[len(fixture.block_starts) // 2]
        expected = [p for p in truth if p.block_pos < block]
        assert walk_positions(bam, stop=Pos(block, 0)) == expected


def test_blocks_match_the_writer(bam_fixtures):
    for name, fixture in readable(bam_fixtures).items():
        with open_channel(str(fixture.path)) as channel:
            infos = list(iter_block_info(channel))
        assert [b.start for b in infos] == fixture.block_starts, name
        assert [b.compressed_size for b in infos] == fixture.block_sizes, name
        assert [b.uncompressed_size for b in infos] == fixture.block_usizes, name


def test_fixed_fields_gather_equals_byte_by_byte(bam_fixtures):
    fixture = bam_fixtures["short_reads.htsjdk"]
    with open_bam(str(fixture.path)) as bam:
        chunk = next(bam.iter_record_chunks())
        fields = chunk.fixed_fields()
        raw = chunk.run.raw
        slow = np.array([np.frombuffer(raw[o : o + 36], dtype=FIXED_FIELDS_DTYPE)[0] for o in chunk.offsets])
        assert (fields == slow).all()
        assert (gather_fixed_fields(chunk.run.data, chunk.offsets[:0]).shape == (0,))


def test_header_spanning_many_blocks(bam_fixtures):
    fixture = bam_fixtures["many_references.tiny_blocks"]
    with open_bam(str(fixture.path)) as bam:
        assert bam.header.n_ref == fixture.n_refs >= 3000
        assert bam.header.end.block_pos > fixture.block_starts[10]
        assert bam.header.reference_names[0] and all(n > 0 for n in bam.header.reference_lengths)


@pytest.mark.parametrize("command, suffix", [("index-records", "records"), ("index-blocks", "blocks")])
def test_index_commands_write_spark_bam_formats(tmp_path, capsys, bam_fixtures, command, suffix):
    fixture = bam_fixtures["long_reads.htsjdk"]
    out = tmp_path / f"out.{suffix}"
    assert cli_main([command, str(fixture.path), str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    lines = out.read_text().splitlines()
    if suffix == "records":
        assert lines == [f"{p.block_pos},{p.offset}" for p in fixture.record_pos]
        assert summary["records"] == fixture.n_records
    else:
        expected = zip(fixture.block_starts, fixture.block_sizes, fixture.block_usizes)
        assert lines == [f"{a},{b},{c}" for a, b, c in expected]
        assert summary["blocks"] == len(fixture.block_starts)


def test_cli_error_exit_names_the_problem(tmp_path, capsys):
    missing = tmp_path / "missing.bam"
    assert cli_main(["index-records", str(missing), "-"]) == 2
    assert "MissingInputError" in capsys.readouterr().err


def test_corpus_records_files(corpus_dir, tmp_path):
    for records in sorted(corpus_dir.glob("hammerlab__spark-bam/*.bam.records")):
        out = tmp_path / "x.records"
        assert cli_main(["index-records", str(records)[: -len(".records")], str(out)]) == 0
        assert out.read_text() == records.read_text(), records.name
