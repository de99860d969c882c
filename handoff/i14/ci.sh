# CRAM (issue 14). The CRAM tests write their files with samtools (a CRAM writer is not in
# pysam's Python API); without it they skip. samtools is already on the CI image for the
# corpus checks; on a fresh image:
apt-get install -y samtools
# No new pip dependency: htslib's CRAM decoder comes with pysam, which is already installed.
# The corpus CRAM check runs inside the normal test command (tests/test_cram_corpus.py,
# marked slow, conversion time-boxed at 150 s): nothing to add to .ci/run for it.
