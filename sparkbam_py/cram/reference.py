"""Reference sequences for CRAM decoding: where htslib finds them, and what to say when it cannot.

``reference=`` may be a local FASTA (its ``.fai`` beside it, built when missing) or any URL
fsspec opens; a URL is fetched once per machine into a cache directory (``SPARKBAM_REF_CACHE``,
default ``~/.cache/sparkbam_py/references``), with its ``.fai`` when the store has one, and
htslib then reads the local copy.  Without ``reference=``, htslib looks where it always does:
``REF_PATH``/``REF_CACHE`` and the ``@SQ UR`` field.  CRAMs written without a reference
(``no_ref``) or with embedded references need none.

When htslib fails to decode a container that needed a reference, :func:`reference_problem`
says which contig and which MD5 the header expects, and what the given reference holds.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Optional
from urllib.parse import urlsplit

from ..errors import SparkBamError

CACHE_ENVIRONMENT = "SPARKBAM_REF_CACHE"
DEFAULT_CACHE = os.path.join("~", ".cache", "sparkbam_py", "references")
FAI_SUFFIX = ".fai"
_COPY_CHUNK = 8 << 20


class CramReferenceError(SparkBamError, ValueError):
    """The reference a CRAM container needs is missing or is not the one it was written against."""


def _is_url(path: str) -> bool:
    scheme = urlsplit(path).scheme
    return len(scheme) > 1 and scheme != "file"


def local_reference(reference: Optional[str]) -> Optional[str]:
    """A local FASTA path htslib can open for ``reference`` (fetched and indexed if needed)."""
    if reference is None:
        return None
    if not _is_url(reference):
        path = urlsplit(reference).path if reference.startswith("file:") else reference
        if not os.path.exists(path):
            raise CramReferenceError("the reference FASTA does not exist", path)
        _ensure_fai(path)
        return path
    return _fetched(reference)


def _fetched(url: str) -> str:
    """The cached local copy of ``url`` (and its .fai), fetched once; atomic under concurrent tasks."""
    import fsspec

    directory = os.path.expanduser(os.environ.get(CACHE_ENVIRONMENT, DEFAULT_CACHE))
    os.makedirs(directory, exist_ok=True)
    name = hashlib.sha1(url.encode()).hexdigest()[:16] + "-" + os.path.basename(urlsplit(url).path or "ref.fa")
    target = os.path.join(directory, name)
    if not os.path.exists(target):
        _copy(fsspec.open(url, "rb"), target)
    if not os.path.exists(target + FAI_SUFFIX):
        try:
            _copy(fsspec.open(url + FAI_SUFFIX, "rb"), target + FAI_SUFFIX)
        except (FileNotFoundError, OSError):
            _ensure_fai(target)
    return target


def _copy(opener, target: str) -> None:
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".partial-")
    try:
        with opener as source, os.fdopen(handle, "wb") as out:
            while True:
                chunk = source.read(_COPY_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _ensure_fai(path: str) -> None:
    if not os.path.exists(path + FAI_SUFFIX):
        import pysam

        pysam.faidx(path)


def sequence_md5(reference: str, contig: str) -> Optional[str]:
    """The M5 of ``contig`` in ``reference`` (MD5 of its upper-case bases, SAMv1 §1.3), or
    None when the FASTA has no such sequence."""
    import pysam

    with pysam.FastaFile(reference) as fasta:
        if contig not in fasta.references:
            return None
        return hashlib.md5(fasta.fetch(contig).upper().encode()).hexdigest()


def reference_problem(path: str, where: int, contig: Optional[str], expected_md5: Optional[str],
                      reference: Optional[str], cause: str) -> CramReferenceError:
    """The typed error for a container htslib could not decode, naming the contig and M5."""
    expected = f"M5 {expected_md5}" if expected_md5 else "no M5 in the header"
    needs = f"reference sequence {contig!r} ({expected})" if contig else "several reference sequences"
    if reference is None:
        given = ("no reference= was given and htslib found none through REF_PATH, REF_CACHE or the "
                 "@SQ UR field")
    elif contig is None:
        given = f"check that {reference} holds every @SQ sequence with its M5"
    else:
        actual = sequence_md5(reference, contig)
        given = (f"{reference} has no sequence named {contig!r}" if actual is None
                 else f"{contig!r} in {reference} has MD5 {actual}")
    return CramReferenceError(f"decoding needs the {needs}, but {given} ({cause})", path, where)
