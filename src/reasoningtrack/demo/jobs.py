"""One tracking run started from the page: ``track_to_folder`` (the same code and files as
``reasoningtrack track``) in a worker thread, with what the page needs to show it live.

The worker keeps only the latest annotated frame (the page samples it at its own rate, so a slow
browser never slows tracking), the events so far and thumbnails of the images each reasoning call
was given. ``stop()`` ends the run after the current frame; the files then hold the frames tracked
so far. When the run ends, its folder is zipped beside it for download.
"""

from __future__ import annotations

import json
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

from ..pipeline.config import TrackRunConfig
from ..pipeline.results import FrameResult, ReasoningEvent
from .models import RecordingReasoner
from .render import thumbnail

__all__ = ["DemoRun", "RunSnapshot", "zip_run", "read_events", "RUN_FILES"]

RUN_FILES = ("boxes.txt", "reasoning.jsonl", "config.yaml", "video.mp4")


def read_events(path: str | Path) -> list[ReasoningEvent]:
    """The events of a reasoning.jsonl written by the run."""
    with open(path, encoding="utf-8") as fh:
        return [ReasoningEvent(**json.loads(line)) for line in fh if line.strip()]


def zip_run(folder: str | Path) -> Path:
    """``folder``'s run files in ``<folder>.zip`` (beside it), written atomically."""
    from ..fileio import atomic_path

    folder = Path(folder)
    target = folder.with_name(folder.name + ".zip")
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in RUN_FILES:
            path = folder / name
            if path.is_file():
                archive.write(path, f"{folder.name}/{name}")
    return target


class RunSnapshot:
    """What the page shows at one moment (copied under the run's lock)."""

    def __init__(self, index: int, image: np.ndarray | None, text: str, fps: float, events: list[ReasoningEvent],
                 thumbs: dict, done: bool, error: str | None, stopped: bool, version: int):
        self.index, self.image, self.text, self.fps = index, image, text, fps
        self.events, self.thumbs = events, thumbs
        self.done, self.error, self.stopped, self.version = done, error, stopped, version


class DemoRun:
    """Start with :meth:`start`; poll :meth:`snapshot`; :meth:`stop` at any time."""

    def __init__(self, config: TrackRunConfig, folder: str | Path, *, total: int | None = None,
                 shared_reasoner=None, max_frames: int | None = None):
        self.config = config
        self.folder = Path(folder)
        self.total = total
        self.max_frames = max_frames
        self._reasoner = None if shared_reasoner is None else RecordingReasoner(shared_reasoner, self._record)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._index = -1
        self._image: np.ndarray | None = None
        self._text = config.text
        self._events: list[ReasoningEvent] = []
        self._thumbs: dict[int, tuple[str, str]] = {}
        self._version = 0
        self._started = 0.0
        self.started_at: float | None = None
        """``time.monotonic()`` when the run started and ended (tests check that runs overlap)."""
        self.finished_at: float | None = None
        self.outputs = None
        self.error: str | None = None
        self.zip_path: Path | None = None
        self.capped = False
        self._thread = threading.Thread(target=self._work, name=f"demo-run-{self.folder.name}", daemon=True)

    # -- control ------------------------------------------------------------------------------
    def start(self) -> "DemoRun":
        self._started = time.perf_counter()
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    # -- worker -------------------------------------------------------------------------------
    def _record(self, frame: int, template_frame: int, template: np.ndarray, current: np.ndarray) -> None:
        thumbs = (thumbnail(template), thumbnail(current))
        with self._lock:
            self._thumbs[frame] = thumbs

    def _on_image(self, result: FrameResult, image: np.ndarray) -> None:
        with self._lock:
            self._index = result.index
            self._image = image
            self._text = result.text
            if result.event is not None:
                self._events.append(result.event)
            self._version += 1

    def _should_stop(self) -> bool:
        if self.max_frames is not None and self._index + 1 >= self.max_frames:
            self.capped = True
            return True
        return self._stop.is_set()

    def _work(self) -> None:
        from ..pipeline.session import track_to_folder

        try:
            self.outputs = track_to_folder(self.config, self.folder, shared_reasoner=self._reasoner,
                                           on_image=self._on_image, stop=self._should_stop)
            events = read_events(self.outputs.reasoning)
            with self._lock:  # the log is the record: it also holds requests dropped at the end (async)
                self._events = events
            self.zip_path = zip_run(self.folder)
        except BaseException as exc:  # noqa: BLE001 -- shown in the page; the server goes on
            self.error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
            if self._reasoner is not None:
                self._reasoner.close()  # track_to_folder closes it unless building the backbone failed first
        finally:
            with self._lock:
                self._version += 1
            self.finished_at = time.monotonic()
            self._done.set()

    # -- what the page shows ------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        with self._lock:
            elapsed = time.perf_counter() - self._started if self._started else 0.0
            fps = (self._index + 1) / elapsed if elapsed > 0 and self._index >= 0 else 0.0
            if self.outputs is not None:
                fps = self.outputs.summary.fps
            return RunSnapshot(self._index, self._image, self._text, fps, list(self._events), dict(self._thumbs),
                               self._done.is_set(), self.error, bool(self.outputs is not None and self.outputs.stopped), self._version)
