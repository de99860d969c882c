"""What bench_coverage measures besides wall time: CPU and peak memory of whole process
trees, the Spark driver, its JVM and each Python worker, and samtools' depth of windows."""
from __future__ import annotations

import ctypes.util
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import psutil

SAMPLE_SECONDS = 0.05


def run_measured(command: List[str], env: Optional[dict] = None) -> dict:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one run of ``command``, from the
    kernel's accounting of the reaped child (``wait4``)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {process.stderr.read().decode()[-500:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


def tree_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` and its descendants, reaped children included."""
    total = 0.0
    root = psutil.Process(pid)
    for process in [root] + root.children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class SparkRss(threading.Thread):
    """Peak RSS of the driver (this process), the JVM, and each Python worker under it,
    sampled every ``SAMPLE_SECONDS`` while running."""

    def __init__(self, jvm_pid: int):
        super().__init__(daemon=True)
        self.jvm_pid = jvm_pid
        self.peaks: Dict[int, float] = {}
        self.names: Dict[int, str] = {}
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.sample()
            time.sleep(SAMPLE_SECONDS)

    def sample(self):
        processes = [psutil.Process(os.getpid()), psutil.Process(self.jvm_pid)]
        try:
            processes += psutil.Process(self.jvm_pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        for process in processes:
            try:
                rss = process.memory_info().rss / (1 << 20)
                self.names.setdefault(process.pid, " ".join(process.cmdline()[:3]))
            except psutil.Error:
                continue
            self.peaks[process.pid] = max(rss, self.peaks.get(process.pid, 0.0))

    def stop(self) -> dict:
        self._halt.set()
        self.join()
        self.sample()
        workers = sorted(round(rss, 1) for pid, rss in self.peaks.items()
                         if pid not in (os.getpid(), self.jvm_pid) and "python" in self.names.get(pid, ""))
        return {"driver_mib": round(self.peaks.get(os.getpid(), 0.0), 1),
                "jvm_mib": round(self.peaks.get(self.jvm_pid, 0.0), 1),
                "python_workers_mib": workers}


def mosdepth_env(workdir: Path) -> dict:
    """Debian's mosdepth dlopens ``libhts.so``, which only libhts-dev provides; point it at
    the runtime library (libhts.so.3) through a symlink when the plain name is missing."""
    env = dict(os.environ)
    if ctypes.util.find_library("hts") and Path("/usr/lib/x86_64-linux-gnu/libhts.so").exists():
        return env
    for candidate in Path("/usr/lib").glob("*/libhts.so.*"):
        (workdir / "lib").mkdir(exist_ok=True)
        link = workdir / "lib" / "libhts.so"
        if not link.exists():
            link.symlink_to(candidate)
        env["LD_LIBRARY_PATH"] = f"{link.parent}:{env.get('LD_LIBRARY_PATH', '')}"
        break
    return env


def samtools_window(bam: str, contig: str, start: int, end: int) -> np.ndarray:
    """``samtools depth -a`` of ``[start, end)`` (0-based) as an array."""
    text = subprocess.run(["samtools", "depth", "-a", "-r", f"{contig}:{start + 1}-{end}", bam], check=True,
                          capture_output=True, text=True).stdout
    depth = np.zeros(end - start, dtype=np.int64)
    for line in text.splitlines():
        _, position, value = line.split("\t")
        depth[int(position) - 1 - start] = int(value)
    return depth


def windows_equal_samtools(store, bam: str, windows: int, width: int, seed: int = 5) -> int:
    """How many of ``windows`` random windows of covered contigs equal samtools at every base
    (raises at the first that does not)."""
    rng = np.random.default_rng(seed)
    covered = sorted({int(key >> 32) for key in store.index.key})
    contigs = [store.contigs[i] for i in covered if store.contigs[i]["length"] > width]
    for _ in range(windows):
        contig = contigs[rng.integers(len(contigs))]
        start = int(rng.integers(0, contig["length"] - width))
        ours = store.values(contig["name"], start, start + width, ["all"])[:, 0]
        truth = samtools_window(bam, contig["name"], start, start + width)
        if not np.array_equal(ours, truth):
            raise AssertionError(f"{contig['name']}:{start}-{start + width} differs from samtools depth -a")
    return windows
