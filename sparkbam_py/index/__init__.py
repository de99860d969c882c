"""Index formats: BAI and CSI (SAMv1 §5, CSIv1), bai-indexer's ``.bai.json``, region strings."""
from __future__ import annotations

from .bai import parse_bai, parse_bai_reference, read_bai
from .bai_json import BaiJson, build_bai_json, read_bai_json, read_reference_index, write_bai_json
from .chunks import (
    chunks_for_reference,
    chunks_for_region,
    chunks_for_regions,
    merge_chunks,
    unplaced_unmapped_start,
)
from .csi import find_index_path, parse_csi, parse_index, read_csi, read_index
from .model import BamIndex, Bin, Chunk, ReferenceIndex, ReferenceMetadata
from .regions import Region, parse_region, parse_regions

__all__ = [
    "BaiJson", "BamIndex", "Bin", "Chunk", "ReferenceIndex", "ReferenceMetadata", "Region",
    "build_bai_json", "chunks_for_reference", "chunks_for_region", "chunks_for_regions", "find_index_path",
    "merge_chunks", "parse_bai", "parse_bai_reference", "parse_csi", "parse_index", "parse_region",
    "parse_regions", "read_bai", "read_bai_json", "read_csi", "read_index", "read_reference_index",
    "unplaced_unmapped_start", "write_bai_json",
]
