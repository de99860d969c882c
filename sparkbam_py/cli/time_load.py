"""``time-load BAM``: collect the first read of every partition, through our splits and hadoop-bam's.

spark-bam's ``time-load`` (reference §6.7): the time to the first record of each partition
is the time to plan and start a load.  Ours: each Spark task finds its range's first record
itself and decodes it.  hadoop-bam's: the driver computes every split start first, then the
tasks decode the record there.  Both decode that record whole with the library's decoder,
so a false start shows as an error, as htsjdk's decode error did under hadoop-bam.
"""
from __future__ import annotations

import struct
from functools import partial
from typing import List, Optional

import numpy as np

from ..bam.decode import decode_records
from ..bam.file import open_bam
from ..bam.layout import BLOCK_SIZE_BYTES
from ..bam.splits import SplitReader
from ..bgzf.reader import BgzfReader
from ..pos import Pos
from ..validators.hadoop_bam_splits import compute_hadoop_bam_splits
from .common import Command, Result
from .comparison import BASELINE_FORMATS, add_split_arguments, checker_config, failure_message, ms, session, timed

_INT32 = struct.Struct("<i")
PRINT_LIMIT = 20


def record_name_at(reader: BgzfReader, pos: Pos, reference_names) -> str:
    """Decode the whole record at ``pos`` (every field, so garbage fails) and return its name."""
    head, _ = reader.read(pos, BLOCK_SIZE_BYTES)
    block_size = _INT32.unpack(head)[0]
    data, _ = reader.read(pos, BLOCK_SIZE_BYTES + max(block_size, 0))
    batch = decode_records(np.frombuffer(data, dtype=np.uint8), np.array([0]), reference_names,
                           file_positions=np.array([pos.virtual]), path=reader.path)
    return batch.column("query_name")[0].as_py()


def our_first_read(task) -> Optional[str]:
    """Inside a task: the range's first record, found by the range's own search."""
    with SplitReader(task) as split:
        start = split.start
        return None if start is None else record_name_at(split.reader, start, split.header.reference_names)


def their_first_read(split, path: str) -> str:
    """Inside a task: the record at a split start the driver computed."""
    with open_bam(path) as bam:
        return record_name_at(bam.reader, split.start, bam.header.reference_names)


def collect_ours(spark, args) -> List[str]:
    from ..bam.options import ReadOptions
    from ..formats.bam import plan_reads

    config = checker_config(args)
    options = ReadOptions.of(args.split_size, config.reads_to_check, config.max_read_size, config.bgzf_blocks_to_check,
                             verify_checksums=config.verify_checksums)
    tasks = plan_reads(args.bam, options)
    from ..spark.tasks import run_on_executors

    names = run_on_executors(spark, our_first_read, tasks)
    return [name for name in names if name is not None]  # empty ranges hold no partition's first read


def collect_theirs(spark, args) -> List[str]:
    splits = compute_hadoop_bam_splits(args.bam, args.split_size, checker_config(args)).splits
    from ..spark.tasks import run_on_executors

    return run_on_executors(spark, partial(their_first_read, path=args.bam), splits)


class TimeLoad(Command):
    name = "time-load"
    help = "time collecting each partition's first read through our splits and through hadoop-bam's"
    formats = BASELINE_FORMATS

    def configure(self, parser):
        parser.add_argument("bam", help="BAM path or URL")
        add_split_arguments(parser)
        parser.add_argument("-s", "--sparkbam-first", action="store_true",
                            help="run ours first (default: hadoop-bam's first, as spark-bam does)")

    def run(self, args) -> Result:
        self.input_format(args.bam)
        spark = session("sparkbam time-load")
        sides = ["sparkbam", "hadoop_bam"] if args.sparkbam_first else ["hadoop_bam", "sparkbam"]
        collect = {"sparkbam": collect_ours, "hadoop_bam": collect_theirs}
        names, seconds, failure = {}, {}, None
        for side in sides:
            try:
                with timed() as watch:
                    names[side] = collect[side](spark, args)
            except Exception as error:  # the baseline's failure is a result, not a crash
                if side == "sparkbam":
                    raise
                failure = failure_message(error)
            seconds[side] = watch.seconds
        return Result(report_lines(names, seconds, failure), report_data(names, seconds, failure))


def report_data(names, seconds, failure) -> dict:
    data = {"seconds": {side: round(value, 3) for side, value in seconds.items()},
            "first_reads": names, "matched": failure is None and names["sparkbam"] == names["hadoop_bam"]}
    if failure is not None:
        data["hadoop_bam_error"] = failure
    return data


def report_lines(names, seconds, failure) -> List[str]:
    lines = [f"sparkbam first-read collection time: {ms(seconds['sparkbam'])}",
             f"hadoop-bam first-read collection time: {ms(seconds['hadoop_bam'])}", ""]
    ours = names["sparkbam"]
    if failure is not None:
        return lines + [f"sparkbam collected {len(ours)} partitions' first-reads", "hadoop-bam threw an exception:",
                        failure]
    theirs = names["hadoop_bam"]
    if ours == theirs:
        return lines + [f"All {len(ours)} partition-start reads matched"]
    only_ours = [n for n in ours if n not in set(theirs)]
    only_theirs = [n for n in theirs if n not in set(ours)]
    lines.append(f"{len(only_ours)} of {len(ours)} partition-start reads only via sparkbam; "
                 f"{len(only_theirs)} of {len(theirs)} only via hadoop-bam:")
    lines += [f"\t{name}" for name in only_ours[:PRINT_LIMIT]]
    lines += [f"\t\t{name}" for name in only_theirs[:PRINT_LIMIT]]
    return lines


COMMAND = TimeLoad()
