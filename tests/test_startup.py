"""Start-up: a cheap ``import sparkbam_py``, numba only for inputs that repay it, and a kernel
cache that read-only installs can use."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sparkbam_py import kernel_cache, kernels
from sparkbam_py.errors import ConfigError

pytest.importorskip("numba")


def run_python(script: str, **env) -> dict:
    """Run ``script`` in a fresh interpreter; it prints one JSON object."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SPARKBAM_KERNELS")}
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


HEAVY = ("numba", "pyarrow", "pyspark", "pandas", "fsspec", "pysam")


def test_importing_the_package_imports_nothing_heavy():
    loaded = run_python("import sys, json, sparkbam_py\n"
                        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))")
    assert loaded == []


def test_public_names_resolve_on_first_use():
    names = run_python(
        "import json, sparkbam_py as sb\n"
        "import sparkbam_py.convert.commit  # the subpackage named like the function\n"
        "print(json.dumps([sb.convert.__module__, sb.read_table.__module__, sb.Split.__name__,"
        " sorted(set(sb.__all__) - set(dir(sb)))]))")
    assert names == ["sparkbam_py.spark.convert", "sparkbam_py.local.reader", "Split", []]
    import sparkbam_py

    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        sparkbam_py.no_such_name  # noqa: B018


READ_TINY = (
    "import sys, json, hashlib, sparkbam_py\n"
    "table = sparkbam_py.read_table({path!r})\n"
    "digest = hashlib.sha256(table.to_pandas().to_json().encode()).hexdigest()\n"
    "print(json.dumps({{'numba': 'numba' in sys.modules, 'rows': table.num_rows, 'digest': digest}}))"
)


@pytest.fixture(scope="module")
def tiny_bam(bam_fixtures):
    path = str(bam_fixtures["short_reads.htsjdk"].path)
    assert os.path.getsize(path) < kernels.DEFAULT_MIN_INPUT_BYTES
    return path


def test_a_small_input_is_read_without_loading_numba(tiny_bam):
    small = run_python(READ_TINY.format(path=tiny_bam))
    forced = run_python(READ_TINY.format(path=tiny_bam), SPARKBAM_KERNELS_MIN_BYTES="0")
    assert not small["numba"] and forced["numba"]
    assert small["rows"] == forced["rows"] and small["digest"] == forced["digest"]


HEADER_THEN_LINES = (
    "import sys, json\n"
    "from sparkbam_py.text.read import iter_unit_lines, plan_units, read_file_header\n"
    "header = read_file_header({path!r})\n"
    "from sparkbam_py import kernels\n"
    "after_header, declared = 'numba' in sys.modules, kernels._declared\n"
    "lines = sum(len(lines) for unit in plan_units([{path!r}]) for _, lines in iter_unit_lines(unit, header))\n"
    "print(json.dumps({{'after_header': after_header, 'declared': declared, 'after_lines': 'numba' in sys.modules,"
    " 'header': len(header.lines), 'lines': lines}}))"
)


def test_a_header_read_declares_no_input(tmp_path):
    """Reading a header opens the file's first split but stops at its first data line: it
    must not load numba (the driver of a write, a data source's schema), nor count as input
    declared (a process that then formats lines without reading any still compiles), while
    reading the lines, past the threshold, does load it."""
    from write_text_support import make_vcf

    path = make_vcf(tmp_path / "in.vcf.gz", 2000)
    assert os.path.getsize(path) > 1024
    seen = run_python(HEADER_THEN_LINES.format(path=str(path)), SPARKBAM_KERNELS_MIN_BYTES="1k")
    assert not seen["after_header"] and seen["declared"] is None and seen["after_lines"]
    assert seen["header"] > 0 and seen["lines"] == 2000


def test_the_threshold_counts_every_input_of_the_process(monkeypatch):
    monkeypatch.delenv(kernels.KERNELS_ENV, raising=False)
    monkeypatch.setenv(kernels.MIN_BYTES_ENV, "1k")
    monkeypatch.setattr(kernels, "_declared", None)
    monkeypatch.setattr(kernels, "_numba_njit", _never_loaded(kernels._numba_njit))
    assert kernels.use_compiled()  # nothing declared: a direct call compiles, as before
    kernels.note_input(600)
    assert not kernels.use_compiled()
    kernels.note_input(600)  # 1,200 bytes declared in all: loading now pays
    assert kernels.use_compiled()


