"""``view BAM... -o OUT.bam``: samtools view's filtering job, run on Spark, written as BAM.

Reads the inputs (``--region``: only reads overlapping the regions, through each input's
``.bai``/``.csi``), keeps the reads passing ``--flag-include`` (all of these bits, samtools
``-f``), ``--flag-exclude`` (none of these bits, ``-F``) and ``--min-mapq`` (``-q``), and
writes one BAM with its ``.bai`` (when coordinate-sorted) and ``.sbi``; ``--sort``
coordinate-sorts first, ``--sharded`` writes a folder of BAMs, one per partition.  The
header is the first input's; every input must have the same references.  See
:func:`sparkbam_py.spark.view_api.view_bam`: records are copied as stored.
"""
from __future__ import annotations

from .common import Command, Result


def flag_bits(text: str) -> int:
    """A FLAG mask as samtools takes it: decimal, 0x hex or 0 octal."""
    value = int(text, 0)
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"flag mask {text} is outside 0..0xFFFF")
    return value


class View(Command):
    name = "view"
    help = "filter BAMs (regions, flags, MAPQ) on Spark and write one BAM with .bai and .sbi"
    formats = ("bam",)

    def configure(self, parser):
        parser.add_argument("bam", nargs="+", help="input BAM paths or URLs")
        parser.add_argument("-o", "--output", required=True, help="output BAM (a folder with --sharded)")
        parser.add_argument("--region", action="append", default=[],
                            help="samtools region (repeatable): reads overlapping it, through the index")
        parser.add_argument("-f", "--flag-include", type=flag_bits, default=0,
                            help="keep reads with all of these FLAG bits (samtools -f)")
        parser.add_argument("-F", "--flag-exclude", type=flag_bits, default=0,
                            help="drop reads with any of these FLAG bits (samtools -F)")
        parser.add_argument("-q", "--min-mapq", type=int, default=0, help="keep reads with MAPQ >= Q (samtools -q)")
        parser.add_argument("--sort", action="store_true", help="coordinate-sort the output (SO:coordinate)")
        parser.add_argument("--sharded", action="store_true", help="one complete BAM per partition in a folder")
        parser.add_argument("-l", "--level", type=int, default=None, help="compression level 0..9 (default 6)")
        parser.add_argument("-m", "--split-size", default=None,
                            help="input byte range per task (default: whole waves of tasks near 32m)")
        parser.add_argument("--overwrite", action="store_true", help="replace the output if it exists")

    def run(self, args) -> Result:
        from ..spark.view_api import view_bam
        from .comparison import session

        self.input_format(args.bam)  # records are copied as stored: CRAM would need encoding
        spark = session("sparkbam-view")
        summary = view_bam(spark, args.bam, args.output, regions=args.region, flag_include=args.flag_include,
                           flag_exclude=args.flag_exclude, min_mapq=args.min_mapq, sort=args.sort,
                           sharded=args.sharded, overwrite=args.overwrite, compression_level=args.level,
                           split_size=args.split_size)
        records = summary.get("records")
        lines = [f"Wrote {args.output}" + (f": {records} reads" if records is not None else "")]
        return Result(lines, {"inputs": args.bam, **summary})


COMMAND = View()
