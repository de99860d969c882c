"""Per-base coverage: depth kernels per split, the chunked store the executors write, exports."""
