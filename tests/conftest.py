"""Shared test fixtures.

Tests that need the real data in ``../shared/data`` (beside the clone) use the ``shared_data``
fixture: without it they skip with a reason, except under ``CI=true`` where missing data fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_root() -> Path:
    env = os.environ.get("REASONINGTRACK_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = _shared_root()
    if not root.is_dir():
        msg = f"shared test data not found at {root} (set REASONINGTRACK_SHARED_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " -- required under CI=true")
        pytest.skip(msg)
    return root


@pytest.fixture(scope="session", autouse=True)
def _isolated_table_cache(tmp_path_factory):
    """The parsed-table cache (reasoningtrack.tablecache) of this test session lives in its own
    temporary folder, for in-process calls and for CLI subprocesses alike, so tests never read
    or fill the user's cache."""
    previous = os.environ.get("REASONINGTRACK_CACHE_DIR")
    os.environ["REASONINGTRACK_CACHE_DIR"] = str(tmp_path_factory.mktemp("table-cache"))
    yield
    if previous is None:
        os.environ.pop("REASONINGTRACK_CACHE_DIR", None)
    else:
        os.environ["REASONINGTRACK_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("session")


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    """Built through the real CLI command (`reasoningtrack dev tiny-vlm DIR`), once per session
    (the reasoner, pipeline and training tests share it)."""
    from typer.testing import CliRunner

    from reasoningtrack.cli import app

    out = tmp_path_factory.mktemp("tiny-qwen") / "model"
    result = CliRunner().invoke(app, ["dev", "tiny-vlm", str(out), "--seed", "0"])
    assert result.exit_code == 0, result.output
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    return out


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium_browser():
    """One headless Debian chromium driven by Playwright's sync API for the whole session.

    One instance only: Playwright's sync API runs an event loop in the main thread while it is
    open, so a second ``sync_playwright()`` started while another is alive (the report tests and
    the demo test, in random order) fails with "using Playwright Sync API inside the asyncio loop".
    Skips without chromium, except under ``CI=true`` (``.ci/run`` installs it)."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it with apt-get)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " -- required under CI=true")
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()

