"""``convert FILE... -o OUT``: BAM (or CRAM, VCF, any format the registry reads) to Parquet
files or a Delta table, written by the executors.

Each Spark task decodes its split and writes its Parquet files itself (pyarrow); the driver
commits them (``_SUCCESS``, or one Delta commit).  The columns are exactly those of
``spark.read.format(<the input's format>)``.
"""
from __future__ import annotations

import time

from ..formats import FORMAT_NAMES
from .common import Command, Result
from .comparison import add_split_arguments, changed_checker_options, session


class Convert(Command):
    name = "convert"
    help = "convert BAMs (or CRAMs, VCFs...) to Parquet or Delta, each executor writing its own files"
    formats = FORMAT_NAMES

    def configure(self, parser):
        parser.add_argument("bams", nargs="+", help="BAM (or CRAM, VCF...) paths, globs, folders or URLs")
        parser.add_argument("-o", "--output", required=True, help="output folder or URL (fsspec)")
        parser.add_argument("--to", choices=("parquet", "delta"), default="parquet", help="output format")
        parser.add_argument("--partition-by", default=None, metavar="COLUMN",
                            help="Hive-style folders per value of this contig column (reference_name; "
                                 "contigName, chrom, seqid for VCF, BED, GFF)")
        parser.add_argument("--columns", default=None,
                            help="comma-separated columns (default: all of the format's data source)")
        parser.add_argument("--mode", choices=("error", "overwrite", "append"), default="error",
                            help="when the output exists: refuse (default), replace it, or append (Delta)")
        parser.add_argument("--compression", default=None, help="Parquet codec (default snappy, like Spark)")
        parser.add_argument("--tags", default=None,
                            help='add the typed_tags struct: "NM:i,MD:Z,..." or "auto" (discovered from the first reads)')
        parser.add_argument("--local", type=int, default=None, metavar="WORKERS",
                            help="convert without Spark, with this many threads of this process")
        add_split_arguments(parser)
        # The split size is chosen for the task slots (or --local workers) unless given.
        parser.set_defaults(split_size=None)

    def run(self, args) -> Result:
        self.input_format(args.bams)
        columns = None if args.columns is None else [c.strip() for c in args.columns.split(",") if c.strip()]
        options = dict(to=args.to, partition_by=args.partition_by, columns=columns, mode=args.mode,
                       split_size=args.split_size, compression=args.compression, tags=args.tags,
                       **changed_checker_options(args))
        started = time.monotonic()
        if args.local is not None:
            from ..local.convert import convert_local

            result = convert_local(args.bams, args.output, workers=args.local, **options)
        else:
            from ..spark.convert import convert

            result = convert(session("sparkbam convert"), args.bams, args.output, **options)
        seconds = time.monotonic() - started
        data = {"output": result.out, "format": result.format, "files": result.files, "records": result.rows,
                "bytes": result.bytes, "seconds": round(seconds, 3)}
        line = (f"{result.rows} records -> {result.out} ({result.format}, {result.files} files, "
                f"{result.bytes} bytes) in {seconds:.1f} s")
        return Result([line], data)


COMMAND = Convert()
