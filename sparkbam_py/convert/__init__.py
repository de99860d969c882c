"""BAM to Parquet and Delta written by the executors themselves (no JVM row path)."""
