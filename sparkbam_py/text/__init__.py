"""Bgzipped text (VCF, BED, GFF, tabix TSV): line boundaries and Arrow readers."""
