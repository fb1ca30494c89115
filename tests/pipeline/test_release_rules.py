"""The release's inference rules (issue 9, rules 1 and 2), each compared with a transcription of the
rule written here in plain Python: the motion gate through the real ``track`` command with the
``replay`` backbone, and the decision rule on constructed model outputs and reasoner errors."""

from __future__ import annotations

import json
import math
import re

import cv2
import numpy as np
import pytest
import yaml
from pipeline_fakes import ReplayBackbone, numbered_frames
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.pipeline import PipelineConfig, ReasoningTracker
from reasoningtrack.reasoning.base import Reasoner
from reasoningtrack.reasoning.parser import parse_with

HEIGHT, WIDTH, FRAMES = 64, 96, 95  # H/32 = 2 px, W/32 = 3 px; the last frame (94) is no check


# -- rule 1: the motion gate -------------------------------------------------------------------


def release_gate_calls(boxes: np.ndarray, height: int, width: int) -> list[int]:
    """The release's loop, step by step: after tracking frame f, a check when f is a multiple of 10
    sets a flag; the next track() call runs the VLM first (about frame f: the state it holds is
    frame f's box) and makes that box the new reference. Returns the frames the VLM looked at."""
    reference = boxes[0]
    flag = False
    looked_at = []
    for f in range(1, len(boxes)):
        if flag:  # start of track() for frame f: the VLM is called, the reference moves
            looked_at.append(f - 1)
            reference = boxes[f - 1]
        current = boxes[f]
        flag = False
        if f % 10 == 0:
            a_ref, a_cur = reference[2] * reference[3], current[2] * current[3]
            ratio = a_cur / a_ref if a_ref > a_cur else a_ref / a_cur
            corner_distance = math.sqrt((reference[0] - current[0]) ** 2 + (reference[1] - current[1]) ** 2)
            flag = ratio < 0.95 or corner_distance > height / 32 or corner_distance > width / 32
    return looked_at


def drifting() -> np.ndarray:
    """0.12 px per frame to the right: 1.2 px per check, never enough between two checks."""
    boxes = np.tile([30.0, 20.0, 20.0, 16.0], (FRAMES, 1))
    boxes[:, 0] += 0.12 * np.arange(FRAMES)
    return boxes


def diagonal() -> np.ndarray:
    """0.09 px per frame on both axes: after two checks 1.8 px per axis (under both limits) but
    2.55 px Euclidean (over H/32): only the Euclidean distance fires."""
    boxes = np.tile([30.0, 20.0, 20.0, 16.0], (FRAMES, 1))
    boxes[:, :2] += 0.09 * np.arange(FRAMES)[:, None]
    return boxes


def jumping() -> np.ndarray:
    """Still, a 5 px jump at frame 33 and back at frame 57, a 1.9 px nudge at frame 75."""
    boxes = np.tile([30.0, 20.0, 20.0, 16.0], (FRAMES, 1))
    boxes[33:57, 1] += 5.0
    boxes[75:, 0] += 1.9
    return boxes


def resizing() -> np.ndarray:
    """Width shrinking by 0.4% a frame: the area ratio falls below 0.95 about every 13 frames."""
    boxes = np.tile([30.0, 20.0, 20.0, 16.0], (FRAMES, 1))
    boxes[:, 2] *= 0.996 ** np.arange(FRAMES)
    return boxes


@pytest.fixture(scope="module")
def frame_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    for i, frame in enumerate(numbered_frames(FRAMES, HEIGHT, WIDTH)):
        cv2.imwrite(str(folder / f"{i + 1:05d}.png"), frame)
    return folder


