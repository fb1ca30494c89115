"""One headless Debian chromium (through Playwright) shared by the report tests; screenshots go to
test-artifacts/reports/ (ignored by git)."""

from __future__ import annotations

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


@pytest.fixture(scope="session")
def browser(chromium_browser):
    """The session's one Playwright chromium (tests/conftest.py)."""
    return chromium_browser


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, page errors and any network request."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.requests = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.artifacts = ARTIFACTS
    yield page
    context.close()
