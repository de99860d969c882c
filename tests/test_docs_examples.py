"""Every code example of the README and ``docs/`` runs, against small generated files.

Each fenced ``python`` or ``sh`` block is one test. :mod:`docs_runner` runs them all, in page
order, in a process of its own (its own Spark session, environment and folder; see there),
and each test reports its block's result. A page's Python blocks share one namespace (later
blocks use what earlier ones made); all run in one folder holding the example files
(``sample.bam``, ``sample.cram``, ``calls.vcf.gz``... see :mod:`docs_data`), so pages write
outputs of distinct names; ``s3://bucket/...`` is a moto S3 server on loopback whose
credentials and endpoint are in the environment, as on a cluster. Names the examples may use
without defining them: ``spark`` (a local session), and ``endpoint``, ``key``, ``secret``
(the S3 server's). Shell blocks run in bash; ``sparkbam`` commands run in the runner on the
same session (:mod:`docs_support`). A block after ``<!-- not run: REASON -->`` is skipped with
that reason; ``-ra`` lists them.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from docs_layers import TESTING, circles, imports, layers, unit
from docs_support import ROOT, Block, blocks_of, documented_pages

BLOCKS = [block for page in documented_pages() for block in blocks_of(page)]
# The imports between two packages of one layer that docs/architecture.md allows besides layer 0's:
# (importer, imported), a module or a whole package.
SIDEWAYS = {("bam.splits", "validators"), ("validators", "bam")}
MAX_NOT_RUN = 8  # blocks that cannot run here (a Connect server, spark-submit, a remote host, installs), each run by a named test
RUNNER_SECONDS = 1500


@pytest.fixture(scope="module")
def results(request, tmp_path_factory):
    """Every selected block's result, from one run of :mod:`docs_runner` over their pages."""
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    selected = [item.callspec.params["block"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_example_runs"]
    report = tmp_path_factory.mktemp("docs") / "report.json"
    pages = sorted({block.page for block in selected})
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "docs_runner.py"), str(report), *pages],
                          capture_output=True, text=True, timeout=RUNNER_SECONDS)
    assert done.returncode == 0, f"the examples' runner failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return json.loads(report.read_text())


@pytest.mark.spark
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_example_runs(block: Block, results):
    result = results[block.id]
    print(f"{result.get('seconds', 0)} s of the runner's {results['total seconds']} s\n{result.get('output', '')}")
    if result["status"] == "skipped":
        pytest.skip(result["reason"])
    assert result["status"] == "passed", f"{block.id}:\n{result['error']}"


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


def test_imports_follow_the_architecture_pages_layers():
    table = layers()
    edges = set(imports())
    ours = {(source, target) for source, target in edges if target.startswith("sparkbam_py")}
    found = circles(ours)
    assert found == [], f"import circles (docs/architecture.md allows none): {found}"
    unmapped = sorted({unit(name) for edge in ours for name in edge} - set(table))
    assert unmapped == [], f"add these to the layer table of docs/architecture.md: {unmapped}"

    def named(module, rule):  # "bam.splits" names sparkbam_py.bam.splits; "validators" all of it
        return (module + ".").startswith(f"sparkbam_py.{rule}.")

    wrong = []
    for source, target in sorted(ours):
        above, below = table[unit(source)], table[unit(target)]
        if unit(source) == unit(target) or above == TESTING:
            continue
        if below == TESTING:
            wrong.append(f"{source} imports {target}: only tests and bench/ import testing/")
        elif below >= above and above != table["__init__"] and not below == above == table["errors"] and not any(
                named(source, a) and named(target, b) for a, b in SIDEWAYS):
            wrong.append(f"{source} (layer {above}) imports {target} (layer {below})")
    spark_layers = {table["spark"], table["cli"]}
    wrong += [f"{source} imports {target}: only spark/ and cli/ import pyspark" for source, target in sorted(edges)
              if target.split(".")[0] == "pyspark" and table[unit(source)] not in spark_layers]
    assert wrong == [], "imports against docs/architecture.md's layers:\n" + "\n".join(wrong)


def test_the_api_reference_documents_every_public_name():
    import sparkbam_py

    documented = set(re.findall(r"^::: sparkbam_py\.(\w+)$", (ROOT / "docs" / "api.md").read_text(), flags=re.M))
    missing = sorted(set(sparkbam_py.__all__) - documented - {"__version__"})
    assert missing == [], f"add these to docs/api.md (::: sparkbam_py.NAME): {missing}"
