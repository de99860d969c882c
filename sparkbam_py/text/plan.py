"""Planning text reads on the driver: one task per byte range of each file, by file kind.

BGZF files are cut into byte ranges (:class:`~.lines.LineTask`); uncompressed files too,
by Hadoop's newline rule; a plain gzip file becomes one task, with a warning.  The same
tasks run in Spark executors and in local loops (:func:`iter_task_chunks`).
"""
from __future__ import annotations

from typing import Iterator, List, Union

from ..channel import open_channel
from ..config import DEFAULT_BGZF_BLOCKS_TO_CHECK, DEFAULT_SPLIT_SIZE
from ..split.ranges import ByteRange, compute_byte_ranges
from .chunk import LineChunk
from .lines import LineReader, LineTask
from .plain import PlainTextTask, iter_plain_chunks
from .sniff import BGZF, GZIP, sniff_text, warn_not_splittable

TextTask = Union[LineTask, PlainTextTask]


def plan_text_file(path: str, split_size=DEFAULT_SPLIT_SIZE, verify: bool = True,
                   blocks_to_check: int = DEFAULT_BGZF_BLOCKS_TO_CHECK) -> List[TextTask]:
    """The tasks that read every line of ``path`` exactly once."""
    with open_channel(path) as channel:
        kind, size = sniff_text(channel), channel.size
    if kind == GZIP:
        warn_not_splittable(path)
        return [PlainTextTask(path, size, ByteRange(0, size), gzip=True)]
    ranges = compute_byte_ranges(size, split_size) if size else [ByteRange(0, 0)]
    if kind == BGZF:
        return [LineTask(path, size, rng, blocks_to_check=blocks_to_check, verify=verify) for rng in ranges]
    return [PlainTextTask(path, size, rng) for rng in ranges]


def iter_task_chunks(task: TextTask) -> Iterator[LineChunk]:
    """The lines a task owns, in file order (BGZF ranges verify their boundary at the end)."""
    if isinstance(task, LineTask):
        with LineReader(task) as reader:
            yield from reader.iter_chunks()
    else:
        yield from iter_plain_chunks(task)


def count_task_lines(task: TextTask) -> int:
    """How many lines a task owns."""
    return sum(len(chunk) for chunk in iter_task_chunks(task))
