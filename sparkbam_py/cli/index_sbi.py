"""``index-sbi BAM [OUT]``: write htsjdk's ``.sbi`` splitting index for a BAM.

Walks block_size fields only (as htsjdk's ``BAMSBIIndexer``) and keeps every g-th record's
virtual offset plus the position after the last record.  GATK, Disq and this library's
loader read the result; with one beside a BAM, the loader plans exact splits by lookup.
"""
from __future__ import annotations

import time

from ..bam.file import open_bam
from ..errors import ConfigError
from ..index.sbi import DEFAULT_GRANULARITY, compute_sbi, sbi_path_for, write_sbi
from ..pos import Pos
from .common import Command, Progress, Result, add_verify_checksums_argument


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


class IndexSbi(Command):
    name = "index-sbi"
    help = "write BAM.sbi: htsjdk's splitting index (every g-th record's virtual offset)"
    formats = ("bam",)

    def configure(self, parser):
        parser.add_argument("bam", help="BAM path or URL")
        add_verify_checksums_argument(parser)
        parser.add_argument("out", nargs="?", help="output path (default BAM.sbi; required for a URL)")
        parser.add_argument("-g", "--granularity", type=positive_int, default=DEFAULT_GRANULARITY,
                            help=f"index every g-th record (default {DEFAULT_GRANULARITY}, htsjdk's; "
                                 "1 indexes every record)")
        parser.add_argument("--md5", action="store_true",
                            help="store the BAM's MD5 in the header (reads the file twice; default zeros)")

    def run(self, args) -> Result:
        self.input_format(args.bam)
        if args.out is None and "://" in args.bam:
            raise ConfigError("the index is written to a local file: give OUT for a BAM at a URL", args.bam)
        out_path = args.out or sbi_path_for(args.bam)
        started = time.perf_counter()
        with open_bam(args.bam, args.verify_checksums) as bam:
            progress = Progress(self.name, bam.size, args.progress)
            index = compute_sbi(bam, args.granularity, md5=args.md5,
                                progress=lambda done, records: progress.update(done, f"{records} records"))
            progress.finish()
        written = write_sbi(index, out_path)
        seconds = time.perf_counter() - started
        data = {
            "path": args.bam, "output": out_path, "bytes": written,
            "records": index.record_count, "granularity": index.granularity, "offsets": len(index.offsets),
            "first": str(Pos.from_virtual(int(index.offsets[0]))) if index.record_count else None,
            "last": str(index.last),
            "file_length": index.file_length, "md5": index.md5.hex(), "seconds": round(seconds, 3),
        }
        lines = [f"Wrote {len(index.offsets)} offsets ({index.record_count} records, granularity "
                 f"{index.granularity}) to {out_path} in {seconds:.2f} s"]
        return Result(lines, data)


COMMAND = IndexSbi()
