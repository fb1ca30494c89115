"""Image folders and benchmark sequences read by a small thread pool with bounded look-ahead.

OpenCV releases the GIL while it decodes, so a few threads decode the next frames while the
tracker works on the current one. At most ``prefetch`` frames are decoded or decoding ahead of the
consumer; order is always the input order.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..sequence_files import IMAGE_EXTENSIONS, image_files
from .base import FrameSource, SourceError

__all__ = ["ImageFolderSource", "SequenceSource", "IMAGE_EXTENSIONS", "decode_rgb", "list_images"]



def decode_rgb(path: str | Path) -> np.ndarray:
    """Decode one image file to HxWx3 uint8 RGB, refusing truncated or non-image files.

    The bytes go through ``cv2.imdecode`` rather than ``cv2.imread``: imread returns a half-grey
    picture for a truncated JPEG (it only prints "Premature end of JPEG file"), imdecode fails.
    """
    import cv2

    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise SourceError(f"cannot read image {path}: {exc.strerror or exc}", path=path) from exc
    if data.size == 0:
        raise SourceError(f"cannot decode image {path}: the file is empty", path=path)
    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.10 decodes straight to RGB
    image = cv2.imdecode(data, cv2.IMREAD_COLOR if rgb_flag is None else rgb_flag)
    if image is None:
        raise SourceError(
            f"cannot decode image {path}: truncated, corrupt or not an image ({data.size} bytes)", path=path
        )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if rgb_flag is None else image


def list_images(folder: str | Path) -> list[Path]:
    """Image files of ``folder`` (by extension, case-insensitive) in natural order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceError(f"image folder {folder} does not exist or is not a folder", path=folder)
    paths = image_files(folder)
    if not paths:
        raise SourceError(
            f"image folder {folder} holds no images (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})", path=folder
        )
    return paths


class ImageFolderSource(FrameSource):
    """Frames from a folder of images (natural name order) or an explicit list of paths (kept in order).

    ``workers`` threads decode ahead; ``workers=0`` decodes in the caller's thread (no look-ahead).
    ``prefetch`` bounds how many frames are queued or decoding at once.
    """

    def __init__(
        self,
        folder_or_paths: str | Path | Iterable[str | Path],
        *,
        prefetch: int = 4,
        workers: int = 4,
        skip_corrupt: bool = False,
        name: str | None = None,
    ):
        super().__init__(skip_corrupt=skip_corrupt)
        if int(workers) < 0:
            raise SourceError(f"workers must be >= 0, got {workers}")
        if int(workers) > 0 and int(prefetch) < 1:
            raise SourceError(f"prefetch must be >= 1 with worker threads, got {prefetch}")
        self.workers = int(workers)
        self.prefetch = int(prefetch) if self.workers else 0
        if isinstance(folder_or_paths, (str, Path)):
            self.paths = list_images(folder_or_paths)
            self.name = name or str(folder_or_paths)
        else:
            self.paths = [Path(p) for p in folder_or_paths]
            if not self.paths:
                raise SourceError(f"{name or 'image list'}: no image paths given")
            self.name = name or str(self.paths[0].parent)
        self._size: tuple[int, int] | None = None
        #: Decodes started by the current iteration (shows how far reading runs ahead).
        self.frames_decoded = 0
        self._count_lock = threading.Lock()

    @property
    def frame_count(self) -> int:
        return len(self.paths)

    @property
    def size(self) -> tuple[int, int]:
        if self._size is None:
            first = self._load(self.paths[0])
            self._size = (int(first.shape[1]), int(first.shape[0]))
        return self._size

    def _decode(self, path) -> np.ndarray:
        with self._count_lock:
            self.frames_decoded += 1
        return self._load(path)

    def _load(self, path) -> np.ndarray:
        return decode_rgb(path)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        self.skipped = []
        self.peak_buffered = 0
        self.frames_decoded = 0
        if self.workers == 0:
            yield from self._iter_inline()
        else:
            yield from self._iter_prefetched()

    def _iter_inline(self) -> Iterator[tuple[int, np.ndarray]]:
        for index, path in enumerate(self.paths):
            try:
                frame = self._decode(path)
            except SourceError as exc:
                if not self.skip_corrupt:
                    raise SourceError(f"frame {index}: {exc}", path=exc.path, index=index) from exc
                self._skip(index, str(exc))
                continue
            self.peak_buffered = max(self.peak_buffered, 1)
            yield index, frame

    def _iter_prefetched(self) -> Iterator[tuple[int, np.ndarray]]:
        pending: deque[tuple[int, Path, Future]] = deque()
        upcoming = iter(enumerate(self.paths))
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="rt-frames")

        def refill() -> None:
            while len(pending) < self.prefetch:
                nxt = next(upcoming, None)
                if nxt is None:
                    return
                index, path = nxt
                pending.append((index, path, pool.submit(self._decode, path)))
                self.peak_buffered = max(self.peak_buffered, len(pending))

        try:
            refill()
            while pending:
                index, path, future = pending.popleft()
                try:
                    frame = future.result()
                except SourceError as exc:
                    if not self.skip_corrupt:
                        raise SourceError(f"frame {index}: {exc}", path=exc.path, index=index) from exc
                    self._skip(index, str(exc))
                    refill()
                    continue
                refill()
                yield index, frame
        finally:
            for _, _, future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)


class SequenceSource(ImageFolderSource):
    """The frames of a benchmark :class:`~reasoningtrack.datasets.base.Sequence`, prefetched.

    Frame files are decoded like an image folder; a sequence held in memory (no frame files, e.g.
    a generated synthetic one) is read through its ``read_frame``.
    """

    def __init__(self, sequence, *, prefetch: int = 4, workers: int = 4, skip_corrupt: bool = False):
        paths = list(sequence.frames)
        self.sequence = sequence
        self._in_memory = not paths
        if self._in_memory:
            count = len(sequence)
            if count == 0 or not self._readable(sequence):
                raise SourceError(
                    f"sequence {sequence.name!r} of {getattr(sequence, 'dataset', '') or 'its dataset'!r} "
                    "has no frames on disk (annotations only)"
                )
            super().__init__([Path(str(i)) for i in range(count)], prefetch=prefetch, workers=workers,
                             skip_corrupt=skip_corrupt, name=sequence.name)
            self.paths = list(range(count))  # items are frame indices for read_frame, not files
        else:
            super().__init__(paths, prefetch=prefetch, workers=workers, skip_corrupt=skip_corrupt, name=sequence.name)

    @staticmethod
    def _readable(sequence) -> bool:
        try:
            sequence.read_frame(0)
        except Exception:  # annotation-only sequences raise DatasetError (or IndexError) here
            return False
        return True

    def _load(self, item) -> np.ndarray:
        if not self._in_memory:
            return decode_rgb(item)
        frame = np.asarray(self.sequence.read_frame(item))
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise SourceError(
                f"sequence {self.sequence.name!r} frame {item}: expected HxWx3 uint8 RGB, "
                f"got shape {frame.shape} dtype {frame.dtype}"
            )
        return frame
