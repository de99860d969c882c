# Lines for .ci/run (branch i9a). No new apt packages or pip extras: isal, pysam and
# hypothesis are already installed by '.[test]'.

# (after the existing corpus checks, inside the "corpus present" part; $CORPUS=../shared/corpus)
# Corruption fuzzing over the real-world corpus: byte flips in BGZF headers, deflate payloads
# and trailers, cuts, swapped/duplicated/dropped blocks, lying BSIZEs; each corrupted BAM read
# through every split at three split sizes. Fails on any silent change, untyped exception or
# hang. Bounded: starts no new case after 100 s (about 2 minutes in all on this machine).
echo "== corruption fuzzing over the corpus (typed error or exactly the original records)"
.venv/bin/python bench/fuzz_corpus.py "$CORPUS" --cases 600 --seed 1 --max-seconds 100 --tsv .ci/out/fuzz_corpus.tsv
