"""End to end in a real browser (Debian's chromium through Playwright): upload a clip made from a
real OTB sequence, drag the box, type the description, run csrt + heuristic, download the zip and
compare its boxes with what ``reasoningtrack track`` writes for the same box; a corrupt upload
must give a message in the page."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from demo_helpers import CLIP_FRAMES, CROSSING_BOX, CROSSING_TEXT, read_zip_run

def _drag(page, image_box, natural, start, end):
    """Drag from image pixel ``start`` to ``end`` (the image may be shown scaled)."""
    sx, sy = image_box["width"] / natural[0], image_box["height"] / natural[1]
    page.mouse.move(image_box["x"] + start[0] * sx, image_box["y"] + start[1] * sy)
    page.mouse.down()
    page.mouse.move(image_box["x"] + (start[0] + end[0]) / 2 * sx, image_box["y"] + (start[1] + end[1]) / 2 * sy, steps=4)
    page.mouse.move(image_box["x"] + end[0] * sx, image_box["y"] + end[1] * sy, steps=4)
    page.mouse.up()


def _box_value(page) -> list[float]:
    return [float(v) for v in page.locator("#rt-box textarea, #rt-box input").first.input_value().split(",")]


def test_browser_upload_draw_run_download_matches_track(demo_url, crossing_clip, chromium_browser, artifacts, track_boxes, tmp_path):
    from playwright.sync_api import expect

    url, server = demo_url
    context = chromium_browser.new_context(viewport={"width": 1500, "height": 1050}, accept_downloads=True)  # the session's one chromium (tests/conftest.py)
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.set_input_files("#rt-upload input[type=file]", str(crossing_clip))
        frame = page.locator("#rt-canvas img.rt-frame")
        expect(frame).to_be_visible(timeout=30_000)
        expect(page.locator("#rt-status")).to_contain_text("crossing40.mp4", timeout=10_000)
        shown = frame.bounding_box()

        # a first box somewhere else, then the real one: redrawing replaces it
        _drag(page, shown, (360, 240), (20, 20), (80, 90))
        expect(page.locator("#rt-canvas .rt-caption")).to_contain_text("20, 20", timeout=10_000)
        x, y, w, h = CROSSING_BOX
        _drag(page, shown, (360, 240), (x, y), (x + w, y + h))
        expect(page.locator("#rt-canvas .rt-caption")).to_contain_text(f"{x}", timeout=10_000)
        page.wait_for_function("parseFloat(document.querySelector('#rt-box textarea, #rt-box input').value) > 100", timeout=10_000)
        drawn = _box_value(page)
        assert np.abs(np.asarray(drawn) - np.asarray(CROSSING_BOX)).max() <= 1.5, drawn

        page.locator("#rt-text textarea").fill(CROSSING_TEXT)
        page.get_by_text("Options").click()
        interval = page.locator("#rt-interval input")
        interval.fill("10")
        interval.press("Tab")
        expect(interval).to_have_value("10")
        page.click("#rt-run")
        expect(page.locator("#rt-stats")).to_contain_text("frame", timeout=30_000)
        page.screenshot(path=str(artifacts / "demo-running.png"))
        expect(page.locator("#rt-status")).to_contain_text("done:", timeout=60_000)

        # The outputs of one update can reach the DOM a moment apart: wait for them (retrying
        # assertions) rather than counting once right after the status changed.
        expect(page.locator("#rt-events .rt-event")).to_have_count(3, timeout=10_000)  # interval 10 on 40 frames: 10, 20, 30
        expect(page.locator("#rt-events .rt-event img")).to_have_count(6, timeout=10_000)  # template + current per call
        expect(page.locator("#rt-timeline .rt-tl-mark")).to_have_count(3, timeout=10_000)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts / "demo-done.png"))
        page.screenshot(path=str(artifacts / "demo-done-full.png"), full_page=True)

        with page.expect_download(timeout=30_000) as download:
            page.locator("#rt-download a").first.click()
        zipped = tmp_path / "run.zip"
        download.value.save_as(zipped)

        # a corrupt upload: a message in the page, the server goes on
        broken = tmp_path / "broken.mp4"
        broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
        page.set_input_files("#rt-upload input[type=file]", str(broken))
        expect(page.locator("#rt-status")).to_contain_text("error", timeout=30_000)
        expect(page.locator("#rt-status")).to_contain_text("broken.mp4")
        page.screenshot(path=str(artifacts / "demo-corrupt-upload.png"))
    finally:
        context.close()

    run = read_zip_run(zipped, tmp_path / "unzipped")
    assert {p.name for p in run.iterdir()} == {"boxes.txt", "reasoning.jsonl", "config.yaml", "video.mp4"}
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["text"] == CROSSING_TEXT
    assert config["box"] == drawn
    demo_boxes = np.loadtxt(run / "boxes.txt", delimiter=",")
    assert demo_boxes.shape == (CLIP_FRAMES, 4)
    assert len((run / "reasoning.jsonl").read_text().splitlines()) == 3

    track = track_boxes(drawn)
    assert track.shape == demo_boxes.shape
    assert np.abs(track - demo_boxes).max() <= 1.0
    # the page builds the config `track` builds from the same choices (profile filled in alike)
    track_config = dict(track_boxes.configs[",".join(f"{v:g}" for v in drawn)])
    demo_config = dict(config)
    for key in ("input", "video"):
        track_config.pop(key), demo_config.pop(key)
    assert demo_config == track_config
