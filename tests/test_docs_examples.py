"""Every code example of the README and ``docs/`` runs, against small generated files.

Each fenced ``python`` or ``sh`` block is one test, run in page order: a page's Python blocks
share one namespace (later blocks use what earlier ones made). All run in one working folder
holding the example files (``sample.bam``, ``sample.cram``, ``calls.vcf.gz``... see
:mod:`docs_data`), which is also the Spark executors' (so relative paths mean the same on both
sides, as when a job is started from that folder): pages write outputs of distinct names. And ``s3://bucket/...`` is a moto S3 server on loopback whose credentials
and endpoint are in the environment, as on a cluster. Names the examples may use without
defining them: ``spark`` (a local session), and ``endpoint``, ``key``, ``secret`` (the S3
server's). Shell blocks run in bash; ``sparkbam`` commands run in this process on the same
session (:mod:`docs_support`). A block after ``<!-- not run: REASON -->`` is skipped with
that reason; ``-ra`` lists them.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Set

import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

from docs_data import BUCKET, make_example_files  # noqa: E402
from docs_support import (ROOT, Block, CliServer, blocks_of, documented_pages,  # noqa: E402
                          environment_and_folder, install_shims, shell_environment, short_temp_folder)
from spark.engines import activate, stop_running  # noqa: E402
from sparkbam_py.testing.moto_s3 import MotoS3  # noqa: E402

BLOCKS = [block for page in documented_pages() for block in blocks_of(page)]
MAX_NOT_RUN = 6  # blocks that cannot run here (a Connect server, spark-submit, a remote host)
SHELL_SECONDS = 600


class Examples:
    """The state examples share: files, the Spark session, one namespace and folder per page."""

    def __init__(self, folder: Path, spark, s3: MotoS3, shell_env: Dict[str, str]):
        self.folder, self.spark, self.s3, self.shell_env = folder, spark, s3, shell_env
        self.namespaces: Dict[str, dict] = {}
        self.failed: Set[str] = set()

    def namespace_of(self, page: str) -> dict:
        options = self.s3.storage_options
        return self.namespaces.setdefault(page, {
            "__name__": "__main__", "spark": self.spark,
            "endpoint": options["endpoint_url"], "key": options["key"], "secret": options["secret"]})


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    data = tmp_path_factory.mktemp("docs-data")
    scratch = tmp_path_factory.mktemp("docs-scratch")
    keys = make_example_files(data)
    socket_folder = short_temp_folder()
    with MotoS3() as s3:
        s3.create_bucket(BUCKET)
        for key, name in keys.items():
            s3.upload(BUCKET, key, data / name)
        # htslib must never fetch a reference from the network: only the @SQ UR files.
        environment = dict(s3.environment, SPARKBAM_REF_CACHE=str(scratch / "references"),
                           REF_PATH=str(scratch / "no-ref-path" / "%s"), REF_CACHE=str(scratch / "no-ref-cache" / "%s"))
        with environment_and_folder(environment, data):
            stop_running()  # the JVM, and the Python workers it starts, must see this environment and folder
            try:
                spark = activate("local").spark
                with CliServer(socket_folder) as cli:
                    shell_env = shell_environment(install_shims(scratch), cli)
                    yield Examples(data, spark, s3, shell_env)
            finally:
                stop_running()  # no later test gets a JVM pointed at this S3 server and folder
                shutil.rmtree(socket_folder, ignore_errors=True)


@pytest.mark.spark
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_example_runs(block: Block, examples: Examples, monkeypatch):
    if block.not_run:
        pytest.skip(f"not run: {block.not_run}")
    if block.page in examples.failed:
        pytest.skip(f"an earlier example of {block.page} failed")
    monkeypatch.chdir(examples.folder)  # where the fixture put it, even if a test moved away
    try:
        if block.language == "python":
            exec(compile(block.code, block.id, "exec"), examples.namespace_of(block.page))
        else:
            run_shell(block, examples.folder, examples.shell_env)
    except BaseException:
        examples.failed.add(block.page)
        raise


def run_shell(block: Block, folder: Path, env: Dict[str, str]) -> None:
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=SHELL_SECONDS)
    print(done.stdout)
    assert done.returncode == 0, (f"{block.id} exited with {done.returncode}\n--- stdout\n{done.stdout[-3000:]}"
                                  f"\n--- stderr\n{done.stderr[-3000:]}")


def test_examples_not_run_are_few_and_say_why():
    not_run = [block for block in BLOCKS if block.not_run is not None]
    listing = "\n".join(f"{block.id}: {block.not_run}" for block in not_run)
    assert all(block.not_run for block in not_run), listing
    assert len(not_run) <= MAX_NOT_RUN, f"{len(not_run)} examples are not run:\n{listing}"
    assert len(BLOCKS) - len(not_run) >= 30, "the pages lost their examples"


def test_every_page_is_in_the_site_navigation():
    config = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r"([\w./-]+\.md)\s*$", config, flags=re.M))
    pages = {path.relative_to(ROOT / "docs").as_posix() for path in (ROOT / "docs").glob("*.md")}
    assert pages - listed == set(), "pages missing from mkdocs.yml's nav"
    published = {name for name in listed - pages if (ROOT / name).is_file()}  # docs/hooks/bench_results.py
    assert listed - pages - published == set(), "mkdocs.yml's nav names pages that do not exist"


def test_the_architecture_page_maps_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    module_map = page[page.index("## Module map"):]
    modules = [path.relative_to(ROOT / "sparkbam_py").as_posix() for path in (ROOT / "sparkbam_py").rglob("*.py")]
    modules += [path.relative_to(ROOT).as_posix() for path in (ROOT / "validators").glob("*.py")]
    missing = [name for name in modules
               if Path(name).name not in ("__init__.py", "__main__.py") and f"- `{name}`:" not in module_map]
    assert missing == [], f"add these modules to docs/architecture.md's module map: {missing}"
