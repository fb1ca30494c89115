"""Constants and helpers of the web-demo tests (imported by the test modules; the fixtures are in
conftest.py). A module name of its own: ``from conftest import`` would find another folder's
conftest when the whole suite runs."""

from __future__ import annotations

import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "demo"
CLIP_FRAMES = 40
#: OTB's first Crossing box (groundtruth_rect.txt, row 1): the person the tests drag a box over.
CROSSING_BOX = (205, 151, 17, 50)
CROSSING_TEXT = "a person crossing the road"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_zip_run(path: Path, into: Path) -> Path:
    """Extract a downloaded run zip; returns the run folder inside it."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        archive.extractall(into)
        names = {Path(n).parts[0] for n in archive.namelist()}
    assert len(names) == 1, names
    return into / names.pop()
