"""MkDocs hook: publishes ``bench/RESULTS.md`` and its figures in the site as ``bench/RESULTS.md``,
so the benchmarks page links the results themselves rather than a copy that would go stale."""
from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

SOURCE = "bench"
PUBLISHED = ("RESULTS.md", "figures")


def on_files(files, config):
    root = Path(config["config_file_path"]).parent / SOURCE
    for name in PUBLISHED:
        path = root / name
        for source in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if source.is_file():
                uri = f"{SOURCE}/{source.relative_to(root).as_posix()}"
                files.append(File(uri, str(root.parent), config["site_dir"], config["use_directory_urls"]))
    return files
