"""The file spark-submit runs: every ``sparkbam`` command as a Spark application.

spark-submit takes a Python file, not a module, so this file stands in for ``sparkbam``::

    SPARK_CONF_DIR=$PWD/conf spark-submit --conf spark.pyspark.python=$PWD/.venv/bin/python \\
        $(python -c 'import sparkbam_py.cli.launcher as l; print(l.__file__)') count-reads x.bam

Executors need the library too: installed on every node, or shipped with ``--py-files``
as an archive built by ``python -m sparkbam_py.cli.launcher --build-py-files OUT.zip``
(the package's own code only; numpy, pyarrow, pysam... must be installed on the nodes).
"""
from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path
from typing import Iterator, Tuple

BUILD_FLAG = "--build-py-files"
_HERE = Path(__file__).resolve().parent


def _drop_own_folder_from_path() -> None:
    # Run as a script, Python puts this file's folder first on sys.path, so the modules
    # beside it (main, common...) would also import as top-level names and could shadow others.
    sys.path[:] = [entry for entry in sys.path if not entry or Path(entry).resolve() != _HERE]


def _package_files() -> Iterator[Tuple[Path, str]]:
    """(file, name in the archive) for every module of the installed package, including
    ``sparkbam_py.validators``, which lives in its own source folder."""
    import sparkbam_py
    import sparkbam_py.validators

    roots = [(Path(p), "sparkbam_py") for p in sparkbam_py.__path__]
    roots += [(Path(p), "sparkbam_py/validators") for p in sparkbam_py.validators.__path__]
    for root, prefix in roots:
        for file in sorted(root.rglob("*.py")):
            relative = file.relative_to(root)
            if prefix == "sparkbam_py" and relative.parts[0] == "validators":
                continue  # a stray folder by that name; the real one is added from its own root
            yield file, f"{prefix}/{relative.as_posix()}"


def build_py_files(out_path: str) -> int:
    """Write the ``--py-files`` archive; returns how many modules it holds."""
    count = 0
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file, name in _package_files():
            archive.write(file, name)
            count += 1
    return count


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [BUILD_FLAG]:
        if len(argv) != 2:
            print(f"usage: python -m sparkbam_py.cli.launcher {BUILD_FLAG} OUT.zip", file=sys.stderr)
            return 2
        count = build_py_files(argv[1])
        print(f"Wrote {count} modules to {os.path.abspath(argv[1])}")
        return 0
    from sparkbam_py.cli.main import main as sparkbam_main

    return sparkbam_main(argv)


if __name__ == "__main__":
    _drop_own_folder_from_path()
    sys.exit(main())
