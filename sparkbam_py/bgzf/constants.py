"""BGZF block layout (SAMv1 §4.1), as named constants.

A BGZF block is a gzip member (RFC 1952) whose header carries the extra subfield
``BC`` (SI1=66, SI2=67, SLEN=2) holding BSIZE = total block size - 1.
"""
from __future__ import annotations

# RFC 1952 §2.3.1 member header: ID1 ID2 CM FLG MTIME(4) XFL OS XLEN(2).
GZIP_ID1 = 0x1F
GZIP_ID2 = 0x8B
CM_DEFLATE = 8
FLG_FEXTRA = 0x04
GZIP_MAGIC = bytes([GZIP_ID1, GZIP_ID2])
# The bytes before the extra field: ID1 ID2 CM FLG MTIME XFL OS, then XLEN (uint16).
FIXED_HEADER_SIZE = 12
XLEN_OFFSET = 10
# RFC 1952 §2.3.1.1 extra subfield: SI1 SI2 LEN(2) data.
SUBFIELD_HEADER_SIZE = 4
# SAMv1 §4.1: the BGZF subfield.
BC_SI1 = ord("B")
BC_SI2 = ord("C")
BC_SLEN = 2
# The usual header (XLEN = 6, only BC present) is 18 bytes; BSIZE sits at 16..17.
STANDARD_HEADER_SIZE = 18
STANDARD_XLEN = 6
# RFC 1952 trailer: CRC32 (uint32) then ISIZE (uint32).
TRAILER_SIZE = 8
# SAMv1 §4.1: a block is at most 64 KiB compressed and holds at most 64 KiB inflated.
MAX_BLOCK_SIZE = 1 << 16
MAX_INFLATED_SIZE = 1 << 16
# The deflate payload of an empty block: a final, fixed-Huffman block with no data.
EMPTY_DEFLATE_PAYLOAD = b"\x03\x00"
# SAMv1 §4.1.2: the 28-byte end-of-file marker, an empty BGZF block.
EOF_MARKER = bytes.fromhex(
    "1f8b08040000000000ff0600424302001b0003000000000000000000"
)
# The smallest possible block: the standard header, an empty deflate payload, the trailer.
MIN_BLOCK_SIZE = STANDARD_HEADER_SIZE + len(EMPTY_DEFLATE_PAYLOAD) + TRAILER_SIZE
assert len(EOF_MARKER) == MIN_BLOCK_SIZE == 28
