"""sparkbam_py: split BAM files across Spark executors, every read exactly once."""
from __future__ import annotations

from .errors import SparkBamError
from .pos import Pos

__version__ = "0.1.0"

__all__ = ["Pos", "SparkBamError", "__version__"]
