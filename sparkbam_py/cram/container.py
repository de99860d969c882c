"""CRAM file definition and container headers (CRAMv3 §6 "File definition", §7 "Container structure").

A CRAM file is a 26-byte file definition followed by containers.  Each container header is

    int32  length           bytes of the container's blocks, after this header
    itf8   reference id     -1 unmapped, -2 several references
    itf8   start, span      alignment start and span on the reference
    itf8   records          number of records in the container
    ltf8   record counter   (itf8 in CRAM 2.x)
    ltf8   bases
    itf8   blocks
    itf8[] landmarks        byte offsets of the slices inside the blocks
    int32  crc32            of all the header bytes before it (CRAM 3.0 and later only)

so the next container starts at ``offset + header size + length``.  The first container holds
the SAM header; the last is the end-of-file container (§9), whose reference id is -1, whose
start is 4542278 (the ITF-8 bytes spell "EOF") and which holds no records.

:func:`parse_container_header` answers "is there a container header here?": None when the
bytes cannot be one (a value out of range, a CRC that does not match), never an exception,
so the split search can ask it at any byte.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import List, Optional, Tuple

from ..errors import CorruptDataError, TruncatedError, WrongFormatError
from .numbers import ITF8_MAX_BYTES, LTF8_MAX_BYTES, read_itf8, read_ltf8

# CRAMv3 §6: "CRAM", major and minor version bytes, then a 20-byte file id.
CRAM_MAGIC = b"CRAM"
FILE_DEFINITION_SIZE = 26
SUPPORTED_MAJOR_VERSIONS = (2, 3)
# §7: reference ids below -2 do not exist (-1 unmapped, -2 multi-reference).
MULTI_REFERENCE_ID = -2
UNMAPPED_REFERENCE_ID = -1
# §9: the EOF container's alignment start, 0x454f46 = "EOF" once ITF-8 encoded.
EOF_START = 4542278
# Fixed-size parts of a header: the length field and, from 3.0, the trailing CRC32.
LENGTH_BYTES = CRC_BYTES = 4
# A header with every field at its widest: length, 4 itf8, 2 ltf8, block count, landmark count.
MAX_FIXED_HEADER_BYTES = LENGTH_BYTES + 4 * ITF8_MAX_BYTES + 2 * LTF8_MAX_BYTES + 2 * ITF8_MAX_BYTES + CRC_BYTES
# More landmarks (slices) than this per container is not plausible (htslib writes 1 by default).
MAX_LANDMARKS = 1 << 16
# Headers with up to this many landmarks are read in one small read.
SHORT_LANDMARKS = 16
# The smallest block (§8): method, content type, 3 one-byte itf8 sizes; CRC32 from 3.0.
MIN_BLOCK_BYTES = 5

_INT32 = struct.Struct("<i")
_UINT32 = struct.Struct("<I")

# §9: the end-of-file containers htslib writes, byte for byte; appended after a task's
# containers when handing them to htslib.
EOF_CONTAINER = {
    3: bytes.fromhex("0f000000ffffffff0fe0454f46000000000100 05bdd94f 0001000606010001000100ee63014b"
                     .replace(" ", "")),
    2: bytes.fromhex("0b000000ffffffff0fe0454f4600000000010000010006060100010001 00".replace(" ", "")),
}


@dataclass(frozen=True)
class FileDefinition:
    """The first 26 bytes: the format version."""

    major: int
    minor: int

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def has_header_crc(self) -> bool:
        """Container headers carry a CRC32 from CRAM 3.0 on (§7)."""
        return self.major >= 3


def parse_file_definition(head: bytes, path: Optional[str] = None) -> FileDefinition:
    """The version from a CRAM file's first bytes; typed errors for anything else."""
    if len(head) < FILE_DEFINITION_SIZE:
        if CRAM_MAGIC.startswith(head[:4]) and head:
            raise TruncatedError(f"the CRAM file definition needs {FILE_DEFINITION_SIZE} bytes, "
                                 f"the file has {len(head)}", path, len(head))
    if not head.startswith(CRAM_MAGIC):
        raise WrongFormatError(f"not a CRAM file: it starts with bytes {head[:4].hex(' ')}, not 'CRAM'", path, 0)
    major, minor = head[4], head[5]
    if major not in SUPPORTED_MAJOR_VERSIONS:
        raise WrongFormatError(f"CRAM version {major}.{minor} is not supported (2.1, 3.0 and 3.1 are)", path, 4)
    return FileDefinition(major, minor)


@dataclass(frozen=True)
class ContainerHeader:
    """One container header and where it sits in the file."""

    offset: int
    header_size: int
    length: int
    reference_id: int
    start: int
    span: int
    records: int
    record_counter: int
    bases: int
    blocks: int
    landmarks: Tuple[int, ...]

    @property
    def end(self) -> int:
        """Where the next container starts."""
        return self.offset + self.header_size + self.length

    @property
    def is_eof(self) -> bool:
        """The end-of-file container (§9)."""
        return (self.records == 0 and self.reference_id == UNMAPPED_REFERENCE_ID
                and self.start == EOF_START and self.span == 0)


