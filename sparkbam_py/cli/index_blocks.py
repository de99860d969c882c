"""``index-blocks BAM [OUT]``: spark-bam's ``.blocks`` file, one BGZF block per line.

Format: ``start,compressedSize,uncompressedSize``; the final EOF-marker block is left out.
"""
from __future__ import annotations

import time

from ..bgzf.blocks import iter_block_info
from ..channel import open_channel
from .common import Command, Progress, Result, output_file


class IndexBlocks(Command):
    name = "index-blocks"
    help = "write BAM.blocks: start,compressedSize,uncompressedSize of every BGZF block"

    def configure(self, parser):
        parser.add_argument("bam", help="BAM path or URL")
        parser.add_argument("out", nargs="?", help="output path (default BAM.blocks; '-' for stdout)")

    def run(self, args) -> Result:
        out_path = args.out or f"{args.bam}.blocks"
        started = time.perf_counter()
        blocks = compressed = uncompressed = 0
        with open_channel(args.bam) as channel, output_file(out_path) as out:
            progress = Progress(self.name, channel.size, args.progress)
            for block in iter_block_info(channel):
                out.write(f"{block.start},{block.compressed_size},{block.uncompressed_size}\n")
                blocks += 1
                compressed += block.compressed_size
                uncompressed += block.uncompressed_size
                progress.update(block.start, f"{blocks} blocks")
            progress.finish()
        seconds = time.perf_counter() - started
        data = {"path": args.bam, "output": out_path, "blocks": blocks, "compressed_bytes": compressed,
                "uncompressed_bytes": uncompressed, "seconds": round(seconds, 3)}
        lines = [] if out_path == "-" else [f"Wrote {blocks} blocks to {out_path} in {seconds:.2f} s"]
        return Result(lines, data)


COMMAND = IndexBlocks()