def _never_loaded(real):
    """``_numba_njit`` as if numba had not been loaded in this process yet."""

    def njit():
        return real()

    njit.cache_info = lambda: real.cache_info()._replace(currsize=0)
    return njit


@pytest.mark.parametrize("setting", ["lots", "-1", "1x"])
def test_a_bad_threshold_is_a_config_error(monkeypatch, setting):
    monkeypatch.setenv(kernels.MIN_BYTES_ENV, setting)
    with pytest.raises(ConfigError, match=kernels.MIN_BYTES_ENV):
        kernels.min_input_bytes()


def test_a_read_only_install_caches_in_a_seeded_user_folder(tmp_path, monkeypatch):
    package = tmp_path / "site" / "sparkbam_py"
    shipped = package / "bam" / "__pycache__"
    shipped.mkdir(parents=True)
    (shipped / "walk.chain_kernel-98.py311.nbi").write_bytes(b"index")
    (shipped / "walk.chain_kernel-98.py311.1.nbc").write_bytes(b"code")
    (shipped / "walk.cpython-311.pyc").write_bytes(b"not a kernel")
    user_cache = tmp_path / "home-cache"
    monkeypatch.setattr(kernel_cache, "PACKAGE_DIR", str(package))
    monkeypatch.setattr(kernel_cache, "_fallback_dirs", lambda: iter([str(tmp_path / "unwritable"), str(user_cache)]))
    monkeypatch.setattr(kernel_cache, "_writable", lambda folder: str(tmp_path / "home-cache") in folder)
    monkeypatch.delenv(kernel_cache.CACHE_DIR_ENV, raising=False)

    assert kernel_cache.prepare_cache() == str(user_cache)
    assert os.environ[kernel_cache.CACHE_DIR_ENV] == str(user_cache)
    target = user_cache / kernel_cache.cache_subfolder(str(package / "bam"))
    assert sorted(os.listdir(target)) == ["walk.chain_kernel-98.py311.1.nbc", "walk.chain_kernel-98.py311.nbi"]
    assert (target / "walk.chain_kernel-98.py311.nbi").read_bytes() == b"index"
    assert kernel_cache.seed(str(user_cache)) == 0  # already there, not older
    os.utime(shipped / "walk.chain_kernel-98.py311.nbi", (2e9, 2e9))  # a newer shipped index
    assert kernel_cache.seed(str(user_cache)) == 1


def test_a_cache_folder_the_user_chose_is_kept_and_seeded(tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"
    monkeypatch.setenv(kernel_cache.CACHE_DIR_ENV, str(chosen))
    monkeypatch.setattr(kernel_cache, "seed", lambda folder: 0)
    assert kernel_cache.prepare_cache() == str(chosen)


def test_a_writable_install_keeps_numba_s_default(monkeypatch):
    monkeypatch.delenv(kernel_cache.CACHE_DIR_ENV, raising=False)
    monkeypatch.setattr(kernel_cache, "_writable", lambda folder: True)
    assert kernel_cache.prepare_cache() is None
    assert kernel_cache.CACHE_DIR_ENV not in os.environ


def test_compile_kernels_runs_every_compiled_path(capsys):
    from sparkbam_py.cli.main import main

    before = os.environ.get(kernels.KERNELS_ENV)
    assert main(["compile-kernels", "--json"]) == 0
    assert os.environ.get(kernels.KERNELS_ENV) == before  # forced on only while it ran
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == {"bam": 3000, "bam_count": 3000, "text_lines": 20000, "text_arrow": 20000, "cram": 3000}
    assert report["files"] > 0 and os.path.isdir(report["cache"])


def test_a_command_imports_only_its_own_module():
    """``sparkbam index-records`` reads no other command module (discovering them all costs
    more than the command on a small file); an unknown or absent name lists every command."""
    code = ("import sys\nfrom sparkbam_py.cli.main import build_parser, named_command\n"
            "assert named_command(['index-records', 'x.bam']).name == 'index-records'\n"
            "assert named_command(['index_records']) is None and named_command(['--help']) is None\n"
            "print(sorted(m for m in sys.modules if m.startswith('sparkbam_py.cli.')))\n"
            "assert build_parser(['index-records', 'x.bam']).parse_args(['index-records', 'x.bam']).bam == 'x.bam'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['sparkbam_py.cli.common', 'sparkbam_py.cli.index_records', 'sparkbam_py.cli.main']"
    from sparkbam_py.cli.main import build_parser

    with pytest.raises(SystemExit):
        build_parser(["no-such-command"]).parse_args(["no-such-command"])
