"""One name per concept: ``backbone`` in configs and flags; the old ``tracker`` spellings still work,
say that they are deprecated, and never silently disagree with the new ones."""

from __future__ import annotations

import shutil
import warnings

import pytest
import yaml
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.config import ConfigError
from reasoningtrack.pipeline.config import BenchmarkConfig, TrackRunConfig


@pytest.fixture(scope="module")
def five_frames(shared_data, tmp_path_factory):
    """The first five Crossing frames with their ground truth (row 1 is the init box)."""
    source = shared_data / "sequences" / "Crossing"
    folder = tmp_path_factory.mktemp("crossing5")
    (folder / "img").mkdir()
    for image in sorted((source / "img").iterdir())[:5]:
        shutil.copy(image, folder / "img" / image.name)
    shutil.copy(source / "groundtruth_rect.txt", folder / "groundtruth_rect.txt")
    return folder / "img"


@pytest.mark.parametrize("cls", [TrackRunConfig, BenchmarkConfig])
def test_old_config_keys_load_with_a_deprecation_warning(cls):
    with pytest.warns(DeprecationWarning, match="'tracker' is deprecated; use 'backbone'"):
        config = cls.from_dict({"tracker": "kcf", "tracker_options": {"params": {"a": 1}}})
    assert (config.backbone, config.backbone_options) == ("kcf", {"params": {"a": 1}})
    assert "tracker" not in config.to_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cls.from_dict({"backbone": "mil"}).backbone == "mil"


def test_old_and_new_config_key_together_is_an_error():
    with pytest.raises(ConfigError, match="both 'tracker' \\(deprecated\\) and 'backbone'"):
        TrackRunConfig.from_dict({"tracker": "kcf", "backbone": "csrt"})


def test_deprecated_flags_still_work_and_say_so(five_frames, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["track", str(five_frames), "--tracker", "kcf", "--tracker-opt", "params.detect_thresh=0.4",
                                      "--reasoner", "none", "--no-video", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "--tracker is deprecated; use --backbone" in result.output
    assert "--tracker-opt is deprecated; use --backbone-opt" in result.output
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["backbone"] == "kcf" and saved["backbone_options"] == {"params": {"detect_thresh": 0.4}}
    assert "tracker" not in saved
    assert len((out / "boxes.txt").read_text().splitlines()) == 5


def test_new_flag_with_a_different_old_flag_is_a_usage_error(five_frames, tmp_path):
    result = CliRunner().invoke(app, ["track", str(five_frames), "--backbone", "kcf", "--tracker", "csrt", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "--backbone and its deprecated spelling --tracker are both given" in result.output


def test_help_shows_the_new_names_only():
    result = CliRunner().invoke(app, ["benchmark", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--backbone-opt" in result.output and "--backbone-config" in result.output
    assert "--tracker" not in result.output
