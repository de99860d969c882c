"""Python keywords as data source options, so that one parser per format checks both ways in.

``load_reads(..., reads_to_check=5, verify_splits=False)`` reads exactly as
``spark.read.format("bam").option("readsToCheck", "5").option("verifySplits", "false")``:
each keyword becomes its camelCase option name, booleans ``true``/``false``, lists of
regions one comma-separated string.  Keywords left at None are not options at all, nor are
the checks every format makes by default left on (``verify_splits=True``...): a loader that
takes any format passes them without knowing whether the format has such an option.
"""
from __future__ import annotations

import json
import os
from typing import Dict, Optional

from .paths import PathsArgument, path_items

# Checks on by default wherever a format has them: at these values a keyword is no option.
DEFAULT_KEYWORDS = {"verify_splits": True, "use_splitting_index": True, "verify_checksums": True}


def option_name(keyword: str) -> str:
    """``reads_to_check`` -> ``readsToCheck``."""
    first, *rest = keyword.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def keyword_name(option: str) -> str:
    """``readsToCheck`` -> ``reads_to_check``."""
    return "".join("_" + letter.lower() if letter.isupper() else letter for letter in option)


def option_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def options_of(paths: Optional[PathsArgument] = None, **keywords) -> Dict[str, str]:
    """Data source options from loader keywords (None values left out), with the files as
    ``load()`` passes them: ``path`` for one, ``paths`` (JSON) for a list."""
    options = {option_name(keyword): option_value(value) for keyword, value in keywords.items()
               if value is not None and not (keyword in DEFAULT_KEYWORDS and value is DEFAULT_KEYWORDS[keyword])}
    if paths is not None:
        if isinstance(paths, (str, os.PathLike)):
            options["path"] = os.fspath(paths)
        else:
            options["paths"] = json.dumps(path_items(paths))
    return options

