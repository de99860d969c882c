# i10b (text format parsers): no new apt or pip packages. The tests need pysam (already a
# dependency) and read ../shared/corpus-text when present (skipped cleanly when absent).

# Keep the VCF bench scripts working (a few seconds): a tiny generated VCF, one parse round.
# make_vcf.py needs bgzip and tabix (htslib tools, already installed for the BAM work).
tmp_vcf="$(mktemp -d)/smoke.vcf.gz"
.venv/bin/python bench/make_vcf.py "$tmp_vcf" --size-mb 0.5 --samples 10
.venv/bin/python bench/bench_vcf_parse.py "$tmp_vcf" --lines 300 --repeats 1 --json
