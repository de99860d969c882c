"""The SAM header of a CRAM file, read from its first container (CRAMv3 §7.1, §8 "Block structure").

The first container holds one block whose data is an int32 text length followed by the SAM
header text; the block is raw or gzip-compressed (the only methods §7.1 allows for it).
Read through the channel, so remote files cost two small reads.  What executors need travels
in :class:`CramHeader`: the version, the reference names, the ``@SQ M5`` checksums (for
reference errors) and where the first data container starts.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass, field, replace
from typing import Dict, Optional, Tuple

from ..errors import CorruptDataError, TruncatedError
from .container import (
    FILE_DEFINITION_SIZE,
    ContainerHeader,
    FileDefinition,
    parse_file_definition,
    read_container_header,
    read_container_header_or_none,
)
from .numbers import read_itf8

# §8: block compression methods the header block may use.
RAW, GZIP = 0, 1
# §8.1: the content type of the block holding the SAM header.
FILE_HEADER_CONTENT_TYPE = 0
# The first container is read in one go when it is at most this big (htslib pads it a little).
HEADER_CONTAINER_READ = 1 << 20
# §8: a block ends with a CRC32 from CRAM 3.0 on.
BLOCK_CRC_BYTES = 4
# Bytes past the header container's declared length that its blocks may reach (see below).
HEADER_SLACK = 64
_INT32 = struct.Struct("<i")


@dataclass(frozen=True)
class CramHeader:
    """What a task needs of a CRAM file's header."""

    definition: FileDefinition
    reference_names: Tuple[str, ...]
    reference_lengths: Tuple[int, ...]
    # @SQ SN -> M5 (hex MD5 of the reference sequence), where the header gives one.
    md5s: Dict[str, str] = field(default_factory=dict)
    # Where the first container after the SAM header starts.
    first_container: int = 0
    text: str = ""

    def without_text(self) -> "CramHeader":
        return replace(self, text="")


def read_cram_header(channel) -> CramHeader:
    """The file definition and SAM header of the CRAM behind ``channel``."""
    definition = parse_file_definition(channel.read_at(0, FILE_DEFINITION_SIZE), channel.path)
    # The SAM header container comes before any reference is known: accept any reference id.
    container = read_container_header(channel, FILE_DEFINITION_SIZE, definition, reference_count=1 << 30,
                                      what="SAM header container")
    blocks = channel.read_at(FILE_DEFINITION_SIZE + container.header_size,
                             min(container.length + HEADER_SLACK, HEADER_CONTAINER_READ))
    text = _header_text(_first_block_data(blocks, channel.path, container), channel.path, container)
    names, lengths, md5s = _references(text)
    return CramHeader(definition, names, lengths, md5s, _first_data_container(channel, container, definition), text)


def _first_data_container(channel, container: ContainerHeader, definition: FileDefinition) -> int:
    """Where the first data container starts: after the SAM header container's blocks.

    htslib reads the header container block by block, and its CRAM 2.1 writer can declare
    a header block a few bytes longer than the container's length field allows; the next
    container then starts where the blocks end, not where the length says.
    """
    pos = container.offset + container.header_size
    head = channel.read_at(pos, container.length + HEADER_SLACK)
    offset = 0
    for _ in range(container.blocks):
        fields = _block_fields(head, offset)
        if fields is None:
            return container.end
        offset = fields[0] + fields[2] + (BLOCK_CRC_BYTES if definition.has_header_crc else 0)
    blocks_end = pos + offset
    if blocks_end != container.end and read_container_header_or_none(channel, blocks_end, definition) is not None:
        return blocks_end
    return container.end


def _block_fields(buf: bytes, pos: int):
    """(data start, content type, compressed size) of the block at ``buf[pos]``, or None."""
    if pos + 2 > len(buf):
        return None
    content_type = buf[pos + 1]
    values, at = [], pos + 2
    for _ in range(3):  # content id, compressed size, raw size
        got = read_itf8(buf, at)
        if got is None:
            return None
        value, at = got
        values.append(value)
    return at, content_type, values[1]


def _first_block_data(blocks: bytes, path: Optional[str], container: ContainerHeader) -> bytes:
    where = container.offset + container.header_size
    if len(blocks) < 2:
        raise TruncatedError("the file ends inside the SAM header block", path, where)
    fields = _block_fields(blocks, 0)
    if fields is None:
        raise TruncatedError("the file ends inside the SAM header block", path, where)
    method = blocks[0]
    pos, content_type, size = fields
    if content_type != FILE_HEADER_CONTENT_TYPE or size < 0:
        raise CorruptDataError(f"the first container's first block is not a SAM header block "
                               f"(content type {content_type}, {size} bytes)", path, where)
    # htslib's CRAM 2.1 header blocks may claim a few padding bytes past their container's
    # end; the text's own length field (checked below) says what must be there.
    data = blocks[pos:pos + size]
    if method == RAW:
        return data
    if method == GZIP:
        try:
            return gzip.decompress(data)
        except (OSError, zlib.error, EOFError) as error:
            raise CorruptDataError(f"the SAM header block does not inflate: {error}", path, where) from None
    raise CorruptDataError(f"the SAM header block uses compression method {method}; CRAMv3 §7.1 allows "
                           "only raw (0) or gzip (1)", path, where)


def _header_text(data: bytes, path: Optional[str], container: ContainerHeader) -> str:
    if len(data) < 4:
        raise CorruptDataError("the SAM header block is too short for its length field", path, container.offset)
    length = _INT32.unpack_from(data, 0)[0]
    if not 0 <= length <= len(data) - 4:
        raise CorruptDataError(f"the SAM header block says {length} bytes of text but holds {len(data) - 4}",
                               path, container.offset)
    return data[4:4 + length].split(b"\0", 1)[0].decode("utf-8", errors="replace")


def _references(text: str) -> Tuple[Tuple[str, ...], Tuple[int, ...], Dict[str, str]]:
    """Names, lengths and M5 checksums of the @SQ lines, in order (their index is the reference id)."""
    names, lengths, md5s = [], [], {}
    for line in text.splitlines():
        if not line.startswith("@SQ\t"):
            continue
        fields = dict(item.split(":", 1) for item in line.split("\t")[1:] if ":" in item)
        name = fields.get("SN", "")
        names.append(name)
        lengths.append(int(fields.get("LN", "0") or 0))
        if "M5" in fields:
            md5s[name] = fields["M5"].lower()
    return tuple(names), tuple(lengths), md5s
