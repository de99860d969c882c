"""What every split task carries, whatever the format: the file, its size, the byte range."""
from __future__ import annotations

from dataclasses import dataclass

from ..channel import open_channel
from ..errors import InputIOError
from ..pos import Pos
from .ranges import ByteRange


@dataclass(frozen=True)
class RangeTask:
    """One byte range of one file.  Formats subclass it with their own fields (a BAM task
    adds the header essentials and checker settings; see ``sparkbam_py.bam.splits.SplitTask``).

    ``file_size`` guards against a file that changed after the driver looked at it.
    Readers (:class:`~sparkbam_py.split.reader.RangeReader`) also read ``verify``, ``exact``
    (a :class:`~sparkbam_py.split.ranges.Split` known from an index, or None), ``page_size``
    and ``cache_bytes`` from the subclass.
    """

    path: str
    file_size: int
    range: ByteRange

    @property
    def end_pos(self) -> Pos:
        """The first position the range does not own: ``Pos(range end, 0)``."""
        return Pos(self.range.end, 0)


def open_task_channel(task):
    """The task's caching channel, after checking the file still has the planned size."""
    channel = open_channel(task.path, page_size=task.page_size, cache_bytes=task.cache_bytes)
    if channel.size != task.file_size:
        channel.close()
        raise InputIOError(
            f"the file is {channel.size} bytes now but was {task.file_size} when the "
            "splits were computed; it changed while being read", task.path)
    return channel
