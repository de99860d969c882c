"""``index-bai BAI [OUT]``: write bai-indexer's ``.bai.json``, the index of a BAM index.

One ``[start, end)`` byte range of the ``.bai`` per reference, plus ``minBlockIndex``
(enough BAM bytes to hold the header).  With it beside a BAM, interval queries read only the
``.bai`` slices of the references they touch, and pileup.js and BioDalliance can do the same.
"""
from __future__ import annotations

from ..index.bai_json import default_bai_json_path, write_bai_json
from .common import Command, Result


class IndexBai(Command):
    name = "index-bai"
    help = "write BAM.bai.json: per-reference byte ranges of a .bai (bai-indexer's format)"

    def configure(self, parser):
        parser.add_argument("bai", help=".bai path or URL")
        parser.add_argument("out", nargs="?",
                            help="output path (default: the BAM's name + .bai.json, e.g. x.bam.bai.json)")

    def run(self, args) -> Result:
        out = args.out or default_bai_json_path(args.bai)
        summary = write_bai_json(args.bai, out)
        lines = [
            f"Wrote {summary['references']} reference ranges of {args.bai} ({summary['bai_bytes']} bytes) "
            f"to {summary['path']} ({summary['bytes']} bytes); minBlockIndex {summary['min_block_index']}"
        ]
        return Result(lines, summary)


COMMAND = IndexBai()
