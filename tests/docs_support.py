"""The documentation's code examples, found and run.

Examples are the fenced ``python`` and ``sh`` blocks of ``README.md`` and ``docs/*.md``. A
block preceded by ``<!-- not run: REASON -->`` is listed with its reason instead of run.

Shell blocks run in bash, with three commands put first on ``PATH``:

* ``sparkbam``: the command runs inside the runner's process (:class:`CliServer`), on the Spark
  session the Python examples use, instead of starting a JVM per command;
  ``sparkbam serve`` runs for real, on a free port, until it answers over HTTP;
* ``waitress-serve``: the same, for the WSGI server line;
* ``pip install 'sparkbam_py[EXTRA]'``: checks that the package has those extras (installs nothing).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socketserver
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional

ROOT = Path(__file__).resolve().parents[1]
RUN_LANGUAGES = ("python", "sh")
FENCE = re.compile(r"^```(\S*)\s*$")
NOT_RUN = re.compile(r"^<!--\s*not run:\s*(.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository: README.md, docs/cram.md
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    not_run: Optional[str]  # the reason, for a block marked not run

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def documented_pages() -> List[Path]:
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def blocks_of(page: Path) -> List[Block]:
    """The page's fenced blocks in the languages the tests run, in page order."""
    name = page.relative_to(ROOT).as_posix()
    lines = page.read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"{name}:{index + 1}: a code fence that never closes")
        if opening.group(1) in RUN_LANGUAGES:
            marker = NOT_RUN.match(_previous_line(lines, index))
            blocks.append(Block(name, index + 1, opening.group(1), "\n".join(lines[index + 1:end]) + "\n",
                                marker.group(1) if marker else None))
        index = end + 1
    return blocks


def _previous_line(lines: List[str], index: int) -> str:
    for line in reversed(lines[:index]):
        if line.strip():
            return line.strip()
    return ""


# -- sparkbam commands inside the test process -----------------------------------------------

_UNSHARED_VARIABLES = {"PATH", "PWD", "OLDPWD", "SHLVL", "_"}


class CliServer:
    """Runs ``sparkbam`` commands for the shim, one at a time, in this process: each gets the
    shim's working folder and the environment variables its shell changed, and answers with
    its output and exit status."""

    def __init__(self, folder: Path):
        self.address = str(folder / "cli.sock")
        serve_one = self._handle
        handler = type("Handler", (socketserver.StreamRequestHandler,), {"handle": lambda request: serve_one(request)})
        self._server = socketserver.UnixStreamServer(self.address, handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> "CliServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, request: socketserver.StreamRequestHandler) -> None:
        asked = json.loads(request.rfile.readline())
        with self._lock:
            answer = run_cli(asked["argv"], asked["cwd"], asked["env"])
        request.wfile.write(json.dumps(answer).encode() + b"\n")


def run_cli(argv: List[str], cwd: str, env: Dict[str, str]) -> Dict[str, object]:
    from sparkbam_py.cli.main import main

    changed = {k: v for k, v in env.items() if k not in _UNSHARED_VARIABLES and os.environ.get(k) != v}
    out, err = io.StringIO(), io.StringIO()
    with environment_and_folder(changed, cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as stop:  # argparse: a usage error, or --help
            status = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
            status = 1
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "status": status}


@contextlib.contextmanager
def environment_and_folder(changes: Mapping[str, str], folder) -> Iterator[None]:
    """These environment variables and this working folder inside, as before outside."""
    saved, here = {name: os.environ.get(name) for name in changes}, os.getcwd()
    os.environ.update(changes)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


SHIM = '''#!{python}
import sys
sys.path.insert(0, {tests!r})
from docs_shims import main
sys.exit(main(sys.argv))
'''


def install_shims(folder: Path) -> Path:
    """A folder of ``sparkbam``, ``waitress-serve`` and ``pip`` for the front of ``PATH``."""
    shims = folder / "shims"
    shims.mkdir()
    for name in ("sparkbam", "waitress-serve", "pip"):
        path = shims / name
        path.write_text(SHIM.format(python=sys.executable, tests=str(ROOT / "tests")))
        path.chmod(0o755)
    return shims


def shell_environment(shims: Path, cli: CliServer) -> Dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=os.pathsep.join([str(shims), bin_dir, os.environ.get("PATH", "")]),
                DOCS_CLI_SOCKET=cli.address, DOCS_REAL_BIN=bin_dir)
