"""Real Spark engines for the tests, all on loopback, started from the pyspark package.

- ``local``: ``local[2]`` in this process's JVM.
- ``standalone``: one master and two one-core workers, each in its own JVM
  (``spark-class ...deploy.master.Master`` / ``...deploy.worker.Worker``), so tasks and their
  state really travel by pickle to separate executor processes.
- ``connect``: a Spark Connect server (``sbin/start-connect-server.sh --wait``) and a remote
  client session: no SparkContext, no RDDs, as in a Databricks notebook.

One engine runs at a time (a process holds one classic SparkContext): :func:`activate`
stops the running one before starting another, and every started JVM is stopped at exit.
Test modules share engines through this module's state, whichever module asks first.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Dict, List, Optional

import pyspark
import pytest

from sparkbam_py.spark.session import get_spark, prepare_environment

ENGINES = ("local", "standalone", "connect")
SPARK_HOME = Path(pyspark.__file__).resolve().parent
STARTUP_SECONDS = 240
WORKERS = 2
# Small JVMs: the CI machine has two cores and other jobs.
WORKER_MEMORY = "1g"
TEST_CONFIG = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, what: str, processes: List[subprocess.Popen], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: a process exited with {process.returncode}; see {log}")
        if condition():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {STARTUP_SECONDS} s; see {log}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def spark_env(workdir: Path) -> Dict[str, str]:
    prepare_environment()
    env = dict(os.environ, SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP="127.0.0.1")
    env.update(SPARK_LOG_DIR=str(workdir / "logs"), SPARK_PID_DIR=str(workdir / "pids"),
               SPARK_WORKER_DIR=str(workdir / "work"), PYSPARK_PYTHON=sys.executable)
    return env


def launch(command: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    # A session of its own, so stopping it reaches the JVM the shell script starts.
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


class Engine:
    name = ""

    def __init__(self):
        self._workdir: Optional[Path] = None
        self.processes: List[subprocess.Popen] = []
        self.spark = None

    @property
    def workdir(self) -> Path:
        """Logs, pid files and worker folders of the engine's JVMs; removed when it stops."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"sparkbam-{self.name}-"))
        return self._workdir

    def stop(self, keep_logs: bool = False) -> None:
        spark, self.spark = self.spark, None
        try:
            if spark is not None:
                spark.stop()
        finally:
            # Even when the session cannot stop cleanly (at exit py4j may be gone already).
            for process in reversed(self.processes):
                stop_process(process)
            self.processes.clear()
            if self._workdir is not None and not keep_logs:
                shutil.rmtree(self._workdir, ignore_errors=True)

    @property
    def has_rdds(self) -> bool:
        return self.name != "connect"


class LocalEngine(Engine):
    name = "local"

    def start(self) -> "LocalEngine":
        self.spark = get_spark("sparkbam-tests-local", master="local[2]", config=TEST_CONFIG)
        return self


class StandaloneEngine(Engine):
    name = "standalone"

    def start(self) -> "StandaloneEngine":
        url = self.start_cluster()
        config = dict(TEST_CONFIG, **{"spark.executor.cores": "1", "spark.cores.max": str(WORKERS),
                                      "spark.executor.memory": "768m"})
        self.spark = get_spark("sparkbam-tests-standalone", master=url, config=config)
        return self

    def start_cluster(self, env: Optional[Dict[str, str]] = None) -> str:
        """The master and its workers (in ``env``, default :func:`spark_env`); the master's URL."""
        env, log = env or spark_env(self.workdir), self.workdir / "cluster.log"
        # The web UIs take port 0 (any free port) and the master's is read back from its log:
        # a port chosen here and bound later can be taken in between by another process,
        # and Spark then moves to the next port without failing.
        env["SPARK_MASTER_OPTS"] = "-Dspark.master.rest.enabled=false"  # no fixed port 6066
        port = free_port()
        spark_class = str(SPARK_HOME / "bin" / "spark-class")
        master = [spark_class, "org.apache.spark.deploy.master.Master",
                  "--host", "127.0.0.1", "--port", str(port), "--webui-port", "0"]
        self.processes.append(launch(master, env, log))
        url = f"spark://127.0.0.1:{port}"
        wait_for(lambda: master_ui_port(log) is not None, "standalone master", self.processes, log)
        ui_port = master_ui_port(log)
        for _ in range(WORKERS):
            worker = [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                      "--cores", "1", "--memory", WORKER_MEMORY, "--webui-port", "0", url]
            self.processes.append(launch(worker, env, log))
        wait_for(lambda: alive_workers(ui_port, url) >= WORKERS, "standalone workers", self.processes, log)
        return url


MASTER_UI_STARTED = re.compile(rb"Successfully started service 'MasterUI' on port (\d+)")


def master_ui_port(log: Path) -> Optional[int]:
    """The port the master's web UI bound, as its log says; None before it has."""
    found = MASTER_UI_STARTED.search(log.read_bytes()) if log.exists() else None
    return int(found.group(1)) if found else None


def alive_workers(ui_port: int, master_url: str) -> int:
    """Workers alive at the master whose UI is on ``ui_port``; 0 until it answers as that master."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as response:
            state = json.load(response)
    except (OSError, ValueError):  # not up yet, or not a master's JSON
        return 0
    if not isinstance(state, dict) or state.get("url") != master_url:
        return 0
    return int(state.get("aliveworkers", 0))


class ConnectEngine(Engine):
    name = "connect"

    def start(self) -> "ConnectEngine":
        env, log = spark_env(self.workdir), self.workdir / "connect.log"
        port = free_port()
        command = [str(SPARK_HOME / "sbin" / "start-connect-server.sh"), "--wait", "--master", "local[2]",
                   "--conf", f"spark.connect.grpc.binding.port={port}", "--conf", "spark.ui.enabled=false",
                   "--conf", f"spark.pyspark.python={sys.executable}", "--conf", "spark.log.level=WARN"]
        self.processes.append(launch(command, env, log))
        wait_for(lambda: port_open(port), "Spark Connect server", self.processes, log)
        from pyspark.sql import SparkSession

        self.url = f"sc://127.0.0.1:{port}"
        self.spark = SparkSession.builder.remote(self.url).getOrCreate()
        return self

    def stop(self, keep_logs: bool = False) -> None:
        try:
            super().stop(keep_logs)
        finally:
            # pyspark marks the process as Connect-only once a remote session exists; a
            # classic engine started after this one needs the mark gone.
            os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


_CLASSES = {cls.name: cls for cls in (LocalEngine, StandaloneEngine, ConnectEngine)}
_running: Optional[Engine] = None


def activate(name: str) -> Engine:
    """The engine ``name``, started if needed; whichever other engine runs is stopped first."""
    global _running
    if _running is not None and _running.name == name:
        return _running
    stop_running()
    try:
        engine = _start(name)
    except Exception as first:
        # Ports probed free here are bound later by the JVMs, and another process can take
        # one in between: a second start, with new ports, tells that apart from a real fault.
        warnings.warn(f"{name} engine did not start ({first}); starting it again")
        engine = _start(name)
    _running = engine
    return engine


def _start(name: str) -> Engine:
    engine = _CLASSES[name]()
    try:
        engine.start()
    except BaseException:
        engine.stop(keep_logs=True)  # the error names the log file
        raise
    return engine


def stop_running() -> None:
    global _running
    if _running is not None:
        engine, _running = _running, None
        engine.stop()


atexit.register(stop_running)


@pytest.fixture(scope="session", params=ENGINES)
def spark_engine(request) -> Engine:
    """Each engine in turn; tests are grouped by engine so each starts once per session."""
    return activate(request.param)
