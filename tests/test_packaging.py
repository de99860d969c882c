"""validators/ installs as sparkbam_py.validators, never as a bare top-level ``validators``.

Both installs go into throwaway locations (a --target folder, a fresh venv): installing
with --prefix would uninstall the package from the environment running the tests.
"""
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The package imports numpy and pyarrow: the probe borrows them from the running
# environment, appended after the install under test so that install is found first.
DEPENDENCIES = sysconfig.get_paths()["purelib"]
PROBE = (
    f"import site; site.addsitedir({DEPENDENCIES!r}); "
    "import importlib.util; "
    "spec = importlib.util.find_spec('sparkbam_py.validators'); "
    "bare = importlib.util.find_spec('validators'); "
    "print(spec.name, spec.origin, bare.origin if bare else None)"
)


def run(*command, cwd=None, env=None):
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=cwd, env=env)


@pytest.mark.slow
def test_regular_install(tmp_path):
    target = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(REPO))
    assert (target / "sparkbam_py" / "validators" / "__init__.py").is_file()
    assert not (target / "validators").exists()
    out = run(sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {PROBE}", cwd=tmp_path)
    name, origin, bare = out.stdout.split()
    assert name == "sparkbam_py.validators" and origin.startswith(str(target)) and bare == "None"


@pytest.mark.slow
def test_editable_install(tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    run(str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(REPO))
    name, origin, bare = run(str(python), "-c", PROBE, cwd=tmp_path).stdout.split()
    assert name == "sparkbam_py.validators"
    assert Path(origin) == REPO / "validators" / "__init__.py"
    assert bare == "None"
