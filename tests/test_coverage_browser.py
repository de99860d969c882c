"""The page in a real headless Chromium: it draws a non-empty plot with no console error, and
panning fetches the new range.  Skipped when chromium or chromedriver is absent."""
from __future__ import annotations

import base64
import io
import shutil

import numpy as np
import pytest

pytest.importorskip("waitress")
pytest.importorskip("PIL")
from browser_support import CHROMEDRIVER, CHROMIUM, start_browser  # noqa: E402 (after the skip guards)
from browser_support import wait_until as wait_for  # noqa: E402 (after the skip guards)
from depth_fixtures.served_data import build_served_data  # noqa: E402 (after the skip guards)
from depth_fixtures.server import ServedApp  # noqa: E402 (after the skip guards)
from sparkbam_py.serve.app import create_app  # noqa: E402 (after the skip guards)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="chromium/chromedriver absent")]
WAIT_SECONDS = 30


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_browser(tmp_path_factory.mktemp("chromium-profile"), window_size="1100,700")
    yield driver
    driver.quit()


def wait_until(condition, what):
    return wait_for(condition, what, WAIT_SECONDS)


def canvas_pixels(driver, element_id):
    data_url = driver.execute_script(f"return document.getElementById('{element_id}').toDataURL('image/png')")
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGBA"))


def test_page_draws_coverage_and_pans(browser, tmp_path):
    bam, store = build_served_data(tmp_path)
    with ServedApp(create_app(str(store), [str(bam)])) as server:
        browser.get(server.url("/"))
        shown = wait_until(lambda: browser.execute_script("return document.body.dataset.shown"), "the first plot")
        assert shown == "chrA:0-20000"
        pixels = canvas_pixels(browser, "coverage")
        drawn = pixels[..., 3] > 0
        assert drawn.mean() > 0.05, "the coverage canvas is (nearly) empty"
        browser.find_element("id", "zoomin").click()
        wait_until(lambda: browser.execute_script("return document.body.dataset.shown") == "chrA:5000-15000", "zoom")
        wait_until(lambda: browser.execute_script("return document.body.dataset.reads"), "the reads of the window")
        browser.find_element("id", "right").click()
        wait_until(lambda: browser.execute_script("return document.body.dataset.shown") == "chrA:10000-20000", "pan")
        fetched = browser.execute_script("return window.sparkbamFetches")
        assert "/api/coverage/chrA?start=10000&end=20000&bins=1000" in fetched
        assert any(url.startswith("/api/reads/chrA?start=10000&end=20000") for url in fetched)
        browser.save_screenshot(str(tmp_path / "page.png"))
        shutil.copy(tmp_path / "page.png", tmp_path.parent / "coverage-page.png")
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
