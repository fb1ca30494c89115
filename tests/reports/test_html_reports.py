"""The shipped quickstart experiment end to end on a synthetic sequence with the toy backbone,
and its self-contained HTML reports opened in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.datasets.synthetic import WorldConfig, generate_sequence, write_sequence
from reasoningtrack.reports import find_reports

SEQ = "synth-test-0009"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory) -> Path:
    """Sequence 9 of the seed-0 world (150 frames, 160x120): a purple triangle turns green at
    frame 78 next to a red look-alike. Only that sequence is written (the dataset lists it alone)."""
    root = tmp_path_factory.mktemp("world")
    config = WorldConfig(frames=150, width=160, height=120)
    write_sequence(generate_sequence(0, 9, "test", config, name=SEQ), root / "test" / SEQ)
    (root / "test.txt").write_text(SEQ + "\n")
    out = tmp_path_factory.mktemp("qs") / "exp"
    result = CliRunner().invoke(app, ["experiment", "quickstart", "--root", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_shipped_quickstart_runs_end_to_end_and_the_text_changes_the_backbone(quickstart):
    summary = json.loads((quickstart / "summary.json").read_text())
    rows = {r["name"]: r for r in summary["variants"]}
    assert list(rows) == ["reasoning-off", "reasoning-on"]
    assert rows["reasoning-off"]["reasoning"]["calls"] == 0
    assert rows["reasoning-on"]["reasoning"]["updates"] > 0
    for row in rows.values():
        assert set(row["metrics"]) == {"SR", "PR", "NPR"} and row["fps"] > 0
    # the toy backbone reads the text: after the colour change the stale text only half-matches
    # (score 0.5) while the reasoner's refreshed colour makes it match fully again (score 1)
    off = np.loadtxt(quickstart / "variants" / "reasoning-off" / "scores" / f"{SEQ}.txt")
    on = np.loadtxt(quickstart / "variants" / "reasoning-on" / "scores" / f"{SEQ}.txt")
    assert (off[:70][1:] == 1.0).all() and (on[:70][1:] == 1.0).all()
    assert (off[100:] == 0.5).all() and (on[100:] == 1.0).all()
    events = [json.loads(line) for line in (quickstart / "variants" / "reasoning-on" / "reasoning" / f"{SEQ}.jsonl").read_text().splitlines()]
    assert any("green" in (e["text_applied"] or "") for e in events if e["status"] == "updated")
    assert (quickstart / "plots" / "success.png").is_file() and (quickstart / "plots" / "sweep.png").is_file()
    assert find_reports(quickstart) == [quickstart / "report.html"]


def _check_report(page, path: Path, run_index: int, shot: str) -> str:
    """Open the report offline, check the table and charts, click a reasoning marker; returns the
    event panel's text. Saves a screenshot under test-artifacts/reports/."""
    page.goto(path.as_uri())
    page.wait_for_selector("#success .main-svg", timeout=30000)
    assert page.locator("#metrics tr.run").count() >= 1
    assert page.locator("#success .scatterlayer .trace").count() >= 1  # curves drawn
    page.select_option("#runsel", str(run_index))
    page.locator("tr.seq").first.click()
    page.wait_for_selector("#timeline .main-svg", timeout=30000)
    markers = page.locator("#timeline .scatterlayer .trace:last-child path.point")
    assert markers.count() >= 1
    marker = markers.nth(min(2, markers.count() - 1))
    marker.scroll_into_view_if_needed()
    box = marker.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_function("document.querySelector('#event .think') !== null", timeout=10000)
    text = page.inner_text("#event")
    assert page.locator("#event img").count() >= 1  # the frames the reasoner saw
    page.screenshot(path=str(page.artifacts / shot), full_page=True)
    assert page.errors == [] and page.requests == []
    return text


def test_experiment_report_opens_offline_and_a_marker_shows_the_think_text(quickstart, page):
    html = (quickstart / "report.html").read_text()
    assert not re.search(r"<script[^>]+src=", html)  # every script inline; requests are checked in the browser
    assert len(html) < 7_000_000
    text = _check_report(page, quickstart / "report.html", 1, "experiment-report.png")
    events = [json.loads(line) for line in (quickstart / "variants" / "reasoning-on" / "reasoning" / f"{SEQ}.jsonl").read_text().splitlines()]
    assert "think:" in text and any(e["think"][:60] in text for e in events)


def test_benchmark_report_of_a_variant_folder(quickstart, tmp_path, page):
    folder = tmp_path / "bench"
    shutil.copytree(quickstart / "variants" / "reasoning-on", folder)
    result = CliRunner().invoke(app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    text = _check_report(page, folder / "report.html", 0, "benchmark-report.png")
    assert "decision:" in text and "text after:" in text
