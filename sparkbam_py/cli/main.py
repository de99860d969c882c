"""The ``sparkbam`` command line (also ``python -m sparkbam_py``).

Every subcommand takes ``--json`` and then prints one JSON object instead of text, and
``--remote sc://host:port`` (or ``$SPARK_REMOTE``) to run on a Spark Connect server.
Library errors exit with status 2 and a one-line message naming path and offset.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from typing import List, Optional

from .. import cli
from ..errors import SparkBamError
from .common import Command


def discover_commands() -> List[Command]:
    """Every ``COMMAND`` defined by a module of this package: one module per subcommand.

    Modules import lazily-heavy things (pyspark) inside ``run``, so discovery stays fast.
    """
    commands = []
    for module_info in pkgutil.iter_modules(cli.__path__):
        module = importlib.import_module(f"{cli.__name__}.{module_info.name}")
        command = getattr(module, "COMMAND", None)
        if isinstance(command, Command):
            commands.append(command)
    return sorted(commands, key=lambda c: c.name)


def named_command(argv: List[str]) -> Optional[Command]:
    """The command ``argv`` names, importing only its module (``index-records`` is
    ``index_records.py``); None when the first word names none (then every module is read).

    Discovering every command imports every command module (~0.45 CPU-s here); a command on a
    small file must not pay that.
    """
    name = argv[0] if argv and not argv[0].startswith("-") else ""
    module_name = name.replace("-", "_")
    if not module_name.isidentifier() or module_name not in {info.name for info in pkgutil.iter_modules(cli.__path__)}:
        return None
    command = getattr(importlib.import_module(f"{cli.__name__}.{module_name}"), "COMMAND", None)
    return command if isinstance(command, Command) and command.name == name else None


def build_parser(argv: Optional[List[str]] = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of the one ``argv`` names."""
    parser = argparse.ArgumentParser(prog="sparkbam", description="Split BAM files across Spark executors.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = named_command(argv) if argv is not None else None
    for command in [named] if named is not None else discover_commands():
        sub = subparsers.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        sub.add_argument("--progress", action="store_true", default=None, help="show progress on stderr")
        sub.add_argument("--remote", metavar="sc://HOST:PORT", default=None,
                         help="run on this Spark Connect server (default: $SPARK_REMOTE, else local Spark)")
        sub.set_defaults(handler=command)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    if args.remote:
        # pyspark's own switch: every session the command asks for is then a Connect client.
        os.environ["SPARK_REMOTE"] = args.remote
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
