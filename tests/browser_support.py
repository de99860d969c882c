"""For the genome-browser tests: the npm packages (installed once into a cache outside the repo),
headless Chromium, a static origin for the pages, a byte counter, and reference files."""
from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

NPM_PACKAGES = {"igv": "3.8.10", "pileup": "0.7.0"}
NPM_CACHE = Path(os.environ.get("SPARKBAM_NPM_CACHE", Path.home() / ".cache" / "sparkbam-npm"))
BUNDLES = {"igv": "igv/dist/igv.min.js", "pileup": "pileup/dist/pileup.min.js"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
WAIT_SECONDS = 60
FIGURES = Path(__file__).resolve().parents[1] / "bench" / "figures"


def npm_bundle(name: str) -> Path:
    """The package's browser bundle, installed from the npm registry on first use; a skip without npm."""
    bundle = NPM_CACHE / "node_modules" / BUNDLES[name]
    if bundle.is_file():
        return bundle
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is absent: cannot install the genome browsers")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    if not (NPM_CACHE / "package.json").is_file():
        (NPM_CACHE / "package.json").write_text('{"private": true}\n')
    specs = [f"{package}@{version}" for package, version in NPM_PACKAGES.items()]
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(NPM_CACHE), *specs],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not bundle.is_file():
        pytest.skip(f"npm install of {', '.join(specs)} failed: {done.stderr[-300:]}")
    return bundle


def start_browser(profile: Path, window_size: str = "1400,900"):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium/chromedriver absent")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--window-size={window_size}", f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)


def wait_until(condition, what: str, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class ByteCounter:
    """WSGI middleware summing the response bytes sent per path (what a browser downloaded)."""

    def __init__(self, app):
        self.app = app
        self.sent = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for chunk in self.app(environ, start_response):
            self.sent[path] = self.sent.get(path, 0) + len(chunk)
            yield chunk

    def total(self, suffix: str) -> int:
        return sum(n for path, n in self.sent.items() if path.endswith(suffix))


def write_fasta(path: Path, references, seed: int = 5) -> None:
    """Random bases for each reference, faidx-indexed (igv.js reads it by Range)."""
    import pysam

    rng = random.Random(seed)
    with open(path, "w") as out:
        for name, length in references:
            out.write(f">{name}\n")
            bases = "".join(rng.choice("ACGT") for _ in range(length))
            out.writelines(bases[i:i + 60] + "\n" for i in range(0, length, 60))
    pysam.faidx(str(path))


def write_two_bit(path: Path, sequences) -> None:
    """A UCSC .2bit (header, index, then per sequence: sizes and 2-bit packed bases, T=0 C=1 A=2 G=3)."""
    code = {"T": 0, "C": 1, "A": 2, "G": 3}
    header = struct.pack("<IIII", 0x1A412743, 0, len(sequences), 0)
    index_size = sum(1 + len(name) + 4 for name, _ in sequences)
    records, offsets, at = [], [], len(header) + index_size
    for _, bases in sequences:
        packed = bytearray()
        for i in range(0, len(bases), 4):
            four = bases[i:i + 4].ljust(4, "T")
            packed.append((code[four[0]] << 6) | (code[four[1]] << 4) | (code[four[2]] << 2) | code[four[3]])
        record = struct.pack("<IIII", len(bases), 0, 0, 0) + bytes(packed)
        offsets.append(at)
        records.append(record)
        at += len(record)
    index = b"".join(bytes([len(name)]) + name.encode() + struct.pack("<I", offset)
                     for (name, _), offset in zip(sequences, offsets))
    path.write_bytes(header + index + b"".join(records))
