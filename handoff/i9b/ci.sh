# i9b: remote stores, Spark Connect for every command, the notebook.
# The s3 extra (s3fs) for the s3:// tests; the test extra now brings moto[server] (a loopback
# S3 server), nbclient/nbformat/ipykernel/matplotlib (the notebook test).
.venv/bin/pip install -e '.[test,connect,s3]'
# Remote reads under injected faults (HTTP and S3), request counts per split, cache on/off:
# a report, not a gate (exit status 0 unless the script itself fails).
.venv/bin/python bench/bench_remote.py "$(ls ../shared/corpus/hammerlab__guacamole/src__test__resources__gatk_mini_bundle_extract.bam 2>/dev/null || echo tests-skip)" --split-size 256k --json /tmp/bench_remote.json || echo "bench_remote skipped (corpus BAM absent)"
