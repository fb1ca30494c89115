"""Video files through PyAV (FFmpeg) with threaded decoding and a bounded prefetch queue.

FFmpeg decodes with its own threads (``thread_type = "AUTO"``: frame and slice threading); one
reader thread demuxes, decodes and converts to RGB, handing frames over through a queue of at most
``prefetch`` frames, so the tracker never waits for the decoder and never holds the whole video.

Damage that FFmpeg conceals (a few zeroed bytes in an H.264 stream: the decoder reports errors,
patches the macroblocks from neighbours and returns a frame flagged corrupt, exit status 0) is not
hidden: FFmpeg's error reports are kept (``decode_errors``), the flagged frames are counted
(``concealed``) with the frames decoded from them up to the next key frame (``damaged``), and one
:class:`ConcealedFrameWarning` names them after the pass. ``strict_decode=True`` makes the first
concealed frame a :class:`SourceError` instead.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from .base import FrameSource, SourceError

__all__ = ["VideoSource", "VIDEO_EXTENSIONS", "ConcealedFrameWarning"]

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp", ".ogv"}
)

_POLL_S = 0.1  # how often a blocked reader checks whether the consumer went away
_MAX_ERRORS_KEPT = 50  # FFmpeg's reports kept per pass (a damaged stream can log one per macroblock)


class ConcealedFrameWarning(UserWarning):
    """FFmpeg concealed decoding errors: the named frames are patched guesses, not the video."""


def _ranges(indices: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``"3-5, 9"``."""
    parts, start = [], None
    for i, value in enumerate(indices):
        if start is None:
            start = value
        if i + 1 == len(indices) or indices[i + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ", ".join(parts)


@contextlib.contextmanager
def _ffmpeg_error_log():
    """Capture FFmpeg's error reports from every thread (its decoder threads log, not ours).

    PyAV ignores FFmpeg's log unless a level is set; when none is, ERROR is set for the pass and
    reset afterwards (a level the caller chose is left alone)."""
    import av.logging as avlog

    before = avlog.get_level()
    if before is None:
        avlog.set_level(avlog.ERROR)
    try:
        with avlog.Capture(local=False) as logs:
            yield logs
    finally:
        if before is None:
            avlog.set_level(None)


class VideoSource(FrameSource):
    """Frames of one video file, decoded by FFmpeg threads (``threads=0``: FFmpeg picks the count)."""

    def __init__(self, path: str | Path, *, threads: int = 0, prefetch: int = 4, skip_corrupt: bool = False,
                 strict_decode: bool = False):
        super().__init__(skip_corrupt=skip_corrupt)
        self.strict_decode = bool(strict_decode)
        #: Frames FFmpeg decoded with errors and concealed (flagged corrupt), last pass.
        self.concealed: list[int] = []
        #: ``concealed`` plus the frames decoded from them up to the next key frame, last pass.
        self.damaged: list[int] = []
        #: FFmpeg's error reports of the last pass, ``"codec: message"`` (at most 50 kept).
        self.decode_errors: list[str] = []
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
        self.concealed, self.damaged, self.decode_errors = [], [], []
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
            self._warn_concealed()
        finally:
            stop.set()
            while reader.is_alive():
                try:  # unblock a reader waiting on a full queue
                    handoff.get(timeout=_POLL_S)
                except queue.Empty:
                    pass
            reader.join()

    def _warn_concealed(self) -> None:
        if not self.concealed:
            return
        errors = "; ".join(self.decode_errors[:3]) or "no message"
        warnings.warn(
            f"{self.path}: FFmpeg concealed decoding errors in {len(self.concealed)} frame(s) "
            f"(0-based: {_ranges(self.concealed)}); {len(self.damaged)} frame(s) decoded from them up to the next key frame "
            f"may show the damage ({_ranges(self.damaged)}). FFmpeg said: {errors}. "
            "Use --strict-decode (strict_decode=True) to make this an error.",
            ConcealedFrameWarning,
            stacklevel=3,
        )

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
        logs: list = []
        seen = 0
        tainted = False  # a concealed frame since the last key frame

        def new_errors() -> list[str]:
            nonlocal seen
            fresh = logs[seen:]
            seen = len(logs)
            return [f"{name}: {message.strip()}" for level, name, message in fresh
                    if name in decoder_names and level <= 16]  # 16 = AV_LOG_ERROR

        decoder_names: set[str] = set()
        try:
            with self._open() as container, _ffmpeg_error_log() as logs:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                stream.codec_context.thread_count = self.threads
                decoder_names = {stream.codec_context.name, container.format.name}
                for packet in container.demux(stream):
                    if stop.is_set():
                        return
                    try:
                        frames = packet.decode()
                    except av.FFmpegError as exc:
                        reason = f"{self.path}: cannot decode frame {index}: {exc}"
                        self.decode_errors.extend(new_errors()[: _MAX_ERRORS_KEPT - len(self.decode_errors)])
                        if not self.skip_corrupt:
                            put(("error", index, SourceError(reason, path=self.path, index=index)))
                            return
                        if not put(("bad", index, reason)):
                            return
                        index += 1
                        continue
                    errors = new_errors()
                    self.decode_errors.extend(errors[: max(0, _MAX_ERRORS_KEPT - len(self.decode_errors))])
                    for frame in frames:
                        if frame.key_frame:
                            tainted = False
                        if frame.is_corrupt:
                            tainted = True
                            self.concealed.append(index)
                            if self.strict_decode:
                                said = "; ".join(self.decode_errors[:3]) or "no message"
                                put(("error", index, SourceError(
                                    f"{self.path}: frame {index} (0-based) was decoded with errors that FFmpeg concealed "
                                    f"({said}); --strict-decode makes this an error", path=self.path, index=index)))
                                return
                        if tainted:
                            self.damaged.append(index)
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
