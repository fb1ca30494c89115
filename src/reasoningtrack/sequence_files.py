"""The file names and listing rules of a sequence folder, defined once for every reader (datasets,
frame sources, the track command, the VOT entry point).

A sequence folder holds its frames (in the folder itself or in ``img/``, ``imgs/``, ``img1/``), a
ground-truth file of ``x,y,w,h`` rows and optionally a description; frames are ordered by natural
name order (``2.jpg`` before ``10.jpg``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "GROUND_TRUTH_NAMES",
    "DESCRIPTION_NAMES",
    "FRAME_FOLDERS",
    "IMAGE_EXTENSIONS",
    "natural_key",
    "image_files",
    "first_existing",
]

#: Ground-truth file names, in the order they are looked for (OTB names its file groundtruth_rect.txt).
GROUND_TRUTH_NAMES = ("groundtruth.txt", "groundtruth_rect.txt")
#: Description file names (TNL2K/TNLLT: language.txt; LaSOT: nlp.txt), in the order they are looked for.
DESCRIPTION_NAMES = ("language.txt", "nlp.txt")
#: Sub-folders that hold a sequence's frames (OTB img/, TNL2K imgs/, MOT-style img1/).
FRAME_FOLDERS = ("img", "imgs", "img1")
#: Image file suffixes (compared in lower case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders ``2.jpg`` before ``10.jpg`` (and zero-padded names as usual)."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name))


def image_files(folder: str | os.PathLike, extensions: tuple[str, ...] = IMAGE_EXTENSIONS) -> list[Path]:
    """The image files of an existing ``folder`` (by lower-case suffix) in natural name order."""
    images = [p for p in Path(folder).iterdir() if p.suffix.lower() in extensions and p.is_file()]
    return sorted(images, key=lambda p: natural_key(p.name))


def first_existing(folder: str | os.PathLike, names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` that is a file in ``folder``, or None."""
    folder = Path(folder)
    return next((folder / n for n in names if (folder / n).is_file()), None)
