"""GOT-10k loader on a constructed tree in the official layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reasoningtrack.datasets import DATASETS, DatasetError
from reasoningtrack.datasets.got10k import GOT10k, describe_meta

META = """[METAINFO]
url: https://youtu.be/example
begin: 00:00:20
end: 00:00:30
anno_fps: 10Hz
object_class: ichneumon
motion_class: walking
major_class: carnivore
root_class: animal
motion_adverb: slowly
resolution: (1920, 1080)
"""


def make_split(root: Path, split: str, names: list[str], frames: int = 4, listed: bool = True) -> None:
    for name in names:
        folder = root / split / name
        folder.mkdir(parents=True)
        for i in range(1, frames + 1):
            (folder / f"{i:08d}.jpg").write_bytes(b"")
        rows = 1 if split == "test" else frames
        (folder / "groundtruth.txt").write_text("".join(f"{i + 1}.5,2,30,40\n" for i in range(rows)))
        if split != "test":
            (folder / "absence.label").write_text("0\n0\n1\n0\n")
            (folder / "cover.label").write_text("8\n5\n0\n8\n")
            (folder / "cut_by_image.label").write_text("0\n1\n0\n0\n")
            (folder / "meta_info.ini").write_text(META)
        else:
            (folder / "meta_info.ini").write_text("[METAINFO]\nurl: https://youtu.be/x\n")
    if listed:
        (root / split / "list.txt").write_text("\n".join(names) + "\n")


def test_train_val_test(tmp_path):
    make_split(tmp_path, "train", ["GOT-10k_Train_000002", "GOT-10k_Train_000001"])
    make_split(tmp_path, "val", ["GOT-10k_Val_000001"], listed=False)
    make_split(tmp_path, "test", ["GOT-10k_Test_000001"])
    train = DATASETS.build("got10k", root=tmp_path, split="train")
    assert train.sequence_names() == ["GOT-10k_Train_000002", "GOT-10k_Train_000001"]  # list.txt order
    seq = train.load("GOT-10k_Train_000001")
    assert seq.ground_truth.shape == (4, 4) and seq.ground_truth[0, 0] == 1.5
    np.testing.assert_array_equal(seq.absent, [False, False, True, False])
    assert seq.description == "ichneumon walking slowly" and seq.attributes == {}
    assert [p.name for p in seq.frames] == [f"{i:08d}.jpg" for i in range(1, 5)]
    labels = train.labels("GOT-10k_Train_000001")
    np.testing.assert_array_equal(labels["cover"], [8, 5, 0, 8])
    np.testing.assert_array_equal(labels["cut_by_image"], [False, True, False, False])
    assert GOT10k(tmp_path, "val").sequence_names() == ["GOT-10k_Val_000001"]
    test = GOT10k(tmp_path, "test")
    only = test.load("GOT-10k_Test_000001")
    assert only.ground_truth.shape == (1, 4) and only.absent is None and only.description is None
    assert len(only.frames) == 4
    with pytest.raises(DatasetError, match="no per-frame labels"):
        test.labels("GOT-10k_Test_000001")


def test_describe_meta():
    assert describe_meta({"object_class": "person", "motion_class": "running"}) == "person running"
    assert describe_meta({"motion_class": "running"}) is None


def test_errors(tmp_path):
    with pytest.raises(DatasetError, match="split folder not found"):
        GOT10k(tmp_path, "val")
    make_split(tmp_path, "train", ["a", "b", "c", "d"])
    (tmp_path / "train" / "a" / "absence.label").unlink()
    ds = GOT10k(tmp_path, "train")
    with pytest.raises(DatasetError, match="missing absence.label"):
        ds.load("a")
    (tmp_path / "train" / "b" / "meta_info.ini").write_text("url = x\n")
    with pytest.raises(DatasetError, match="malformed meta_info.ini"):
        ds.load("b")
    (tmp_path / "train" / "c" / "cover.label").write_text("8\n9\n")
    with pytest.raises(DatasetError, match="value 9 at frame 2 is outside 0..8"):
        ds.labels("c")
    (tmp_path / "train" / "d" / "groundtruth.txt").write_text("1,2,3,4\n1,2,3,4,5\n")
    with pytest.raises(DatasetError, match=r"groundtruth.txt:2: expected x,y,w,h"):
        ds.load("d")
    with pytest.raises(DatasetError, match="sequence folder not found"):
        ds.load("zz")
