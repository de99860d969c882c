# i9b: remote stores, Spark Connect for every command, the notebook.
# The s3 extra (s3fs) for the s3:// tests; the test extra now also brings moto[server] (a loopback
# S3 server) and nbclient, nbformat, ipykernel, matplotlib (the notebook test).
.venv/bin/pip install -e '.[test,connect,s3]'
# Remote reads under injected faults over HTTP and S3, and requests per split with the page
# cache on and off: a report (bench/bench_remote.py exits 0 and prints the table), run when the
# corpus is there.
REMOTE_BENCH_BAM=../shared/corpus/hammerlab__guacamole/src__test__resources__gatk_mini_bundle_extract.bam
if [ -f "$REMOTE_BENCH_BAM" ]; then
  timeout 900 .venv/bin/python bench/bench_remote.py "$REMOTE_BENCH_BAM" --split-size 256k --rate 0.2
fi
