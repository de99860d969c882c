"""The record checks, as bits of one integer: every checker speaks this vocabulary.

The first 19 names and their order are spark-bam's full checker's ``Flags`` fields (its
output order and serialisation index), so reports read the same. Every check here can fail
alone, so each can be weighed alone; that makes a few differ from spark-bam's:

- ``emptyMappedCigar`` is a mapped read without CIGAR ops, ``emptyMappedSeq`` one with
  ``l_seq == 0`` (spark-bam printed the two swapped), and a mapped read with neither is
  ``emptyMappedRead`` alone (spark-bam set both).
- spark-bam's ``nonASCIIReadName`` (a name byte outside SAM's QNAME set) is split three
  ways: ``nonASCIIReadName`` (space or '@'), ``nulInReadName``, ``nonPrintableReadName``.
- The CIGAR is always read after the name, even when the name length is 0 or 1 (spark-bam
  read it at byte 36 then), and is read up to its first invalid op, as spark-bam does.
- ``tooFewRemainingBytesImplied`` is computed in 64 bits: garbage lengths cannot wrap
  around into a pass as they did in spark-bam's 32-bit arithmetic.

The checks after those 19 are new here.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Tuple

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
    "nonASCIIReadName",  # a space or '@' in the name (printable, but outside QNAME's [!-?A-~])
    "noReadName",  # l_read_name == 0
    "emptyReadName",  # l_read_name == 1 (the NUL alone)
    "tooFewBytesForCigarOps",  # the data ends inside the CIGAR
    "invalidCigarOp",  # an op code above 8 (SAMv1 §4.2: MIDNSHP=X)
    "emptyMappedCigar",  # FLAG 0x4 clear, n_cigar_op == 0, l_seq != 0
    "emptyMappedSeq",  # FLAG 0x4 clear, l_seq == 0, n_cigar_op != 0
    "tooFewRemainingBytesImplied",  # block_size < 32 + l_read_name + 4*n_cigar_op + l_seq + (l_seq+1)/2
    # New checks.
    "nulInReadName",  # a NUL before the name's last byte
    "nonPrintableReadName",  # a control character, DEL or byte >= 0x80 in the name
    "negativeSeqLength",  # l_seq < 0
    "emptyMappedRead",  # FLAG 0x4 clear, n_cigar_op == 0 and l_seq == 0
    "cigarSeqLengthMismatch",  # l_seq > 0, valid CIGAR whose query length != l_seq
    "unknownFlagBits",  # FLAG bits above 0x800 (SAMv1 §1.4.2 defines 0x1..0x800)
)

BIT: Dict[str, int] = {name: 1 << index for index, name in enumerate(FLAG_NAMES)}
ALL_FLAGS = (1 << len(FLAG_NAMES)) - 1

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