def parse_container_header(buf: bytes, pos: int, definition: FileDefinition, offset: int,
                           file_size: int, reference_count: int) -> Optional[ContainerHeader]:
    """The container header at ``buf[pos]`` (file byte ``offset``), or None if there is none.

    Every field must be in range: the container must end inside the file, the reference id
    must name a reference of the header (or be -1/-2), counts must not be negative, the
    landmarks must rise inside the container, and from CRAM 3.0 the CRC32 must match.
    A header cut off by the end of ``buf`` is None too: callers pass enough bytes.
    """
    if pos + LENGTH_BYTES > len(buf):
        return None
    length = _INT32.unpack_from(buf, pos)[0]
    if length < MIN_BLOCK_BYTES or offset + length > file_size:
        return None
    fields = _read_fields(buf, pos + LENGTH_BYTES, definition, length)
    if fields is None:
        return None
    (reference_id, start, span, records, counter, bases, blocks, landmarks), after = fields
    if not (MULTI_REFERENCE_ID <= reference_id < reference_count or reference_id == UNMAPPED_REFERENCE_ID):
        return None
    if min(start, span, records, counter, bases) < 0 or blocks < 1 or len(landmarks) > blocks:
        return None
    if definition.has_header_crc:
        if after + CRC_BYTES > len(buf) or _UINT32.unpack_from(buf, after)[0] != zlib.crc32(buf[pos:after]):
            return None
        after += CRC_BYTES
    header = ContainerHeader(offset, after - pos, length, reference_id, start, span, records, counter,
                             bases, blocks, landmarks)
    return header if header.end <= file_size else None


def _read_fields(buf, pos: int, definition: FileDefinition, length: Optional[int] = None):
    """The header's variable-length fields, or None where the buffer ends or a value is
    impossible for a container of ``length`` bytes; without ``length``, only the fields up
    to the landmark count (the last value)."""
    values = []
    for reader in (read_itf8, read_itf8, read_itf8, read_itf8,
                   read_ltf8 if definition.major >= 3 else read_itf8, read_ltf8, read_itf8, read_itf8):
        got = reader(buf, pos)
        if got is None:
            return None
        value, pos = got
        values.append(value)
    if length is None:
        return tuple(values), pos
    landmark_count = values.pop()
    # Each landmark marks a slice, and each slice is at least one block (§7).
    if not 0 <= landmark_count <= min(values[-1], length // MIN_BLOCK_BYTES, MAX_LANDMARKS):
        return None
    landmarks: List[int] = []
    for _ in range(landmark_count):
        got = read_itf8(buf, pos)
        # Landmarks are offsets of successive slices inside the container's blocks.
        if got is None or not (landmarks[-1] if landmarks else -1) < got[0] < length:
            return None
        mark, pos = got
        landmarks.append(mark)
    return (*values, tuple(landmarks)), pos


def header_bytes_at(channel, offset: int, definition: FileDefinition) -> bytes:
    """Enough bytes at ``offset`` for a container header there, however many landmarks it declares."""
    head = channel.read_at(offset, MAX_FIXED_HEADER_BYTES + SHORT_LANDMARKS * ITF8_MAX_BYTES)
    fields = _read_fields(head, LENGTH_BYTES, definition)
    if fields is not None and SHORT_LANDMARKS < fields[0][-1] <= min(fields[0][-2], MAX_LANDMARKS):
        head = channel.read_at(offset, MAX_FIXED_HEADER_BYTES + fields[0][-1] * ITF8_MAX_BYTES)
    return head


def read_container_header(channel, offset: int, definition: FileDefinition, reference_count: int,
                          what: str = "container") -> ContainerHeader:
    """The container header that must be at ``offset``: a typed error naming it otherwise."""
    size = channel.size
    head = header_bytes_at(channel, offset, definition)
    header = parse_container_header(head, 0, definition, offset, size, reference_count)
    if header is not None:
        return header
    if len(head) < MAX_FIXED_HEADER_BYTES or _cut_short(head, offset, size):
        raise TruncatedError(f"the file ends inside the {what} at byte {offset}", channel.path, offset)
    raise CorruptDataError(f"no valid CRAM {what} header at byte {offset} (fields out of range or CRC32 mismatch)",
                           channel.path, offset)


def read_container_header_or_none(channel, offset: int, definition: FileDefinition,
                                  reference_count: int = 1 << 30) -> Optional[ContainerHeader]:
    """The container header at ``offset`` if one parses there (any reference id), else None."""
    return parse_container_header(header_bytes_at(channel, offset, definition), 0, definition, offset,
                                  channel.size, reference_count)


def _cut_short(head: bytes, offset: int, size: int) -> bool:
    """A header whose length field points past the end of the file: the file was cut."""
    return len(head) >= LENGTH_BYTES and offset + _INT32.unpack_from(head, 0)[0] > size
