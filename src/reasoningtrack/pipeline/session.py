"""One tracking run from a video or folder to an output folder (what ``reasoningtrack track`` does),
and the helpers the benchmark runner shares with it (building components, finding a sequence's
ground truth)."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import ConfigError
from ..fileio import replace_folder
from ..sequence_files import DESCRIPTION_NAMES, GROUND_TRUTH_NAMES, first_existing
from ..specs import NO_REASONER, BackboneSpec, ReasonerSpec
from .config import TrackRunConfig
from .results import FrameResult, RunSummary
from .tracker import ReasoningTracker
from .writers import AnnotatedVideoWriter, ReasoningLogWriter

__all__ = ["build_tracker", "find_groundtruth", "find_description", "track_to_folder", "TrackOutputs", "NO_REASONER",
           "check_output_path", "check_output_folder", "TRACK_FILES"]

def build_tracker(backbone: BackboneSpec, reasoner: ReasonerSpec, pipeline, shared_reasoner=None) -> ReasoningTracker:
    """Build the backbone and the reasoner (``reasoner`` ``none``: the backbone alone).

    ``shared_reasoner``: a reasoner built elsewhere (a client of a shared reasoning service, see
    reasoning/service.py), used instead of building ``reasoner`` here."""
    if shared_reasoner is not None and not reasoner.is_none:
        return ReasoningTracker(backbone.build(), shared_reasoner, pipeline)
    if reasoner.is_none:
        reasoner.build()  # checks that 'none' got no options
        return ReasoningTracker(backbone.build(), None, pipeline)
    built = backbone.build()
    try:
        reasoning = reasoner.build()
    except BaseException:
        built.close()
        raise
    return ReasoningTracker(built, reasoning, pipeline)


#: Option names whose value is a file or folder (a bare relative name such as ``tiny-vlm`` too).
PATH_OPTIONS = frozenset({"checkpoint", "config", "model", "adapter", "vocab", "vocab_file", "boxes", "split_file", "annos_dir"})


def absolute_paths(options: dict) -> dict:
    """``options`` with relative paths to existing files or folders made absolute, so that a saved
    config means the same files from any folder. A value counts as a path when its key is in
    :data:`PATH_OPTIONS` or it looks like one (a ``/`` or a file suffix), so that a preset name such
    as ``prompt: release`` stays a name even beside a folder called ``release``; hub ids such as
    ``Qwen/Qwen2.5-VL-3B-Instruct`` stay as they are unless such a folder exists."""
    out = {}
    for key, value in options.items():
        if (isinstance(value, str) and value and not os.path.isabs(value) and "://" not in value
                and (key in PATH_OPTIONS or "/" in value or Path(value).suffix) and os.path.exists(value)):
            value = str(Path(value).resolve())
        out[key] = value
    return out


def find_groundtruth(input_path: str | Path) -> Path | None:
    """The ground-truth file of a sequence folder: in the folder itself, or in its parent when the
    input is the sequence's image folder (OTB: ``Crossing/img`` -> ``Crossing/groundtruth_rect.txt``)."""
    path = Path(input_path)
    folder = path if path.is_dir() else path.parent
    return first_existing(folder, GROUND_TRUTH_NAMES) or first_existing(folder.parent, GROUND_TRUTH_NAMES)


def find_description(input_path: str | Path) -> Path | None:
    path = Path(input_path)
    folder = path if path.is_dir() else path.parent
    return first_existing(folder, DESCRIPTION_NAMES) or first_existing(folder.parent, DESCRIPTION_NAMES)


def first_groundtruth_box(path: Path) -> list[float]:
    from ..boxfiles import read_boxes

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
    stopped: bool = False
    """True when ``stop()`` ended the run before the last frame."""


#: What a track run writes into its folder; ``overwrite`` replaces a folder holding only these.
TRACK_FILES = ("boxes.txt", "reasoning.jsonl", "config.yaml", "video.mp4")


def check_output_path(output: str | Path) -> Path:
    """``output`` resolved; a ConfigError when it, or a folder on the way to it, is a file."""
    folder = Path(output).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--output {folder} is a file, not a folder")
    blocking = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:  # the folder could never be made (checked here, not as a traceback later)
        raise ConfigError(f"--output {folder}: {blocking} is a file, not a folder")
    return folder


