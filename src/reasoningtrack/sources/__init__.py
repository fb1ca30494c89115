"""Frame sources: video files (PyAV, threaded decoding), image folders and benchmark sequences
(threaded prefetch). All yield ``(index, frame)`` with HxWx3 uint8 RGB frames; see ``base``.

``open_source(x)`` picks the class: a :class:`~reasoningtrack.datasets.base.Sequence` →
:class:`SequenceSource`; a folder → :class:`ImageFolderSource`; a list of paths → the same, in the
given order; a file with a video extension → :class:`VideoSource`; a single image file → a
one-frame :class:`ImageFolderSource`; any other file is probed with FFmpeg.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config, ConfigError
from .base import FrameSource, SkippedFrameWarning, SourceError, natural_sort_key
from .images import IMAGE_EXTENSIONS, ImageFolderSource, SequenceSource, decode_rgb, list_images
from .video import VIDEO_EXTENSIONS, VideoSource

__all__ = [
    "FrameSource",
    "SourceError",
    "SkippedFrameWarning",
    "SourceConfig",
    "ImageFolderSource",
    "SequenceSource",
    "VideoSource",
    "open_source",
    "decode_rgb",
    "list_images",
    "natural_sort_key",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
]


@dataclass
class SourceConfig(Config):
    """How frames are read. ``workers``/``prefetch`` apply to image folders (``workers=0``: decode
    in the caller's thread), ``threads``/``prefetch`` to videos (``threads=0``: FFmpeg decides)."""

    prefetch: int = 4
    workers: int = 4
    threads: int = 0
    skip_corrupt: bool = False
    strict_decode: bool = False
    """Videos: a frame FFmpeg decoded with errors and concealed is an error, not a warning
    (image frames are always decoded strictly: a damaged image is an error)."""


def open_source(path_or_sequence: Any, **options) -> FrameSource:
    """Open whatever holds the frames; ``options`` are :class:`SourceConfig` fields."""
    try:
        cfg = SourceConfig.from_dict(options)
    except ConfigError as exc:
        raise SourceError(f"bad source option: {exc}") from exc
    folder_opts = dict(prefetch=cfg.prefetch, workers=cfg.workers, skip_corrupt=cfg.skip_corrupt)
    video_opts = dict(prefetch=max(cfg.prefetch, 1), threads=cfg.threads, skip_corrupt=cfg.skip_corrupt,
                      strict_decode=cfg.strict_decode)

    if hasattr(path_or_sequence, "frames") and hasattr(path_or_sequence, "ground_truth"):
        return SequenceSource(path_or_sequence, **folder_opts)
    if isinstance(path_or_sequence, (list, tuple)):
        return ImageFolderSource(path_or_sequence, **folder_opts)
    if not isinstance(path_or_sequence, (str, Path)):
        raise SourceError(
            f"cannot read frames from a {type(path_or_sequence).__name__}: "
            "expected a video file, an image folder, a list of image paths or a Sequence"
        )
    path = Path(path_or_sequence)
    if path.is_dir():
        return ImageFolderSource(path, **folder_opts)
    if not path.exists():
        raise SourceError(f"{path} does not exist (expected a video file or an image folder)", path=path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return ImageFolderSource([path], **folder_opts, name=str(path))
    if suffix in VIDEO_EXTENSIONS:
        return VideoSource(path, **video_opts)
    try:  # unknown extension: let FFmpeg decide whether it is a video
        return VideoSource(path, **video_opts)
    except SourceError as exc:
        raise SourceError(
            f"{path}: not an image folder, an image or a readable video ({exc})", path=path
        ) from exc
