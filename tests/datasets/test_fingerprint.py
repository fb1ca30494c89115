"""The dataset fingerprint stored in a benchmark's config (datasets/fingerprint.py)."""

from __future__ import annotations

import shutil

from reasoningtrack.datasets import DATASETS
from reasoningtrack.datasets.fingerprint import dataset_fingerprint
from reasoningtrack.datasets.synthetic import WorldConfig, write_dataset


def fingerprint(root, names=None):
    dataset = DATASETS.build("synthetic", root=root, split="test")
    return dataset_fingerprint(dataset, names or dataset.sequence_names())


def test_fingerprint_follows_names_and_ground_truth_not_number_formatting(tmp_path):
    root = write_dataset(tmp_path / "a", sequences=2, seed=4, config=WorldConfig(frames=20, width=128, height=96), splits=("test",))
    first = fingerprint(root)
    assert first.startswith("sha256:") and fingerprint(root) == first
    names = (root / "test.txt").read_text().split()
    assert fingerprint(root, names[:1]) != first

    copy = tmp_path / "b"
    shutil.copytree(root, copy)
    gt = copy / "test" / names[0] / "groundtruth.txt"
    lines = gt.read_text().splitlines()
    values = [float(v) for v in lines[3].split(",")]
    lines[3] = ", ".join(format(v, ".17e") for v in values)  # the same boxes written differently
    gt.write_text("\n".join(lines) + "\n")
    assert fingerprint(copy) == first
    lines[3] = ",".join(str(v + 1.0) for v in values)  # one box changed
    gt.write_text("\n".join(lines) + "\n")
    assert fingerprint(copy) != first

    shutil.rmtree(copy)
    shutil.copytree(root, copy)
    (copy / "test" / names[1] / "language.txt").write_text("another target altogether\n")  # the text input changed
    assert fingerprint(copy) != first
