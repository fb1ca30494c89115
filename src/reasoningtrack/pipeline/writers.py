"""What a tracking run leaves on disk: boxes, the reasoning log, the config, an annotated video.

- ``boxes.txt``: one ``x,y,w,h`` row per frame (the init box first), full-precision floats
  (through :func:`reasoningtrack.boxfiles.write_boxes`).
- ``reasoning.jsonl``: one JSON object per reasoning call (see :class:`ReasoningEvent`), written
  as the run goes (a crash keeps the calls made so far).
- ``config.yaml``: everything needed to run again (``reasoningtrack track --config``).
- ``video.mp4``: the frames with the box, the text in use, a banner for each reasoning event and a
  timeline of the events (H.264 through PyAV; MPEG-4 part 2 when FFmpeg lacks libx264).
"""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np

from ..fileio import replace_atomically, temporary_sibling
from .results import FrameResult, ReasoningEvent

__all__ = ["ReasoningLogWriter", "AnnotatedVideoWriter", "events_to_jsonl", "event_line", "STATUS_COLORS"]

#: RGB colour per event status, shared by the banner and the timeline.
STATUS_COLORS = {
    "updated": (40, 200, 60),
    "reapplied": (120, 190, 130),
    "kept": (170, 170, 170),
    "reverted": (80, 150, 255),
    "ignored": (120, 120, 120),
    "error": (230, 40, 40),
    "timeout": (240, 130, 20),
    "unusable": (200, 60, 200),
    "dropped": (90, 90, 90),
}


def event_line(event: ReasoningEvent, timings: bool = True) -> str:
    return json.dumps(event.to_dict(timings=timings), ensure_ascii=False, sort_keys=False)


def events_to_jsonl(events, timings: bool = True) -> str:
    return "".join(event_line(e, timings) + "\n" for e in events)


class ReasoningLogWriter:
    """Appends one line per event and flushes it, so that an interrupted run keeps its calls."""

    def __init__(self, path: str | Path, timings: bool = True):
        self.path = Path(path)
        self.timings = timings
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = open(self.path, "w", encoding="utf-8", newline="\n")
        self.count = 0

    def write(self, event: ReasoningEvent) -> None:
        if self._fh is None:
            raise ValueError(f"{self.path} is closed")
        self._fh.write(event_line(event, self.timings) + "\n")
        self._fh.flush()
        self.count += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _even(n: int) -> int:
    return n + (n % 2)


