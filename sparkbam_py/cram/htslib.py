"""htslib's CRAM decoder through ctypes: the copy of htslib that pysam bundles (``libchtslib``).

The CRAM codecs stay htslib's; what changes is who takes the decoded records.  Instead of one
pysam ``AlignedSegment`` per record, :class:`HtsCramFile` hands a compiled loop
(:mod:`.record_kernel`) htslib's own handles (``htsFile*``, ``sam_hdr_t*``, a ``bam1_t*``),
and the loop calls ``sam_read1`` itself, record after record, with no Python in between.

Only stable public htslib API is used (``hts.h``, ``sam.h``, ``hfile.h``), plus the layout
of ``bam1_t``/``bam1_core_t``, unchanged since htslib 1.10 (pysam >= 0.16 bundles >= 1.10).
"""
from __future__ import annotations

import ctypes
import functools
import os
from typing import Optional

from ..errors import CorruptDataError

SAM_READ1_SYMBOL = "sparkbam_sam_read1"
# htslib/sam.h: bam1_t is bam1_core_t (48 bytes: int64 pos, int32 tid, uint16 bin, uint8 qual,
# uint8 l_extranul, uint16 flag, uint16 l_qname, uint32 n_cigar, int32 l_qseq, int32 mtid,
# int64 mpos, int64 isize), then uint64 id, uint8_t *data, int l_data, uint32 m_data, and a
# uint32 of flag bits: 76 bytes, 80 with the struct's 8-byte alignment.
BAM1_T_SIZE = 80
# htslib/hts_log.h: enum htsLogLevel; HTS_LOG_OFF silences htslib's messages on stderr.
HTS_LOG_OFF = 0


@functools.lru_cache(maxsize=None)
def library() -> ctypes.CDLL:
    """pysam's htslib, with the signatures used here declared."""
    from pysam import libchtslib  # noqa: PLC0415 (pysam is imported only to read a CRAM)

    lib = ctypes.CDLL(libchtslib.__file__)
    pointer, text, integer = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    _declare(lib.hdopen, pointer, [integer, text])
    _declare(lib.hclose_abruptly, None, [pointer])
    _declare(lib.hts_hopen, pointer, [pointer, text, text])
    _declare(lib.hts_close, integer, [pointer])
    _declare(lib.hts_set_fai_filename, integer, [pointer, text])
    _declare(lib.hts_opt_add, integer, [ctypes.POINTER(pointer), text])
    _declare(lib.hts_opt_apply, integer, [pointer, pointer])
    _declare(lib.hts_opt_free, None, [pointer])
    _declare(lib.hts_get_log_level, integer, [])
    _declare(lib.hts_set_log_level, None, [integer])
    _declare(lib.sam_hdr_read, pointer, [pointer])
    _declare(lib.sam_hdr_destroy, None, [pointer])
    _declare(lib.bam_init1, pointer, [])
    _declare(lib.bam_destroy1, None, [pointer])
    return lib


def _declare(function, restype, argtypes) -> None:
    function.restype, function.argtypes = restype, argtypes


def sam_read1_address() -> int:
    """Where ``sam_read1`` is, for registering it with LLVM (see :mod:`.record_kernel`)."""
    return ctypes.cast(library().sam_read1, ctypes.c_void_p).value


class HtsCramFile:
    """A CRAM stream open in htslib: ``fp``, ``header`` and one ``record`` (``bam1_t*``).

    ``fd`` is duplicated (htslib closes its copy); ``fields`` is htslib's
    ``required_fields`` bit mask.  Close it (or use ``with``) before the stream's writer is
    stopped, so htslib no longer holds the pipe open.
    """

    def __init__(self, fd: int, name: str, reference: Optional[str], fields: int, path: Optional[str]):
        lib = library()
        self.fp = self.header = self.record = None
        own_fd = os.dup(fd)
        hfile = lib.hdopen(own_fd, b"r")
        if not hfile:
            os.close(own_fd)
            raise OSError(ctypes.get_errno(), "htslib could not open the CRAM stream")
        previous = lib.hts_get_log_level()
        lib.hts_set_log_level(HTS_LOG_OFF)  # it would complain on stderr that a stream has no index
        try:
            self.fp = lib.hts_hopen(hfile, name.encode(), b"r")
            if not self.fp:
                lib.hclose_abruptly(hfile)  # hts_hopen leaves the hFILE open when it fails
                raise CorruptDataError("htslib could not open the CRAM stream", path, 0)
            self._apply_options(reference, fields, path)
            self.header = lib.sam_hdr_read(self.fp)
            if not self.header:
                raise CorruptDataError("htslib could not read the CRAM's SAM header", path, 0)
            self.record = lib.bam_init1()
            if not self.record:
                raise MemoryError("htslib could not allocate a record")
        except BaseException:
            self.close()
            raise
        finally:
            lib.hts_set_log_level(previous)

    def _apply_options(self, reference: Optional[str], fields: int, path: Optional[str]) -> None:
        lib = library()
        if reference is not None and lib.hts_set_fai_filename(self.fp, os.fsencode(reference)) != 0:
            raise CorruptDataError(f"htslib could not use the reference {reference}", path, 0)
        options = ctypes.c_void_p()
        try:
            if lib.hts_opt_add(ctypes.byref(options), f"required_fields={fields:#x}".encode()) != 0 \
                    or lib.hts_opt_apply(self.fp, options) != 0:
                raise CorruptDataError("htslib refused the CRAM decoding options", path, 0)
        finally:
            lib.hts_opt_free(options)

    def close(self) -> None:
        lib = library()
        if self.record:
            lib.bam_destroy1(self.record)
        if self.fp:
            previous = lib.hts_get_log_level()
            lib.hts_set_log_level(HTS_LOG_OFF)  # a stream stopped early is not an error here
            try:
                lib.hts_close(self.fp)
            finally:
                lib.hts_set_log_level(previous)
        if self.header:
            lib.sam_hdr_destroy(self.header)
        self.fp = self.header = self.record = None

    def __enter__(self) -> "HtsCramFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
