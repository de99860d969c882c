"""The ``sparkbam`` command line (also ``python -m sparkbam_py``).

Every subcommand takes ``--json`` and then prints one JSON object instead of text.
Library errors exit with status 2 and a one-line message naming path and offset.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from ..errors import SparkBamError
from .index_blocks import IndexBlocks
from .index_records import IndexRecords

COMMANDS = [IndexBlocks(), IndexRecords()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparkbam", description="Split BAM files across Spark executors.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        sub.add_argument("--progress", action="store_true", default=None, help="show progress on stderr")
        sub.set_defaults(handler=command)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.handler.run(args)
    except SparkBamError as error:
        if args.json:
            print(json.dumps({"error": type(error).__name__, "message": str(error)}))
        print(f"sparkbam {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.data, indent=None, sort_keys=False))
    else:
        for line in result.lines:
            print(line)
    return result.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
