# BAM writing (issue 13). No new apt or pip packages: samtools (already installed) checks the
# written files; isal (already a dependency) deflates.
#
# The write tests are part of the normal suite (.venv/bin/python -m pytest):
#   tests/test_write_roundtrip.py  generated BAMs of every content kind written back at 3 cuts,
#                                  merged .bai vs samtools index, .sbi vs search, shards
#   tests/test_write_encode.py     encoder defaults, tag types, long CIGARs, errors, CSI > 2^29
#   tests/test_write_corpus.py     every pysam-readable corpus BAM <= 3 MB round-tripped (slow, corpus)
#   tests/test_write_spark.py      local / standalone (killed+retried tasks) / Connect writes (slow, spark)
# Bench (not in CI; needs the bench BAM):
#   .venv/bin/python bench/bench_write.py /root/bench-data/sr.sorted.bam --repeats 3
