"""CRAM: container boundaries found on the executors, records decoded through htslib."""