def check_output_folder(output: str | Path, overwrite: bool = False) -> Path:
    """``output`` resolved (see :func:`check_output_path`); a ConfigError for a non-empty folder
    without ``overwrite``, and, with it, for a folder holding anything a track run does not write
    (``overwrite`` replaces the whole folder: other files would be deleted). Checked before
    anything is built or written."""
    folder = check_output_path(output)
    present = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()) if folder.is_dir() else []
    if present and not overwrite:
        raise ConfigError(f"--output {folder} is not empty (an earlier run?); add --overwrite to replace it, or choose another folder")
    foreign = [name for name in present if name not in TRACK_FILES]
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise ConfigError(f"--output {folder} holds files a track run did not write ({shown}); --overwrite replaces "
                          "only a track run's folder: choose another folder")
    return folder


def _partial_folder(final: Path) -> Path:
    """A fresh folder beside ``final`` (same file system: the final move is a rename)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    work = final.with_name(f".{final.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    work.mkdir()  # the user's umask, as the final folder would get
    return work


def _video_writer(config: TrackRunConfig, path: Path, fps, total):
    """The annotated video writer with the run's video options (``video_panel``, ``show_gt``)."""
    truth = None
    if config.show_gt:
        found = find_groundtruth(config.input)
        if found is not None:
            from ..boxfiles import read_boxes

            truth = read_boxes(found)
    return AnnotatedVideoWriter(path, fps=fps, total_frames=total, panel=config.video_panel, ground_truth=truth,
                                min_height=360 if config.video_panel else 0)


def track_to_folder(
    config: TrackRunConfig,
    output: str | Path,
    on_frame: Callable[[FrameResult, int | None], None] | None = None,
    *,
    shared_reasoner=None,
    on_image: Callable[[FrameResult, np.ndarray], None] | None = None,
    stop: Callable[[], bool] | None = None,
    overwrite: bool = False,
) -> TrackOutputs:
    """Track ``config.input`` and write boxes.txt, reasoning.jsonl, config.yaml and video.mp4.

    ``on_frame(result, total_frames)`` is called after each frame (progress display).
    ``shared_reasoner``: see :func:`build_tracker` (``config`` still names the reasoner, so that
    ``track --config`` reruns the same thing). ``on_image(result, image)`` gets each frame as drawn
    into video.mp4 (the raw frame when ``config.video`` is off); the web demo streams these.
    ``stop()`` is asked after each frame: when it says True the run ends there, the files hold the
    frames tracked so far and ``TrackOutputs.stopped`` is True.

    Nothing is written before every component is built. The run goes into a temporary folder
    beside ``output`` that replaces it only when the run ends (stopped included), so a failed or
    interrupted run leaves ``output`` as it was; an ``output`` that is not empty is refused unless
    ``overwrite``.
    """
    from ..boxfiles import write_boxes
    from ..fileio import atomic_write_text
    from ..sources import open_source

    if not config.input:
        raise ConfigError("no input: give a video file or an image folder")
    if config.box is None:
        raise ConfigError("no initial box: give --box x,y,w,h")
    final = check_output_folder(output, overwrite)
    source = open_source(config.input, strict_decode=config.strict_decode)
    total = source.frame_count
    try:
        tracker = build_tracker(BackboneSpec.of(config), ReasonerSpec.of(config), config.pipeline, shared_reasoner=shared_reasoner)
    except BaseException:
        source.close()
        raise
    try:
        folder = _partial_folder(final)
    except BaseException:
        tracker.close()
        source.close()
        raise
    video = None
    boxes: list[np.ndarray] = []
    stopped = False
    try:
        atomic_write_text(folder / "config.yaml", config.to_yaml())
        video = _video_writer(config, folder / "video.mp4", source.fps, total) if config.video else None
        with ReasoningLogWriter(folder / "reasoning.jsonl") as log:
            run = tracker.run(source.frames(), config.box, config.text)
            results = iter(run)
            for result in results:
                boxes.append(result.box)
                if result.event is not None:
                    log.write(result.event)
                image = run.last_frame
                if video is not None:
                    # The source yields the frame the result belongs to; keep the pair together.
                    image = video.write(run.last_frame, result)
                if on_image is not None:
                    on_image(result, image)
                if on_frame is not None:
                    on_frame(result, total)
                if stop is not None and stop():
                    stopped = True
                    results.close()  # ends the loop now: a request still in flight is logged as dropped
                    break
            for event in run.closing_events:
                log.write(event)
        if video is not None:
            video.close()
        write_boxes(folder / "boxes.txt", np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
        replace_folder(folder, final)
    except BaseException:
        if video is not None:
            video.abort()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        tracker.close()
        source.close()
    folder = final
    return TrackOutputs(
        folder=folder,
        boxes=folder / "boxes.txt",
        reasoning=folder / "reasoning.jsonl",
        config=folder / "config.yaml",
        video=folder / "video.mp4" if video is not None else None,
        summary=run.summary,
        stopped=stopped,
    )
