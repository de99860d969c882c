"""``view BAM... -o OUT.bam``: samtools view's filtering job, run on Spark, written as BAM.

Reads the inputs (``--region``: only reads overlapping the regions, through each input's
``.bai``/``.csi``), keeps the reads passing ``--flag-include`` (all of these bits, samtools
``-f``), ``--flag-exclude`` (none of these bits, ``-F``) and ``--min-mapq`` (``-q``), and
writes one BAM with its ``.bai`` (when coordinate-sorted) and ``.sbi``; ``--sort``
coordinate-sorts first, ``--sharded`` writes a folder of BAMs, one per partition.  The
header is the first input's; every input must have the same references.
"""
from __future__ import annotations

from typing import List

from ..errors import ConfigError
from ..write.header import WriteHeader, header_from_bam
from .common import Command, Result


def flag_bits(text: str) -> int:
    """A FLAG mask as samtools takes it: decimal, 0x hex or 0 octal."""
    value = int(text, 0)
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"flag mask {text} is outside 0..0xFFFF")
    return value


def common_header(paths: List[str]) -> WriteHeader:
    """The first input's header, once every input is known to share its references."""
    headers = [header_from_bam(path) for path in paths]
    first = headers[0]
    for path, header in zip(paths[1:], headers[1:]):
        if (header.reference_names, header.reference_lengths) != (first.reference_names, first.reference_lengths):
            raise ConfigError(f"its references differ from those of {paths[0]}: inputs must share one "
                              "reference dictionary to be written into one BAM", path)
    return first


def filtered_reads(spark, args):
    """The inputs' reads passing the region, flag and MAPQ filters."""
    from pyspark.sql import functions as F

    reader = spark.read.format("bam").option("splitSize", str(args.split_size))
    if args.region:
        reader = reader.option("intervals", ",".join(args.region))
    reads = reader.load(args.bam if len(args.bam) > 1 else args.bam[0])
    if args.flag_include:
        reads = reads.where((F.col("flag").bitwiseAND(args.flag_include)) == args.flag_include)
    if args.flag_exclude:
        reads = reads.where((F.col("flag").bitwiseAND(args.flag_exclude)) == 0)
    if args.min_mapq:
        reads = reads.where(F.col("mapping_quality") >= args.min_mapq)
    return reads


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
        parser.add_argument("-m", "--split-size", default="32m", help="input byte range per task (default 32m)")
        parser.add_argument("--overwrite", action="store_true", help="replace the output if it exists")

    def run(self, args) -> Result:
        from ..spark.write_api import write_bam
        from .comparison import session

        self.input_format(args.bam)  # the header is a BAM's: CRAM would need its own
        header = common_header(args.bam)
        spark = session("sparkbam-view")
        from ..spark.api import register

        register(spark)
        reads = filtered_reads(spark, args)
        summary = write_bam(reads, args.output, header, sort=args.sort, sharded=args.sharded,
                            overwrite=args.overwrite, compression_level=args.level, check_refs=False)
        records = summary.get("records")
        lines = [f"Wrote {args.output}" + (f": {records} reads" if records is not None else "")]
        return Result(lines, {"inputs": args.bam, **summary})


COMMAND = View()