def track_cli(args: list[str]):
    result = CliRunner().invoke(app, ["track", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("make", [drifting, diagonal, jumping, resizing])
def test_motion_gate_fires_where_the_release_calls_the_vlm(make, frame_folder, tmp_path):
    boxes = make()
    box_file = tmp_path / "boxes.txt"
    np.savetxt(box_file, boxes, delimiter=",", fmt="%.6f")
    out = tmp_path / "run"
    track_cli([str(frame_folder), "--box", ",".join(f"{v:.6f}" for v in boxes[0]), "--text", "a grey box",
               "--backbone", "replay", "--backbone-opt", f"boxes={box_file}", "--reasoner", "static",
               "--schedule", "motion", "--profile", "release", "--no-video", "-o", str(out)])
    events = [json.loads(line) for line in (out / "reasoning.jsonl").read_text().splitlines()]
    expected = release_gate_calls(boxes, HEIGHT, WIDTH)
    assert [e["frame"] for e in events] == expected
    assert 2 <= len(expected) <= 7  # each track exercises both outcomes of the gate
    assert all(e["applied_from"] == e["frame"] + 1 for e in events)  # new text from frame f + 1
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["profile"] == "release" and saved["pipeline"]["schedule"]["triggers"] == ["motion"]


def test_release_profile_alone_selects_the_gate_and_user_flags_win(frame_folder, tmp_path):
    boxes = drifting()
    box_file = tmp_path / "boxes.txt"
    np.savetxt(box_file, boxes, delimiter=",")
    common = [str(frame_folder), "--box", ",".join(map(str, boxes[0])), "--text", "a grey box", "--backbone", "replay",
              "--backbone-opt", f"boxes={box_file}", "--reasoner", "static", "--no-video"]
    track_cli(common + ["--profile", "release", "-o", str(tmp_path / "a")])
    events = (tmp_path / "a" / "reasoning.jsonl").read_text().splitlines()
    assert [json.loads(e)["frame"] for e in events] == release_gate_calls(boxes, HEIGHT, WIDTH)
    # an explicit flag beats the profile: the interval schedule every 30 frames
    track_cli(common + ["--profile", "release", "--schedule", "interval", "--interval", "30", "-o", str(tmp_path / "b")])
    events = (tmp_path / "b" / "reasoning.jsonl").read_text().splitlines()
    assert [json.loads(e)["frame"] for e in events] == [30, 60, 90]
    # the default profile (paper): every 100 frames, so none in 95 frames
    track_cli(common + ["-o", str(tmp_path / "c")])
    assert (tmp_path / "c" / "reasoning.jsonl").read_text() == ""
    assert yaml.safe_load((tmp_path / "c" / "config.yaml").read_text())["profile"] == "paper"


def test_replay_backbone_shorter_file_is_a_clear_error(frame_folder, tmp_path):
    box_file = tmp_path / "short.txt"
    np.savetxt(box_file, drifting()[:40], delimiter=",")
    result = CliRunner().invoke(app, ["track", str(frame_folder), "--box", "30,20,20,16", "--text", "a box", "--backbone", "replay",
                                      "--backbone-opt", f"boxes={box_file}", "--reasoner", "none", "--no-video",
                                      "-o", str(tmp_path / "run")])
    assert result.exit_code != 0
    assert f"{box_file}: 40 rows, but the video has a frame 41" in " ".join(result.output.split())
    bad = tmp_path / "bad.txt"
    bad.write_text("1,2,3,4\n1,2,three,4\n")
    result = CliRunner().invoke(app, ["track", str(frame_folder), "--box", "30,20,20,16", "--text", "a box", "--backbone", "replay",
                                      "--backbone-opt", f"boxes={bad}", "--reasoner", "none", "--no-video",
                                      "-o", str(tmp_path / "run2")])
    assert result.exit_code == 2 and f"{bad}:2" in " ".join(result.output.split())


# -- rule 2: the decision rule -----------------------------------------------------------------


INITIAL = "a grey box"
OUTPUTS = [
    "<think>it turned</think><d>yes</d><answer>a grey box turning left</answer>",  # yes: use the answer
    "<think>same</think><d>no</d><answer>a grey box</answer>",  # no: initial text
    "<think>moved</think><d>Yes</d><answer>a grey box at the top</answer>",  # Yes is not yes
    "<think>moved</think><d> yes </d><answer> a grey box at the top </answer>",  # stripped: yes
    "<think>moved</think><d>yes</d><answer></answer>",  # yes with an empty answer: the empty text
    "<think>moved</think><d>yes</d>",  # missing answer: the default, so no update
    "<think>moved</think><d>yes</d><answer>tracking the object</answer>",  # the default itself
    "<think>moved</think><answer>a grey box below</answer>",  # missing d: no
    "I cannot tell.",  # garbage
    "",  # empty output
    "<D>yes</D><ANSWER>upper-case tags</ANSWER>",  # the release's regexes are case-sensitive
    "<d>yes</d><answer>first</answer><answer>second</answer>",  # the first match wins
    "<d>yes\n</d><answer>two\nlines</answer>",  # dotall; strip only the ends
]


def release_decision(output: str, initial: str) -> str:
    """i2d.py in words: take the first <d>…</d> and <answer>…</answer> (stripped; defaults "no" and
    "tracking the object"); the answer is the new text only when d is exactly "yes" and the answer
    is not the default; in every other case the text is the initial description."""
    d = re.search(r"<d>(.*?)</d>", output, re.DOTALL)
    a = re.search(r"<answer>(.*?)</answer>", output, re.DOTALL)
    d = d.group(1).strip() if d else "no"
    a = a.group(1).strip() if a else "tracking the object"
    return a if d == "yes" and a != "tracking the object" else initial


class RawReasoner(Reasoner):
    """Answers call n with ``script[n]``: a raw model output read by the configured parser, or an
    exception to raise (a reasoner error)."""

    def __init__(self, script, parser="release"):
        self.script, self.parser, self.calls = list(script), parser, 0

    def reason(self, template, current, description, context=None):
        item = self.script[self.calls]
        self.calls += 1
        if isinstance(item, BaseException):
            raise item
        return parse_with(self.parser, item, description)


def run_script(script, **pipeline):
    count = 10 * len(script) + 2
    backbone = ReplayBackbone(np.tile([10.0, 10.0, 20.0, 20.0], (count, 1)))
    config = PipelineConfig.from_dict({"schedule": {"triggers": ["interval"], "interval": {"every": 10}}, **pipeline})
    results = list(ReasoningTracker(backbone, RawReasoner(script), config).run(numbered_frames(count), backbone.boxes[0], INITIAL))
    return results, backbone


def test_decision_rule_matches_the_release_on_every_kind_of_output():
    # each output follows a d=yes update, so that "revert" and "keep" differ visibly
    update = "<d>yes</d><answer>a grey box near the wall</answer>"
    script = [x for output in OUTPUTS for x in (update, output)]
    results, backbone = run_script(script)
    for k, output in enumerate(OUTPUTS):
        frame = 20 * k + 20
        event = results[frame].event
        expected = " ".join(release_decision(output, INITIAL).split())
        assert event.text_applied == expected, (output, event)
        assert backbone.texts_used[frame + 1] == expected  # the backbone tracks frame f+1 with it


def test_reasoner_errors_revert_to_the_initial_text_and_keep_is_ours():
    script = ["<think>moved</think><d>yes</d><answer>a grey box near the wall</answer>", RuntimeError("server down")]
    backbone = ReplayBackbone(np.tile([10.0, 10.0, 20.0, 20.0], (22, 1)))
    config = PipelineConfig.from_dict({"schedule": {"interval": {"every": 10}}})
    run = ReasoningTracker(backbone, RawReasoner(script), config).run(numbered_frames(22), backbone.boxes[0], INITIAL)
    results = list(run)
    assert results[20].event.status == "error" and results[20].event.text_applied == INITIAL
    assert backbone.texts_used[21] == INITIAL
    # the revert is a text change: counted, so that the summary agrees with the log
    assert (run.summary.errors, run.summary.updates, run.summary.reverts, run.summary.text_changes) == (1, 1, 1, 2)
    results, backbone = run_script(script, policy={"on_failure": "keep"})
    assert results[20].event.text_applied == "a grey box near the wall" == backbone.texts_used[21]


def test_paper_profile_is_the_dataclass_default():
    """Python users get the same rules as the command line's default profile."""
    from reasoningtrack.profiles import load_profile

    assert PipelineConfig() == PipelineConfig.from_dict(load_profile("paper")["pipeline"])
    release = PipelineConfig.from_dict(load_profile("release")["pipeline"])
    assert release.schedule.triggers == ["motion"] and release.schedule.motion.check_every == 10
    assert release.policy.kind == "initial" and release.policy.on_failure == "revert"


def test_every_profile_is_described_for_list_profiles():
    from reasoningtrack.profiles import ABOUT, PROFILES

    assert set(ABOUT) == set(PROFILES) and all(ABOUT[name].strip() for name in PROFILES)
