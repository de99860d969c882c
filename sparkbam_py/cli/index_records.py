"""``index-records BAM [OUT]``: spark-bam's ``.records`` file, one record start per line.

Format: ``blockPos,offset``; a record starting exactly at a block's end is named by the
next block at offset 0 (htslib's ``tell()`` convention). Walks block_size fields only.
"""
from __future__ import annotations

import time

import numpy as np

from ..bam.file import open_bam
from ..pos import UOFFSET_BITS, UOFFSET_MASK
from .common import Command, Progress, Result, add_verify_checksums_argument, output_file


class IndexRecords(Command):
    name = "index-records"
    help = "write BAM.records: blockPos,offset of every record start"
    formats = ("bam",)

    def configure(self, parser):
        parser.add_argument("bam", help="BAM path or URL")
        add_verify_checksums_argument(parser)
        parser.add_argument("out", nargs="?", help="output path (default BAM.records; '-' for stdout)")

    def run(self, args) -> Result:
        self.input_format(args.bam)
        out_path = args.out or f"{args.bam}.records"
        started = time.perf_counter()
        records = 0
        with open_bam(args.bam, args.verify_checksums) as bam, output_file(out_path) as out:
            progress = Progress(self.name, bam.size, args.progress)
            for chunk in bam.iter_record_chunks():
                virtual = chunk.virtual_offsets()
                lines = np.char.add(np.char.add((virtual >> UOFFSET_BITS).astype(str), ","),
                                    (virtual & UOFFSET_MASK).astype(str))
                out.write("\n".join(lines.tolist()) + "\n")
                records += len(virtual)
                progress.update(int(virtual[-1] >> UOFFSET_BITS), f"{records} records")
            progress.finish()
        seconds = time.perf_counter() - started
        data = {"path": args.bam, "output": out_path, "records": records,
                "first_record": str(bam.header.end), "seconds": round(seconds, 3)}
        lines = [] if out_path == "-" else [f"Wrote {records} record positions to {out_path} in {seconds:.2f} s"]
        return Result(lines, data)


COMMAND = IndexRecords()
