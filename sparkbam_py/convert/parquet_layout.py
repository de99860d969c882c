"""How converted columns are laid out in Parquet: which get dictionaries, which get statistics.

Measured on the short-read bench BAM (bench/bench_native.py, one 32 MiB split, one core):
pyarrow's defaults (a dictionary tried on every column, statistics on every column) took
0.52 s to write the split; the layout below 0.38 s for a file within 0.5% of the size.

* Dictionaries pay only where a row group holds few distinct values (reference names, flags,
  mapping qualities, CIGARs of short reads, the source path); elsewhere (read names,
  sequences, qualities, tags) pyarrow builds one, overflows its page limit and falls back to
  plain encoding: wasted hashing.
* Statistics let Spark skip row groups on positions, names and flags; min/max of per-base
  strings and of the tags map prune nothing, so they are not computed.
* Columns that are not BAM's (a converted VCF, BED or GFF) keep pyarrow's defaults: a VCF's
  genotype values repeat, and their dictionaries halve the files (one 32 MiB split of the
  100-sample bench VCF: 55 MB without, 28 MB with, written in the same time).
"""
from __future__ import annotations

from typing import Dict, List

import pyarrow as pa
import pyarrow.parquet as pq

from ..bam.schema import DEFAULT_COLUMNS, FILE_POSITION
from ..bam.typed_tags import TYPED_TAGS

# Columns whose row groups hold few distinct values.
DICTIONARY_COLUMNS = frozenset({"reference_name", "next_reference_name", "flag", "mapping_quality", "cigar",
                                "file_path"})
# Every column a BAM conversion writes: only these follow the choices above.
BAM_COLUMNS = frozenset(DEFAULT_COLUMNS) | {FILE_POSITION, "file_path", TYPED_TAGS}
# Per-base strings and the tags map: min/max over them never prunes a row group.
NO_STATISTICS_COLUMNS = frozenset({"query_sequence", "query_qualities", "tags"})


def leaf_paths(schema: pa.Schema) -> Dict[str, List[str]]:
    """Each top-level column's Parquet leaf column paths (``tags.key_value.key``...), as
    pyarrow names them: its writer options take leaf paths, not top-level names."""
    sink = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), sink)
    parquet_schema = pq.read_metadata(pa.BufferReader(sink.getvalue())).schema
    paths: Dict[str, List[str]] = {name: [] for name in schema.names}
    for index in range(len(parquet_schema)):
        path = parquet_schema.column(index).path
        paths[path.split(".", 1)[0]].append(path)
    return paths


def writer_options(schema: pa.Schema, compression: str) -> dict:
    """Keyword arguments for ``pyarrow.parquet.ParquetWriter`` writing ``schema``."""
    paths = leaf_paths(schema)
    return {
        "compression": compression,
        "use_dictionary": [path for name in schema.names if name in DICTIONARY_COLUMNS or name not in BAM_COLUMNS
                           for path in paths[name]],
        "write_statistics": [path for name in schema.names if name not in NO_STATISTICS_COLUMNS
                             for path in paths[name]],
    }
