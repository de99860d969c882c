"""How BAM files are cut and checked: one :class:`ReadOptions` per load, inside every task.

Options come either as keyword arguments (``load_reads(..., split_size="64m")``) or as the
string options of ``spark.read.format("bam").option("splitSize", "64m")``; both end up here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Mapping, Sequence

from ..config import DEFAULT_SPLIT_SIZE, CheckerConfig, parse_bool, parse_size
from ..errors import ConfigError

# Data source option names (Spark lower-cases them) and the keywords they stand for.
OPTION_KEYWORDS = {
    "splitsize": "split_size",
    "readstocheck": "reads_to_check",
    "maxreadsize": "max_read_size",
    "bgzfblockstocheck": "bgzf_blocks_to_check",
    "verifysplits": "verify_splits",
    "usesplittingindex": "use_splitting_index",
    "verifychecksums": "verify_checksums",
}
OPTION_NAMES = ("splitSize", "readsToCheck", "maxReadSize", "bgzfBlocksToCheck", "verifySplits", "useSplittingIndex",
                "verifyChecksums")
# The load's files (``load(path)``) and the typed tags column: read beside these options.
ALWAYS_KNOWN = ("path", "paths", "tags")
_BOOLEAN_OPTIONS = {"verify_splits": "verifySplits", "use_splitting_index": "useSplittingIndex",
                    "verify_checksums": "verifyChecksums"}


def _parse_count(name: str, value) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"option {name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise ConfigError(f"option {name} must be at least 1, got {value!r}")
    return number


@dataclass(frozen=True)
class ReadOptions:
    """How files are cut and checked; travels inside every task."""

    split_size: int = DEFAULT_SPLIT_SIZE
    config: CheckerConfig = field(default_factory=CheckerConfig)
    verify: bool = True
    use_splitting_index: bool = True

    @classmethod
    def of(cls, split_size=None, reads_to_check=None, max_read_size=None, bgzf_blocks_to_check=None,
           verify_splits=True, use_splitting_index=True, verify_checksums=True) -> "ReadOptions":
        defaults = CheckerConfig()
        config = CheckerConfig(
            reads_to_check=defaults.reads_to_check if reads_to_check is None else _parse_count("reads_to_check", reads_to_check),
            max_read_size=defaults.max_read_size if max_read_size is None else _parse_count("max_read_size", max_read_size),
            bgzf_blocks_to_check=(defaults.bgzf_blocks_to_check if bgzf_blocks_to_check is None
                                  else _parse_count("bgzf_blocks_to_check", bgzf_blocks_to_check)),
            verify_checksums=bool(verify_checksums),
        )
        size = DEFAULT_SPLIT_SIZE if split_size is None else parse_size(split_size)
        return cls(size, config, bool(verify_splits), bool(use_splitting_index))

    @classmethod
    def from_options(cls, options: Mapping[str, str], extra: Sequence[str] = ()) -> "ReadOptions":
        """From data source options; unknown names are an error (a typo must not pass silently).
        ``extra`` names the other options the caller reads itself (``intervals``...)."""
        given = {key.lower(): value for key, value in options.items()}
        known = set(OPTION_KEYWORDS) | set(ALWAYS_KNOWN) | {name.lower() for name in extra}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(OPTION_NAMES))}")
        keywords = {OPTION_KEYWORDS[key]: value for key, value in given.items() if key in OPTION_KEYWORDS}
        for keyword, name in _BOOLEAN_OPTIONS.items():
            if keyword in keywords:
                keywords[keyword] = parse_bool(name, keywords[keyword])
        return cls.of(**keywords)

    def to_options(self) -> Dict[str, str]:
        """The data source options that reproduce these settings."""
        return {
            "splitSize": str(self.split_size),
            "readsToCheck": str(self.config.reads_to_check),
            "maxReadSize": str(self.config.max_read_size),
            "bgzfBlocksToCheck": str(self.config.bgzf_blocks_to_check),
            "verifySplits": str(self.verify).lower(),
            "useSplittingIndex": str(self.use_splitting_index).lower(),
            "verifyChecksums": str(self.config.verify_checksums).lower(),
        }
