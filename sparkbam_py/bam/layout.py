"""The byte layout of BAM records and headers (SAMv1 §4.2), as named constants and a dtype.

Every other module reads fields through these names, never through bare offsets.
"""
from __future__ import annotations

import numpy as np

# SAMv1 §4.2: the file starts with this magic, then l_text, text, n_ref, references.
BAM_MAGIC = b"BAM\x01"

# SAMv1 §4.2: each record starts with block_size (int32, the length of the rest).
BLOCK_SIZE_BYTES = 4
# The 36 bytes from block_size through tlen: nine little-endian 32-bit words.
FIXED_FIELDS_SIZE = 36
# Offsets from the record start (including block_size) of each fixed field.
OFF_BLOCK_SIZE = 0
OFF_REF_ID = 4
OFF_POS = 8
OFF_L_READ_NAME = 12
OFF_MAPQ = 13
OFF_BIN = 14
OFF_N_CIGAR_OP = 16
OFF_FLAG = 18
OFF_L_SEQ = 20
OFF_NEXT_REF_ID = 24
OFF_NEXT_POS = 28
OFF_TLEN = 32
OFF_READ_NAME = 36

# The smallest legal block_size: 32 fixed bytes after block_size, plus a 1-byte name ("\0").
MIN_BLOCK_SIZE = FIXED_FIELDS_SIZE - BLOCK_SIZE_BYTES + 1

# SAMv1 §4.2: CIGAR op codes 0..8 are MIDNSHP=X; op = uint32 (len << 4 | code).
CIGAR_OPS = "MIDNSHP=X"
MAX_CIGAR_OP_CODE = len(CIGAR_OPS) - 1
CIGAR_OP_SHIFT = 4
CIGAR_OP_MASK = 0xF
# Ops consuming the query (M I S = X) and the reference (M D N = X): SAMv1 §1.4.6 table.
CIGAR_CONSUMES_QUERY = np.array([1, 1, 0, 0, 1, 0, 0, 1, 1], dtype=bool)
CIGAR_CONSUMES_REF = np.array([1, 0, 1, 1, 0, 0, 0, 1, 1], dtype=bool)
# SAMv1 §4.2.2: a CIGAR of more than 65535 ops is stored in the CG:B,I tag; the record's own
# CIGAR is then the placeholder "<l_seq>S<ref_len>N" (two ops, the first a soft clip).
CIGAR_PLACEHOLDER_OPS = 2
CG_TAG = b"CG"

# SAMv1 §4.2: 4-bit sequence codes, and quality 0xFF meaning "absent".
SEQ_CODES = "=ACMGRSVTWYHKDBN"
MISSING_QUALITY = 0xFF

# SAMv1 §1.4.2 FLAG bits used by the library.
FLAG_PAIRED = 0x1
FLAG_UNMAPPED = 0x4
FLAG_MATE_UNMAPPED = 0x8
FLAG_SECONDARY = 0x100
FLAG_SUPPLEMENTARY = 0x800

# The fixed fields as one structured dtype: a view over gathered 36-byte rows decodes any
# number of records at once.
FIXED_FIELDS_DTYPE = np.dtype(
    [
        ("block_size", "<i4"),
        ("ref_id", "<i4"),
        ("pos", "<i4"),
        ("l_read_name", "u1"),
        ("mapq", "u1"),
        ("bin", "<u2"),
        ("n_cigar_op", "<u2"),
        ("flag", "<u2"),
        ("l_seq", "<i4"),
        ("next_ref_id", "<i4"),
        ("next_pos", "<i4"),
        ("tlen", "<i4"),
    ]
)
assert FIXED_FIELDS_DTYPE.itemsize == FIXED_FIELDS_SIZE


def gather_fixed_fields(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Decode the fixed fields of the records starting at ``offsets`` in ``data`` (uint8).

    One memcpy per record (Arrow's take over the records' 36-byte ranges, see ``ragged``)
    into a contiguous buffer, then a zero-copy structured view: one row per record and no
    Python object per record. Records never overlap, so the ranges are ascending as
    ``take_byte_ranges`` requires. Every offset must have 36 bytes after it.
    """
    from .ragged import take_byte_ranges  # ragged imports pyarrow; keep this module light

    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.full(len(offsets), FIXED_FIELDS_SIZE, dtype=np.int64)
    rows = take_byte_ranges(data, offsets, lengths).values
    return np.frombuffer(rows.tobytes() if not rows.flags.c_contiguous else rows, dtype=FIXED_FIELDS_DTYPE)