class AnnotatedVideoWriter:
    """Draws each FrameResult on its frame (cv2) and encodes the video (PyAV).

    ``total_frames`` scales the timeline (when unknown, the timeline spans the frames so far).
    ``banner_frames``: how long a reasoning event stays on screen.
    ``panel``: a side panel with the latest event's think text, decision and answer, and a legend
    of the event colours. ``ground_truth``: (N, 4) boxes drawn in green where known (w, h > 0).
    ``min_height``: frames lower than this are enlarged (integer factor) before drawing so that
    the text stays readable on small videos (0: never; ``track --video-panel`` uses 360).
    """

    def __init__(self, path: str | Path, fps: float | None = None, total_frames: int | None = None, banner_frames: int = 30,
                 panel: bool = False, ground_truth: np.ndarray | None = None, min_height: int = 0):
        self.path = Path(path)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.total_frames = total_frames
        self.banner_frames = banner_frames
        self.panel = bool(panel)
        self.ground_truth = None if ground_truth is None else np.asarray(ground_truth, dtype=np.float64).reshape(-1, 4)
        self.min_height = int(min_height)
        self._latest: ReasoningEvent | None = None
        self._tmp = temporary_sibling(self.path)
        self._container = None
        self._stream = None
        self._events: list[tuple[int, str]] = []  # (frame resolved, status)
        self._banner: tuple[int, ReasoningEvent] | None = None
        self.frames_written = 0

    # -- encoding -----------------------------------------------------------------------------
    def _open(self, width: int, height: int) -> None:
        import av

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self._tmp), mode="w", format="mp4")
        rate = Fraction(self.fps).limit_denominator(1001)
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = self._container.add_stream(codec, rate=rate)
        stream.width, stream.height = _even(width), _even(height)
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "23", "preset": "veryfast"}
        self._stream = stream

    def write(self, frame: np.ndarray, result: FrameResult) -> np.ndarray:
        """Draw ``result`` on ``frame``, encode it and return the drawn image."""
        import av

        image = self.annotate(frame, result)
        if self._container is None:
            self._open(image.shape[1], image.shape[0])
        stream = self._stream
        if image.shape[0] != stream.height or image.shape[1] != stream.width:
            padded = np.zeros((stream.height, stream.width, 3), dtype=np.uint8)
            h, w = min(image.shape[0], stream.height), min(image.shape[1], stream.width)
            padded[:h, :w] = image[:h, :w]
            image = padded
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            self._container.mux(packet)
        self.frames_written += 1
        return image

    def close(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None
        replace_atomically(self._tmp, self.path)

    def abort(self) -> None:
        """Drop a half-written video (the run failed)."""
        if self._container is not None:
            try:
                self._container.close()
            finally:
                self._container = None
        if self._tmp.exists():
            self._tmp.unlink()

    def add_event(self, frame_index: int, event: ReasoningEvent) -> None:
        """Put an event on the timeline and show its banner from ``frame_index`` on."""
        self._events.append((frame_index, event.status))
        self._banner = (frame_index, event)
        self._latest = event

    # -- drawing ------------------------------------------------------------------------------
    def annotate(self, frame: np.ndarray, result: FrameResult) -> np.ndarray:
        import cv2

        if result.event is not None:
            self.add_event(result.index, result.event)
        img = np.ascontiguousarray(frame).copy()
        zoom = max(1, -(-self.min_height // img.shape[0])) if self.min_height > 0 else 1
        if zoom > 1:
            img = cv2.resize(img, (img.shape[1] * zoom, img.shape[0] * zoom), interpolation=cv2.INTER_LINEAR)
        height, width = img.shape[:2]
        scale = max(0.35, min(1.0, height / 720.0 * 0.7))
        thick = 1 if height < 500 else 2
        font = cv2.FONT_HERSHEY_SIMPLEX
        line_h = int(24 * scale / 0.7) + 2

        if self.ground_truth is not None and result.index < len(self.ground_truth):
            gx, gy, gw, gh = (float(v) * zoom for v in self.ground_truth[result.index])
            if all(np.isfinite([gx, gy, gw, gh])) and gw > 0 and gh > 0:
                cv2.rectangle(img, (int(round(gx)), int(round(gy))), (int(round(gx + gw)), int(round(gy + gh))), (40, 220, 90), 1)
        x, y, w, h = (float(v) * zoom for v in result.box)
        if all(np.isfinite([x, y, w, h])) and w > 0 and h > 0:
            cv2.rectangle(img, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), (255, 215, 0), 2)
            if result.score is not None:
                cv2.putText(img, f"{result.score:.2f}", (int(x), max(int(y) - 4, line_h)), font, scale, (255, 215, 0), thick, cv2.LINE_AA)

        chars = max(20, int(width / (11 * scale / 0.7)))
        lines = textwrap.wrap(f"#{result.index}  {result.text}", chars)[:2] or [f"#{result.index}"]
        self._shade(img, 0, len(lines) * line_h + 6)
        for i, line in enumerate(lines):
            cv2.putText(img, line, (6, (i + 1) * line_h), font, scale, (255, 255, 255), thick, cv2.LINE_AA)

        if self._banner is not None and result.index - self._banner[0] < self.banner_frames:
            event = self._banner[1]
            color = STATUS_COLORS.get(event.status, (255, 255, 255))
            if event.error:
                message = f"reasoning @{event.frame}: {event.status}: {event.error}"
            else:
                message = f"reasoning @{event.frame}: d={event.decision} -> {event.status}: {event.text_applied}"
            banner = textwrap.wrap(message, chars)[:2]
            top = height - 14 - len(banner) * line_h - 6
            self._shade(img, top, height - 14)
            for i, line in enumerate(banner):
                cv2.putText(img, line, (6, top + (i + 1) * line_h), font, scale, color, thick, cv2.LINE_AA)

        self._timeline(img, result.index)
        if self.panel:
            img = np.concatenate([img, self._panel(height, width, font, scale, thick, line_h)], axis=1)
        return img

    def _panel(self, height: int, width: int, font, scale: float, thick: int, line_h: int) -> np.ndarray:
        """The side panel: legend of event colours, then the latest event's think, d and answer."""
        import cv2

        panel_w = max(320, width * 3 // 4)
        panel = np.full((height, panel_w, 3), 30, dtype=np.uint8)
        chars = max(20, int(panel_w / (11 * scale / 0.7)))
        y = line_h
        for status in ("updated", "kept", "reapplied", "reverted", "error", "timeout"):
            cv2.rectangle(panel, (6, y - line_h // 2 - 4), (6 + line_h // 2, y - 4), STATUS_COLORS[status], -1)
            cv2.putText(panel, status, (12 + line_h // 2, y), font, scale, (230, 230, 230), thick, cv2.LINE_AA)
            y += line_h
        cv2.putText(panel, "boxes: tracker (gold)" + (", ground truth (green)" if self.ground_truth is not None else ""),
                    (6, y), font, scale, (230, 230, 230), thick, cv2.LINE_AA)
        y += line_h + 6
        event = self._latest
        if event is None:
            cv2.putText(panel, "no reasoning yet", (6, y), font, scale, (200, 200, 200), thick, cv2.LINE_AA)
            return panel
        head = f"@{event.frame} {event.status}: d={event.decision}"
        lines = [(head, STATUS_COLORS.get(event.status, (255, 255, 255)))]
        lines += [(part, (255, 255, 255)) for part in textwrap.wrap(f"answer: {event.answer or event.error or ''}", chars)[:3]]
        lines += [(part, (200, 200, 200)) for part in textwrap.wrap(f"think: {event.think or ''}", chars)]
        for text, colour in lines:
            if y > height - 18:
                break
            cv2.putText(panel, text, (6, y), font, scale, colour, thick, cv2.LINE_AA)
            y += line_h
        return panel

    @staticmethod
    def _shade(img: np.ndarray, top: int, bottom: int) -> None:
        top, bottom = max(top, 0), min(bottom, img.shape[0])
        if bottom > top:
            img[top:bottom] = (img[top:bottom].astype(np.uint16) * 2 // 5).astype(np.uint8)

    def _timeline(self, img: np.ndarray, index: int) -> None:
        height, width = img.shape[:2]
        span = max(self.total_frames or 0, index + 1, 2)
        img[height - 12 : height] = (50, 50, 50)

        def column(frame_index: int) -> int:
            return min(width - 1, int(frame_index / (span - 1) * (width - 1)))

        for frame_index, status in self._events:
            c = column(frame_index)
            img[height - 12 : height, max(c - 1, 0) : c + 2] = STATUS_COLORS.get(status, (255, 255, 255))
        c = column(index)
        img[height - 12 : height, c : c + 1] = (255, 255, 255)
