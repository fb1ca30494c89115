"""Video files through PyAV (FFmpeg) with threaded decoding and a bounded prefetch queue.

FFmpeg decodes with its own threads (``thread_type = "AUTO"``: frame and slice threading); one
reader thread demuxes, decodes and converts to RGB, handing frames over through a queue of at most
``prefetch`` frames, so the tracker never waits for the decoder and never holds the whole video.
"""

from __future__ import annotations

import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from .base import FrameSource, SourceError

__all__ = ["VideoSource", "VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp", ".ogv"}
)

_POLL_S = 0.1  # how often a blocked reader checks whether the consumer went away


class VideoSource(FrameSource):
    """Frames of one video file, decoded by FFmpeg threads (``threads=0``: FFmpeg picks the count)."""

    def __init__(self, path: str | Path, *, threads: int = 0, prefetch: int = 4, skip_corrupt: bool = False):
        super().__init__(skip_corrupt=skip_corrupt)
        if int(threads) < 0:
            raise SourceError(f"threads must be >= 0, got {threads}")
        if int(prefetch) < 1:
            raise SourceError(f"prefetch must be >= 1, got {prefetch}")
        self.path = Path(path)
        self.name = str(self.path)
        self.threads = int(threads)
        self.prefetch = int(prefetch)
        #: Frames decoded by the current iteration (shows how far the reader runs ahead).
        self.frames_decoded = 0
        self._frame_count, self._fps, self._size = self._probe()

    def _open(self):
        import av

        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist or is not a file", path=self.path)
        try:
            container = av.open(str(self.path))
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open video {self.path}: {exc}", path=self.path) from exc
        if not container.streams.video:
            container.close()
            raise SourceError(f"{self.path} has no video stream", path=self.path)
        return container

    def _probe(self) -> tuple[int | None, float | None, tuple[int, int]]:
        container = self._open()
        try:
            stream = container.streams.video[0]
            count = int(stream.frames or 0) or None
            rate = stream.average_rate or stream.guessed_rate
            fps = float(Fraction(rate)) if rate else None
            width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        finally:
            container.close()
        if width <= 0 or height <= 0:
            raise SourceError(f"{self.path}: the video stream has no frame size", path=self.path)
        return count, fps, (width, height)

    @property
    def frame_count(self) -> int | None:
        return self._frame_count

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        self.skipped = []
        self.peak_buffered = 0
        self.frames_decoded = 0
        handoff: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()
        reader = threading.Thread(target=self._read, args=(handoff, stop), name="rt-video-reader", daemon=True)
        reader.start()
        next_index = 0
        try:
            while True:
                kind, index, payload = handoff.get()
                if kind == "frame":
                    next_index = index + 1
                    yield index, payload
                elif kind == "bad":
                    next_index = index + 1
                    self._skip(index, payload)
                elif kind == "error":
                    raise payload
                else:  # "end"
                    break
            self._check_complete(next_index)
        finally:
            stop.set()
            while reader.is_alive():
                try:  # unblock a reader waiting on a full queue
                    handoff.get(timeout=_POLL_S)
                except queue.Empty:
                    pass
            reader.join()

    def _check_complete(self, decoded: int) -> None:
        """A container that promised N frames and gave fewer is truncated: say so, never hide it."""
        expected = self._frame_count
        if expected is None or decoded >= expected:
            return
        reason = f"{self.path}: video ended after {decoded} of {expected} frames (truncated or corrupt file)"
        if not self.skip_corrupt:
            raise SourceError(reason, path=self.path, index=decoded)
        # One warning for the whole missing tail, one record per missing frame.
        self._skip(decoded, reason)
        self.skipped.extend((i, reason) for i in range(decoded + 1, expected))

    def _read(self, handoff: queue.Queue, stop: threading.Event) -> None:
        """Reader thread: demux, decode, convert; every outcome goes through the queue."""
        import av

        def put(item) -> bool:
            while not stop.is_set():
                try:
                    handoff.put(item, timeout=_POLL_S)
                except queue.Full:
                    continue
                self.peak_buffered = max(self.peak_buffered, handoff.qsize())
                return True
            return False

        index = 0
        try:
            with self._open() as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                stream.codec_context.thread_count = self.threads
                for packet in container.demux(stream):
                    if stop.is_set():
                        return
                    try:
                        frames = packet.decode()
                    except av.FFmpegError as exc:
                        reason = f"{self.path}: cannot decode frame {index}: {exc}"
                        if not self.skip_corrupt:
                            put(("error", index, SourceError(reason, path=self.path, index=index)))
                            return
                        if not put(("bad", index, reason)):
                            return
                        index += 1
                        continue
                    for frame in frames:
                        rgb = frame.to_ndarray(format="rgb24")
                        self.frames_decoded += 1
                        if not put(("frame", index, rgb)):
                            return
                        index += 1
        except SourceError as exc:
            put(("error", index, exc))
            return
        except av.FFmpegError as exc:
            put(("error", index, SourceError(f"{self.path}: read failed at frame {index}: {exc}", path=self.path, index=index)))
            return
        except BaseException as exc:  # hand any failure to the consumer instead of dying silently
            put(("error", index, exc))
            return
        put(("end", index, None))
