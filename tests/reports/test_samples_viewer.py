"""`data show`: the chain-of-thought sample viewer on the release's 997 SFT samples and on a built
sample folder with frames, opened in headless chromium."""

from __future__ import annotations

from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.reports.samples import load_sample_rows


def test_release_samples_counts_and_the_backbone_window(shared_data, tmp_path):
    sft = shared_data / "reasoningtrack-release" / "sft"
    rows = load_sample_rows(sft)
    assert len(rows) == 997
    assert sum(r["d"] == "yes" for r in rows) == 700  # the release README: about 70% d=yes
    assert sum(not r["format_ok"] for r in rows) == 1  # the release README: one sample breaks the format
    vocab = shared_data / "dutrack-reference" / "vocab-bert-base-uncased.txt"
    out = tmp_path / "sft.html"
    result = CliRunner().invoke(app, ["data", "show", str(sft), "-o", str(out), "--vocab", str(vocab)])
    assert result.exit_code == 0, result.output
    assert "997 samples, d=yes 700, d=no 297, format failures 1, cut answers" in result.output
    cut = int(result.output.split("cut answers ")[1].split()[0])
    assert 0 < cut < 997


def test_release_viewer_filters_in_a_browser(shared_data, tmp_path, page):
    from reasoningtrack.reports.samples import write_sample_viewer

    sft = shared_data / "reasoningtrack-release" / "sft"
    vocab = shared_data / "dutrack-reference" / "vocab-bert-base-uncased.txt"
    out = tmp_path / "sft.html"
    _, counts = write_sample_viewer(sft, out, str(vocab))
    page.goto(out.as_uri())
    assert page.inner_text("#shown") == "997 shown"
    page.select_option("#fd", "no")
    assert page.inner_text("#shown") == "297 shown"
    page.select_option("#fd", "")
    page.check("#ff")
    assert page.inner_text("#shown") == "1 shown"
    assert "format failure" in page.inner_text("#list")
    page.uncheck("#ff")
    page.check("#fc")
    assert page.inner_text("#shown") == f"{counts['cut_answers']} shown"
    assert "cut at 14" in page.inner_text("#list")
    page.select_option("#fs", "OTB")
    assert int(page.inner_text("#shown").split()[0]) <= 200
    page.screenshot(path=str(page.artifacts / "samples-release.png"))
    assert page.errors == [] and page.requests == []


def test_built_samples_show_both_frames_with_boxes_and_labels(tmp_path):
    from reasoningtrack.training.toy import write_toy_samples

    folder = write_toy_samples(tmp_path / "toy", 6, 0)
    rows = load_sample_rows(folder)
    assert len(rows) == 6
    for row in rows:
        assert len(row["frames"]) == 2 and all(f.startswith("data:image/jpeg;base64,") for f in row["frames"])
        assert "iou_old" in row["labels"] and row["description"]
        assert row["d"] in ("yes", "no") and row["format_ok"] is True
    capped = load_sample_rows(folder, max_images=2)
    assert [len(r["frames"]) for r in capped] == [2, 2, 0, 0, 0, 0]
    result = CliRunner().invoke(app, ["data", "show", str(tmp_path / "missing"), "-o", str(tmp_path / "x.html")])
    assert result.exit_code == 2 and "expected a sample folder" in result.output
