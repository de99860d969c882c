"""The record checks, as bits of one integer: every checker speaks this vocabulary.

The first 19 names and their order are spark-bam's full checker's ``Flags`` fields (its
output order and serialisation index), so reports read the same. Two deliberate
differences from spark-bam: ``emptyMappedCigar`` means a mapped read with no CIGAR ops and
``emptyMappedSeq`` one with ``l_seq == 0`` (spark-bam printed them swapped), and the CIGAR
is always read after the name, even when the name length is 0 or 1 (spark-bam read it at
byte 36 then). The checks after those 19 are new here; each catches garbage that
spark-bam's list let through somewhere in real files (see the eager module's figures).
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import numpy as np

FLAG_NAMES: Tuple[str, ...] = (
    # spark-bam, in its order.
    "tooFewFixedBlockBytes",  # fewer than 36 bytes left in the data
    "negativeReadIdx",  # refID < -1
    "tooLargeReadIdx",  # refID >= n_ref
    "negativeReadPos",  # pos < -1
    "tooLargeReadPos",  # pos > length of contig refID
    "negativeNextReadIdx",  # next_refID < -1
    "tooLargeNextReadIdx",  # next_refID >= n_ref
    "negativeNextReadPos",  # next_pos < -1
    "tooLargeNextReadPos",  # next_pos > length of contig next_refID
    "tooFewBytesForReadName",  # the data ends inside the name
    "nonNullTerminatedReadName",  # last name byte is not NUL
    "nonASCIIReadName",  # a name byte outside SAM's QNAME set [!-?A-~]
    "noReadName",  # l_read_name == 0
    "emptyReadName",  # l_read_name == 1 (the NUL alone)
    "tooFewBytesForCigarOps",  # the data ends inside the CIGAR
    "invalidCigarOp",  # an op code above 8 (SAMv1 §4.2: MIDNSHP=X)
    "emptyMappedCigar",  # FLAG 0x4 clear and n_cigar_op == 0
    "emptyMappedSeq",  # FLAG 0x4 clear and l_seq == 0
    "tooFewRemainingBytesImplied",  # block_size < 32 + l_read_name + 4*n_cigar_op + l_seq + (l_seq+1)/2
    # New checks.
    "nulInReadName",  # a NUL before the name's last byte
    "nonPrintableReadName",  # a name byte that is a control character or >= 0x7F
    "negativeSeqLength",  # l_seq < 0
    "emptyMappedRead",  # FLAG 0x4 clear with neither CIGAR ops nor SEQ
    "cigarSeqLengthMismatch",  # l_seq > 0, valid CIGAR whose query length != l_seq
    "unknownFlagBits",  # FLAG bits above 0x800 (SAMv1 §1.4.2 defines 0x1..0x800)
)

BIT: Dict[str, int] = {name: 1 << index for index, name in enumerate(FLAG_NAMES)}
ALL_FLAGS = (1 << len(FLAG_NAMES)) - 1
SPARK_BAM_FLAGS = sum(BIT[name] for name in FLAG_NAMES[:19])

TOO_FEW_FIXED = BIT["tooFewFixedBlockBytes"]
# The checks that need the name's or the CIGAR's bytes (the others use the 36 fixed bytes).
NAME_FLAGS = sum(BIT[n] for n in ("nonNullTerminatedReadName", "nonASCIIReadName", "nulInReadName",
                                  "nonPrintableReadName"))
CIGAR_FLAGS = BIT["invalidCigarOp"] | BIT["cigarSeqLengthMismatch"]


def flag_names(mask: int) -> List[str]:
    """The names of the bits set in ``mask``, in the canonical order."""
    return [name for index, name in enumerate(FLAG_NAMES) if mask >> index & 1]


def mask_of(names: Iterable[str]) -> int:
    """The bit mask of flag names; KeyError names the unknown one."""
    mask = 0
    for name in names:
        if name not in BIT:
            raise KeyError(f"unknown check {name!r}; known: {', '.join(FLAG_NAMES)}")
        mask |= BIT[name]
    return mask


def show(mask: int, reads_before_error: int = 0) -> str:
    """spark-bam's ``Flags.show``: comma-joined names, then the reads that passed first."""
    names = flag_names(mask)
    if reads_before_error > 0:
        names.append(f"readsBeforeError={reads_before_error}")
    return ",".join(names)


def count_nonzero_fields(mask: int, reads_before_error: int = 0) -> int:
    """spark-bam's ``numNonZeroFields``: set flags, plus one if records passed first."""
    return bin(mask).count("1") + (1 if reads_before_error > 0 else 0)


def per_flag_totals(masks: np.ndarray) -> Dict[str, int]:
    """How many of ``masks`` have each flag set (every flag, zeros included)."""
    masks = np.asarray(masks, dtype=np.uint32)
    return {name: int(np.count_nonzero(masks & np.uint32(1 << index))) for index, name in enumerate(FLAG_NAMES)}


def combination_counts(masks: Sequence[int]) -> Mapping[int, int]:
    """Histogram of distinct flag combinations: mask -> positions."""
    values, counts = np.unique(np.asarray(masks, dtype=np.uint32), return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}
