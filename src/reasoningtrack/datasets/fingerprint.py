"""A short fingerprint of a dataset split's content, so that results are never resumed or scored
against another dataset that happens to sit at the same path (or a relative path resolved from
another folder).

What it covers: the sequence names in order and, per sequence, the number of ground-truth rows and
a SHA-256 of the ground-truth boxes as read (float64, so the same annotations written with other
number formatting give the same fingerprint) and of the description (the tracker's text input:
another sentence gives other results). Frames are not hashed (too costly for a check run at every
start); a changed annotation or description, a missing, added or renamed sequence all change it.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["dataset_fingerprint"]


def dataset_fingerprint(dataset, names: list[str]) -> str:
    """``"sha256:<hex>"`` over ``names`` of ``dataset`` (see the module docstring)."""
    total = hashlib.sha256()
    for name in names:
        sequence = dataset.load(name)
        boxes = np.ascontiguousarray(np.asarray(sequence.ground_truth, dtype=np.float64))
        digest = hashlib.sha256(boxes.tobytes()).hexdigest()
        text = hashlib.sha256((sequence.description or "").strip().encode("utf-8")).hexdigest()
        total.update(f"{name}\t{boxes.shape[0]}\t{digest}\t{text}\n".encode("utf-8"))
    return f"sha256:{total.hexdigest()}"
