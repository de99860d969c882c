"""``count-lines FILE``: every line of a bgzipped (or plain) text file, counted by split.

By default on Spark (``format("bgzf_text")`` with every header line included), so the count
is what a load sees; ``--local`` counts in this process with the same tasks.  Each range
verifies that it ended where its neighbour begins, so the count is exact or an error.
"""
from __future__ import annotations

import time

from ..config import DEFAULT_SPLIT_SIZE, parse_size
from ..formats import LINE_FORMATS
from .common import Command, Result


def count_lines_local(path: str, split_size) -> int:
    """Lines of ``path`` through the executor-side reader, run here, range after range."""
    from ..text.plan import count_task_lines, plan_text_file

    return sum(count_task_lines(task) for task in plan_text_file(path, split_size))


def count_lines_spark(path: str, split_size) -> int:
    from .comparison import session
    from ..spark.api import register

    spark = session("sparkbam count-lines")
    register(spark)
    frame = (spark.read.format("bgzf_text").option("splitSize", str(parse_size(split_size)))
             .option("includeHeaderLines", "true").load(path))
    return frame.count()


class CountLines(Command):
    name = "count-lines"
    help = "count the lines of a bgzipped (or plain) text file, split by byte ranges"
    formats = LINE_FORMATS

    def configure(self, parser):
        parser.add_argument("file", help="text file path or URL (bgzip, gzip or uncompressed)")
        parser.add_argument("-m", "--split-size", default=str(DEFAULT_SPLIT_SIZE),
                            help="compressed bytes per split (default 32m)")
        parser.add_argument("--local", action="store_true", help="count in this process, without Spark")

    def run(self, args) -> Result:
        self.input_format(args.file)  # any text: a VCF's lines are lines too
        started = time.monotonic()
        count = (count_lines_local if args.local else count_lines_spark)(args.file, args.split_size)
        seconds = time.monotonic() - started
        data = {"path": args.file, "lines": count, "split_size": parse_size(args.split_size),
                "seconds": round(seconds, 3), "engine": "local" if args.local else "spark"}
        return Result([f"{count} lines ({seconds:.3f} s)"], data)


COMMAND = CountLines()
