"""What the documentation's shell examples run in place of ``sparkbam``, ``waitress-serve``
and ``pip`` (see :mod:`docs_support`). Imports only the standard library: it starts for every
command a shell example runs."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import List

SERVER_SECONDS = 60
EXTRAS = re.compile(r"^sparkbam_py\[([\w,-]+)\]$")


def main(argv: List[str]) -> int:
    name, args = os.path.basename(argv[0]), argv[1:]
    if name == "pip":
        return check_pip(args)
    if name == "waitress-serve" or args[:1] == ["serve"]:
        return check_server(name, args)
    answer = send(os.environ["DOCS_CLI_SOCKET"], {"argv": args, "cwd": os.getcwd(), "env": dict(os.environ)})
    sys.stdout.write(answer["stdout"])
    sys.stderr.write(answer["stderr"])
    return int(answer["status"])


def check_pip(args: List[str]) -> int:
    """``pip install 'sparkbam_py[a,b]'``: setup.cfg declares those extras (nothing is installed)."""
    from configparser import ConfigParser

    match = EXTRAS.match(args[1]) if args[:1] == ["install"] and len(args) == 2 else None
    if not match:
        print(f"docs example: only pip install 'sparkbam_py[EXTRAS]' is checked, not {args}", file=sys.stderr)
        return 1
    setup = ConfigParser()
    setup.read(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "setup.cfg"))
    known = set(setup["options.extras_require"])
    missing = [extra for extra in match.group(1).split(",") if extra not in known]
    if missing:
        print(f"docs example: sparkbam_py has no extra {missing} (it has {sorted(known)})", file=sys.stderr)
        return 1
    return 0


def check_server(name: str, args: List[str]) -> int:
    """Runs the server for real on a free port until it answers an HTTP request, then stops it."""
    port = free_port()
    args = with_port(args, port, first=name == "waitress-serve")
    command = [os.path.join(os.environ["DOCS_REAL_BIN"], name)] + args
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        status = wait_for_answer(port, server)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    if status is None or status >= 500:
        print(f"docs example: {' '.join(command)} gave {status}:\n{output}", file=sys.stderr)
        return 1
    print(f"{name} answered HTTP {status} on port {port}")
    return 0


def with_port(args: List[str], port: int, first: bool) -> List[str]:
    """``--port N`` (or ``--port=N``) replaced by the free port: first (waitress-serve takes its
    options before the application) or last (``sparkbam serve``, after the subcommand)."""
    result, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--port":
            skip = True
        elif not arg.startswith("--port="):
            result.append(arg)
    return [f"--port={port}"] + result if first else result + [f"--port={port}"]


def wait_for_answer(port: int, server: subprocess.Popen):
    deadline = time.monotonic() + SERVER_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as answer:
            return answer.code
        except OSError:
            time.sleep(0.2)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send(address: str, message: dict) -> dict:
    """One request to :class:`docs_support.CliServer`, and its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(address)
        connection.sendall(json.dumps(message).encode() + b"\n")
        with connection.makefile("rb") as answer:
            return json.loads(answer.readline())
