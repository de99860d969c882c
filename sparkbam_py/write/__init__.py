"""Writing BAM: record encoding, part files, index merging, commit."""
