"""What a visitor can track: an uploaded video, a sequence of a dataset on the server, or a
sequence of the synthetic world generated on demand. Each becomes a :class:`PreparedInput` whose
``path`` is what ``reasoningtrack track`` would be given, and whose first frame is decoded by the
same strict readers (:mod:`reasoningtrack.sources`) the run will use."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["InputError", "PreparedInput", "prepare_upload", "prepare_sequence", "prepare_synthetic", "list_sequences"]


class InputError(ValueError):
    """An input the demo cannot use; the message is shown in the page as is."""


@dataclass
class PreparedInput:
    path: str
    """Video file or image folder (absolute), stored as ``input`` in the run's config.yaml."""
    label: str
    first_frame: np.ndarray
    frame_count: int | None
    fps: float | None
    box: list[float] | None = None
    """Known initial box (a sequence's ground truth), else None: the visitor draws one."""
    text: str = ""

    @property
    def size(self) -> tuple[int, int]:
        return int(self.first_frame.shape[1]), int(self.first_frame.shape[0])


def _first_frame(path: str | Path, what: str) -> tuple[np.ndarray, int | None, float | None]:
    from ..sources import SourceError, open_source

    try:
        source = open_source(path)
    except SourceError as exc:
        raise InputError(f"{what}: {exc}") from None
    try:
        for frame in source.frames():
            return frame, source.frame_count, source.fps
    except SourceError as exc:
        raise InputError(f"{what}: {exc}") from None
    finally:
        source.close()
    raise InputError(f"{what}: no frame could be decoded")


def _check_count(count: int | None, max_frames: int, what: str) -> None:
    if count is not None and count > max_frames:
        raise InputError(f"{what} has {count} frames; this server tracks at most {max_frames} (demo option max_frames)")


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def prepare_upload(upload: str | Path, folder: str | Path, *, max_bytes: int, max_frames: int) -> PreparedInput:
    """Check an uploaded video (type, size, decodable first frame) and copy it into ``folder``
    (the session's own folder, so that a run's config.yaml names a file that stays)."""
    from ..sources import VIDEO_EXTENSIONS

    upload = Path(upload)
    name = upload.name
    if upload.suffix.lower() not in VIDEO_EXTENSIONS:
        raise InputError(f"{name}: not a video file (accepted: {', '.join(sorted(VIDEO_EXTENSIONS))})")
    size = upload.stat().st_size
    if size > max_bytes:
        raise InputError(f"{name}: {size / 2**20:.1f} MB is over this server's limit of {max_bytes / 2**20:.0f} MB")
    if size == 0:
        raise InputError(f"{name}: the file is empty")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # one folder per upload: a later upload of the same name never changes what an earlier run read
    home = Path(tempfile.mkdtemp(prefix="upload-", dir=folder))
    target = home / (_SAFE.sub("_", upload.stem)[:80] + upload.suffix.lower())
    shutil.copyfile(upload, target)
    try:
        frame, count, fps = _first_frame(target, name)
        _check_count(count, max_frames, name)
    except InputError as exc:
        shutil.rmtree(home, ignore_errors=True)
        # the visitor knows the file by its name; the server's folders are none of their business
        raise InputError(str(exc).replace(f"'{target}'", name).replace(str(target), name)) from None
    return PreparedInput(str(target.resolve()), name, frame, count, fps)


def list_sequences(dataset: str, root: str | Path, split: str = "test") -> list[str]:
    """Sequence names of a dataset split on this server."""
    from ..datasets import DATASETS
    from ..datasets.base import DatasetError
    from ..registry import RegistryError

    if not str(root).strip():
        raise InputError("give the dataset's root folder")
    try:
        return list(DATASETS.build(dataset, root=str(root), split=split).sequence_names())
    except (DatasetError, RegistryError, OSError, ValueError) as exc:
        raise InputError(f"{dataset} at {root}: {exc}") from None


def prepare_sequence(dataset: str, root: str | Path, name: str, *, split: str = "test", max_frames: int) -> PreparedInput:
    """A benchmark sequence: its frame folder, first ground-truth box and description."""
    from ..datasets import DATASETS
    from ..datasets.base import DatasetError
    from ..registry import RegistryError

    try:
        sequence = DATASETS.build(dataset, root=str(root), split=split).load(name)
        frames = sequence.frames
    except (DatasetError, RegistryError, OSError, ValueError, KeyError) as exc:
        raise InputError(f"{dataset} sequence {name!r} at {root}: {exc}") from None
    if not frames:
        raise InputError(f"{dataset} sequence {name!r} at {root}: no frames on disk (annotations only?)")
    _check_count(len(frames), max_frames, name)
    folder = frames[0].parent
    if any(p.parent != folder for p in frames):
        raise InputError(f"{name}: frames are spread over several folders; track it with `reasoningtrack benchmark`")
    frame, count, fps = _first_frame(folder, name)
    if count is not None and count != len(frames):
        raise InputError(f"{name}: {folder} holds {count} images but the dataset lists {len(frames)} frames")
    box = None
    if len(sequence.ground_truth):
        first = [float(v) for v in sequence.ground_truth[0]]
        box = first if first[2] > 0 and first[3] > 0 else None
    return PreparedInput(str(folder.resolve()), f"{dataset}/{name}", frame, count, fps, box, sequence.description or "")


def prepare_synthetic(seed: int, folder: str | Path, *, frames: int = 120) -> PreparedInput:
    """One sequence of the synthetic world (deterministic in ``seed``), written into ``folder``
    unless an earlier call wrote it there (sequences are written whole or not at all)."""
    from ..config import ConfigError
    from ..datasets.synthetic import WorldConfig, generate_sequence, write_sequence

    try:
        seed = int(seed)
        config = WorldConfig(frames=frames)
        target = Path(folder) / f"synth-{seed}-{frames}"
        done = (target / "events.json").is_file()
        sequence = generate_sequence(seed, 0, "test", config, name=f"synth-{seed}", render=not done)
    except (ConfigError, ValueError, TypeError) as exc:
        raise InputError(f"synthetic world: {exc}") from None
    written = target if done else write_sequence(sequence, target)
    images = written / "imgs"
    frame, count, fps = _first_frame(images, sequence.name)
    box = [float(v) for v in sequence.ground_truth[0]]
    return PreparedInput(str(images.resolve()), f"synthetic world, seed {seed}", frame, count, fps, box, sequence.description)
