"""Per-base coverage: depth kernels per split, the memory-mapped store, exports."""
