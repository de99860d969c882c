# Lines for .ci/run (issue 12: compiled walk, typed tags, BAM -> Parquet/Delta).

# numba compiles the record walk; it is in install_requires, so the usual `pip install -e '.[test,connect]'`
# brings it. The Delta output and its tests need deltalake (delta-rs), an optional extra:
.venv/bin/pip install -e '.[test,connect,delta]'

# The tests of the compiled walk also run the pure-Python walk and compare (tests/test_walk_kernel.py);
# they cache numba's machine code in a temporary NUMBA_CACHE_DIR of their own. Nothing else to set.

# Benchmarks only (not in CI): oxbow and polars-bio are the peers of bench/bench_native.py.
# .venv/bin/pip install -e '.[bench]'
