# Issue 10 (bgzipped text): nothing to add to .ci/run.
# - No new apt or pip packages: pysam (tabix_index for fixtures, the oracle), pyarrow and
#   pyspark are already dependencies; bgzip/tabix are already installed for the bench only.
# - The new tests are collected by the README's `.venv/bin/python -m pytest` as they are:
#   tests/test_text_lines.py, test_text_plain.py, test_text_commands.py, test_map_regions.py,
#   test_text_pushdown.py (no corpus needed, ~2 min together), test_text_corpus.py and
#   test_text_regions.py (../shared/corpus-text when present, skipped otherwise, ~2.5 min),
#   test_text_spark.py (marked spark; shares the local/standalone/Connect engines).
