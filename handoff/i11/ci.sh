# --- issue 11: coverage, store, service (add to .ci/run) ---

# Headless Chromium and its WebDriver for tests/test_coverage_browser.py (the test skips
# cleanly without them). Needs root; on the CI image they may already be present.
apt-get install -y chromium chromium-driver

# Nothing else to pip-install: the test extra now carries waitress, Pillow, pyBigWig and
# selenium, so the existing `pip install -e '.[test,connect]'` line brings them.

# Optional benchmarks (not part of the CI time budget; each takes minutes on 2 cores):
#   mosdepth, the speed reference, dlopens libhts.so, which Debian ships only in libhts-dev
#   (bench/bench_coverage.py otherwise points it at libhts.so.3 through a symlink).
# apt-get install -y mosdepth libhts-dev
# .venv/bin/python bench/bench_coverage.py "$SPARKBAM_BENCH_DATA/sr.sorted.bam" --repeat 3 --out .ci/out/coverage.json
# .venv/bin/python bench/bench_serve.py --out .ci/out/serve.json
