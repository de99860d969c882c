"""Check the record walk and block walk against independent truths over a folder of BAMs.

For every BAM under DIR:
- ``index-records`` output equals the ``.records`` file beside it, when there is one;
- it equals pysam's record list (``tell()`` before each record) when pysam reads the file;
- ``index-blocks`` output equals a block walk written here from the gzip layout alone;
- a file that cannot be walked raises one of the library's typed errors (never a short result),
  and the MANIFEST's ``INVALID``/``container=raw`` files must be among those.

Usage: python bench/walk_check.py DIR [--tsv OUT]; exits 1 on any difference.
"""
from __future__ import annotations

import argparse
import csv
import struct
import sys
import time
import warnings
from pathlib import Path

import pysam

from sparkbam_py.bam.file import open_bam
from sparkbam_py.bgzf.blocks import iter_block_info
from sparkbam_py.channel import open_channel
from sparkbam_py.errors import SparkBamError


def independent_blocks(path: Path):
    """(start, compressed, uncompressed) per gzip member, from RFC 1952 headers only."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        xlen = struct.unpack_from("<H", data, pos + 10)[0]
        extra = data[pos + 12 : pos + 12 + xlen]
        j, bsize = 0, None
        while j < len(extra):
            slen = struct.unpack_from("<H", extra, j + 2)[0]
            if extra[j : j + 2] == b"BC":
                bsize = struct.unpack_from("<H", extra, j + 4)[0]
            j += 4 + slen
        size = bsize + 1
        isize = struct.unpack_from("<I", data, pos + size - 4)[0]
        out.append((pos, size, isize))
        pos += size
    if out and out[-1][2] == 0:
        out.pop()  # the EOF marker
    return out


def pysam_positions(path: Path):
    with warnings.catch_warnings(), pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
        positions = []
        while True:
            here = bam.tell()
            try:
                next(bam)
            except StopIteration:
                return positions
            positions.append(here)


def our_positions(path: Path):
    with open_bam(str(path)) as bam:
        return [int(v) for chunk in bam.iter_record_chunks() for v in chunk.virtual_offsets()]


def records_file_positions(path: Path):
    with open(path) as handle:
        return [(int(b) << 16) | int(o) for b, o in (line.strip().split(",") for line in handle if line.strip())]


def manifest_notes(root: Path):
    manifest = root / "MANIFEST.tsv"
    if not manifest.exists():
        return {}
    with open(manifest, newline="") as handle:
        return {row["file"]: row.get("notes", "") for row in csv.DictReader(handle, delimiter="\t")}


def check_one(path: Path, notes: str):
    """A result row: what was compared, and the problems found (empty = all good)."""
    row = {"file": str(path), "records": "", "blocks": "", "compared": [], "error": "", "problems": []}
    expect_failure = "INVALID" in notes or "container=raw" in notes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = our_positions(path)
            with open_channel(str(path)) as channel:
                blocks = [tuple(b) for b in iter_block_info(channel)]
    except SparkBamError as error:
        row["error"] = f"{type(error).__name__}: {error}"
        if not expect_failure:
            row["problems"].append(f"unexpected error {row['error']}")
        return row
    except Exception as error:  # an untyped failure is itself a bug
        row["error"] = f"{type(error).__name__}: {error}"
        row["problems"].append(f"untyped error {row['error']}")
        return row
    if expect_failure:
        row["problems"].append("a file the manifest marks invalid was walked without an error")
    row["records"], row["blocks"] = len(ours), len(blocks)
    _compare(row, "blocks", blocks, lambda: independent_blocks(path))
    records_file = path.with_name(path.name + ".records")
    if records_file.exists():
        _compare(row, ".records", ours, lambda: records_file_positions(records_file))
    if "pysam_error" not in notes:
        _compare(row, "pysam", ours, lambda: pysam_positions(path))
    return row


def _compare(row, name, ours, truth_of):
    try:
        truth = truth_of()
    except Exception as error:
        row["problems"].append(f"{name}: the reference could not be computed ({error})")
        return
    row["compared"].append(name)
    if ours != truth:
        first = next((i for i, (a, b) in enumerate(zip(ours, truth)) if a != b), min(len(ours), len(truth)))
        row["problems"].append(f"{name}: differs at entry {first} ({len(ours)} ours vs {len(truth)} theirs)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--tsv", type=Path, help="write one row per BAM here")
    args = parser.parse_args(argv)
    notes = manifest_notes(args.dir)
    started = time.perf_counter()
    rows = []
    # The manifest lists every BAM, some under other extensions (.sam, .bam.header).
    names = sorted(notes) or sorted(str(p.relative_to(args.dir)) for p in args.dir.rglob("*.bam"))
    for name in names:
        rows.append(check_one(args.dir / name, notes.get(name, "")))
    bad = [row for row in rows if row["problems"]]
    for row in bad:
        print(f"FAIL {row['file']}: {'; '.join(row['problems'])}")
    if args.tsv:
        _write_tsv(args.tsv, rows)
    errors = sum(1 for row in rows if row["error"])
    compared = sum(len(row["compared"]) for row in rows)
    print(f"walk check: {len(rows)} BAMs, {compared} comparisons, {errors} typed errors on invalid inputs, "
          f"{len(bad)} failures, {time.perf_counter() - started:.1f} s")
    return 1 if bad else 0


def _write_tsv(path: Path, rows) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["file", "records", "blocks", "compared", "error", "problems"])
        for row in rows:
            writer.writerow([row["file"], row["records"], row["blocks"], ",".join(row["compared"]),
                             row["error"], "; ".join(row["problems"])])


if __name__ == "__main__":
    sys.exit(main())
