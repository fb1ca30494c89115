"""One tracking run from a video or folder to an output folder (what ``reasoningtrack track`` does),
and the helpers the benchmark runner shares with it (building components, finding a sequence's
ground truth)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import ConfigError
from .config import TrackRunConfig
from .results import FrameResult, RunSummary
from .tracker import ReasoningTracker
from .writers import AnnotatedVideoWriter, ReasoningLogWriter

__all__ = ["build_tracker", "find_groundtruth", "find_description", "track_to_folder", "TrackOutputs", "NO_REASONER"]

#: Reasoner name that tracks with the backbone alone (no reasoning calls at all).
NO_REASONER = "none"
GROUNDTRUTH_NAMES = ("groundtruth_rect.txt", "groundtruth.txt")
DESCRIPTION_NAMES = ("language.txt", "nlp.txt")


def build_tracker(tracker: str, tracker_options: dict, reasoner: str, reasoner_options: dict, pipeline) -> ReasoningTracker:
    """Build the backbone and the reasoner by registry name (options as given by the user)."""
    from ..reasoning import REASONERS
    from ..trackers import BACKBONES

    backbone = BACKBONES.build(tracker, **dict(tracker_options))
    if reasoner.lower() == NO_REASONER:
        if reasoner_options:
            raise ConfigError(f"reasoner 'none' takes no options, got {sorted(reasoner_options)}")
        return ReasoningTracker(backbone, None, pipeline)
    try:
        reasoning = REASONERS.build(reasoner, **dict(reasoner_options))
    except BaseException:
        backbone.close()
        raise
    return ReasoningTracker(backbone, reasoning, pipeline)


def _first_existing(folder: Path, names) -> Path | None:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def find_groundtruth(input_path: str | Path) -> Path | None:
    """The ground-truth file of a sequence folder: in the folder itself, or in its parent when the
    input is the sequence's image folder (OTB: ``Crossing/img`` -> ``Crossing/groundtruth_rect.txt``)."""
    path = Path(input_path)
    folder = path if path.is_dir() else path.parent
    return _first_existing(folder, GROUNDTRUTH_NAMES) or _first_existing(folder.parent, GROUNDTRUTH_NAMES)


def find_description(input_path: str | Path) -> Path | None:
    path = Path(input_path)
    folder = path if path.is_dir() else path.parent
    return _first_existing(folder, DESCRIPTION_NAMES) or _first_existing(folder.parent, DESCRIPTION_NAMES)


def first_groundtruth_box(path: Path) -> list[float]:
    from ..evaluation.results import read_boxes

    boxes = read_boxes(path)
    if len(boxes) == 0:
        raise ConfigError(f"{path}: no box on line 1 (expected x,y,w,h)")
    return [float(v) for v in boxes[0]]


@dataclass
class TrackOutputs:
    folder: Path
    boxes: Path
    reasoning: Path
    config: Path
    video: Path | None
    summary: RunSummary


def track_to_folder(
    config: TrackRunConfig,
    output: str | Path,
    on_frame: Callable[[FrameResult, int | None], None] | None = None,
) -> TrackOutputs:
    """Track ``config.input`` and write boxes.txt, reasoning.jsonl, config.yaml and video.mp4.

    ``on_frame(result, total_frames)`` is called after each frame (progress display).
    """
    from ..evaluation.results import write_boxes, write_text_atomic
    from ..sources import open_source

    if not config.input:
        raise ConfigError("no input: give a video file or an image folder")
    if config.box is None:
        raise ConfigError("no initial box: give --box x,y,w,h")
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    source = open_source(config.input)
    total = source.frame_count
    try:
        tracker = build_tracker(config.tracker, config.tracker_options, config.reasoner, config.reasoner_options, config.pipeline)
    except BaseException:
        source.close()
        raise
    write_text_atomic(folder / "config.yaml", config.to_yaml())
    video = AnnotatedVideoWriter(folder / "video.mp4", fps=source.fps, total_frames=total) if config.video else None
    boxes: list[np.ndarray] = []
    try:
        with ReasoningLogWriter(folder / "reasoning.jsonl") as log:
            run = tracker.run(source.frames(), config.box, config.text)
            for result in run:
                boxes.append(result.box)
                if result.event is not None:
                    log.write(result.event)
                if video is not None:
                    # The source yields the frame the result belongs to; keep the pair together.
                    video.write(run.last_frame, result)
                if on_frame is not None:
                    on_frame(result, total)
            for event in run.closing_events:
                log.write(event)
        if video is not None:
            video.close()
    except BaseException:
        if video is not None:
            video.abort()
        raise
    finally:
        tracker.close()
        source.close()
    write_boxes(folder / "boxes.txt", np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
    return TrackOutputs(
        folder=folder,
        boxes=folder / "boxes.txt",
        reasoning=folder / "reasoning.jsonl",
        config=folder / "config.yaml",
        video=folder / "video.mp4" if video is not None else None,
        summary=run.summary,
    )
