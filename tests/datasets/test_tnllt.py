"""TNLLT loader on constructed trees that use the real split names of the release."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reasoningtrack.datasets import DATASETS, DatasetError
from reasoningtrack.datasets.tnllt import ATTRIBUTES, TNLLT

FLAGS = "0,1,0,0,1,0,0,0,0,0,0,0,0,0,1\n"  # 15 flags: ROT, IV and AS set


class Layout(TNLLT):
    """Other data in TNLLT's layout: the split comes from the root (the synthetic world does this)."""

    split_lists = None


@pytest.fixture(scope="module")
def real_splits(shared_data) -> dict[str, list[str]]:
    folder = shared_data / "reasoningtrack-release" / "tnllt-splits"
    splits = {s: (folder / f"{s}.txt").read_text().split() for s in ("train", "test")}
    assert len(splits["train"]) == 150 and len(splits["test"]) == 50
    return splits


def make_sequence(folder: Path, frames: int = 4, absent_flags: str | None = None, gt_rows: int | None = None,
                  attributes: str = FLAGS, language: str = "the black car on the road\n") -> Path:
    (folder / "imgs").mkdir(parents=True)
    for i in range(1, frames + 1):
        (folder / "imgs" / f"{i:05d}.png").write_bytes(b"")  # listing only; never decoded here
    rows = gt_rows if gt_rows is not None else frames
    (folder / "groundtruth.txt").write_text("".join(f"{10 + i},{20 + i},30,40\n" for i in range(rows)))
    (folder / "absent_label.txt").write_text(absent_flags if absent_flags is not None else "1\n" * frames)
    (folder / "attributes.txt").write_text(attributes)
    (folder / "language.txt").write_text(language)
    return folder


def test_official_split_lists_ship_with_the_package(tmp_path, real_splits):
    train_name, test_name = real_splits["train"][0], real_splits["test"][0]
    make_sequence(tmp_path / train_name, absent_flags="1\n1\n0\n1\n")
    make_sequence(tmp_path / "TNLLT_test" / test_name)
    (tmp_path / "test.txt").write_text("not_a_tnllt_sequence\n")  # a root list never decides the split
    test = DATASETS.build("tnllt", root=tmp_path, split="test")
    assert test.sequence_names() == real_splits["test"]  # all 50, in the official order
    train = TNLLT(tmp_path, "train")
    assert train.sequence_names() == real_splits["train"]
    assert TNLLT(tmp_path, "all").sequence_names() == real_splits["train"] + real_splits["test"]
    seq = train.load(train_name)
    assert seq.split == "train" and seq.dataset == "tnllt"
    np.testing.assert_array_equal(seq.absent, [False, False, True, False])  # the file says 0 = absent
    np.testing.assert_array_equal(seq.visible, [True, True, False, True])
    np.testing.assert_array_equal(seq.ground_truth[1], [11, 21, 30, 40])
    assert seq.description == "the black car on the road"
    # the toolkit's names, in its order (run_tracker_performance_evaluation.m, att_fig_name)
    assert list(seq.attributes) == list(ATTRIBUTES) == "CM ROT DEF FOC IV OV POC VC SV BC MB ARC LR FM AS".split()
    assert [k for k, v in seq.attributes.items() if v] == ["ROT", "IV", "AS"]
    assert [p.name for p in seq.frames] == ["00001.png", "00002.png", "00003.png", "00004.png"]
    assert test.load(test_name).split == "test"
    assert TNLLT(tmp_path, "all").load(test_name).split == "test"
    with pytest.raises(DatasetError, match="no folder for sequence") as info:
        test.load(real_splits["test"][1])  # a partial copy: listed, but not there
    assert "TNLLT_test" in str(info.value)


def test_folder_contents_never_decide_a_tnllt_split(tmp_path, real_splits):
    for name in real_splits["test"][:2]:
        make_sequence(tmp_path / name)
    assert TNLLT(tmp_path, "train").sequence_names() == real_splits["train"]  # not the two folders


def test_layout_split_subfolders_and_plain_root(tmp_path, real_splits):
    names = real_splits["test"][:2]
    for name in names:
        make_sequence(tmp_path / "sub" / "TNLLT_test" / name)
    make_sequence(tmp_path / "sub" / "TNLLT_train" / real_splits["train"][5])
    assert Layout(tmp_path / "sub", "test").sequence_names() == sorted(names)
    assert Layout(tmp_path / "sub", "train").sequence_names() == [real_splits["train"][5]]
    for name in names:
        make_sequence(tmp_path / "plain" / name)
    plain = Layout(tmp_path / "plain", "train")  # no split information: the root's folders
    assert plain.sequence_names() == sorted(names)
    assert plain.load(names[0]).split == "train"


def test_attribute_names_option_and_codes(tmp_path):
    make_sequence(tmp_path / "a", attributes="0 1 0\n")
    make_sequence(tmp_path / "b", attributes="POC, FM\n")
    ds = TNLLT(tmp_path, attribute_names=["X", "Y", "Z"])
    assert ds.load("a").attributes == {"X": False, "Y": True, "Z": False}
    assert ds.load("b").attributes == {"X": False, "Y": False, "Z": False, "POC": True, "FM": True}
    make_sequence(tmp_path / "c", attributes="0,1\n")
    with pytest.raises(DatasetError, match="2 attribute flags, expected 3"):
        ds.load("c")


def test_lengths_are_kept_not_fixed(tmp_path):
    make_sequence(tmp_path / "s", frames=5, gt_rows=3, absent_flags="1\n1\n1\n1\n")
    seq = TNLLT(tmp_path).load("s")
    assert len(seq.ground_truth) == 3 and len(seq.absent) == 4 and len(seq.frames) == 5


def test_frames_are_listed_lazily(tmp_path):
    make_sequence(tmp_path / "s", frames=2)
    seq = TNLLT(tmp_path).load("s")
    (tmp_path / "s" / "imgs" / "00003.png").write_bytes(b"")  # appears after load, before first use
    assert len(seq.frames) == 3


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: (f / "groundtruth.txt").write_text("1,2,3,4\n1,2,3\n"), r"groundtruth.txt:2: expected x,y,w,h"),
        (lambda f: (f / "absent_label.txt").write_text("1\n2\n"), r"only 0 and 1; flag #2 is 2"),
        (lambda f: (f / "absent_label.txt").write_text("1\nx\n"), r"absent_label.txt:2: expected integers"),
        (lambda f: (f / "language.txt").unlink(), r"missing description \(language.txt\)"),
        (lambda f: (f / "language.txt").write_text("\n \n"), r"empty description"),
        (lambda f: (f / "attributes.txt").write_text("SV, 1\n"), r"attributes.txt:1: '1' is neither"),
        (lambda f: (f / "groundtruth.txt").write_text(""), r"empty ground truth"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, damage, message):
    folder = make_sequence(tmp_path / "s")
    damage(folder)
    with pytest.raises(DatasetError, match=message) as info:
        TNLLT(tmp_path).load("s")
    assert str(folder) in str(info.value)


def test_missing_imgs_folder_raises_on_use(tmp_path):
    folder = make_sequence(tmp_path / "s")
    for p in (folder / "imgs").iterdir():
        p.unlink()
    (folder / "imgs").rmdir()
    seq = TNLLT(tmp_path).load("s")
    with pytest.raises(DatasetError, match="missing frame folder"):
        _ = seq.frames


def test_split_errors(tmp_path):
    (tmp_path / "train.txt").write_text("a\nb\n")
    (tmp_path / "test.txt").write_text("b\n")
    with pytest.raises(DatasetError, match="both the train and test"):
        Layout(tmp_path, "all").sequence_names()
    (tmp_path / "test.txt").write_text("c\nc\n")
    with pytest.raises(DatasetError, match="already listed on line 1"):
        Layout(tmp_path, "test").sequence_names()
    (tmp_path / "train.txt").unlink()
    with pytest.raises(DatasetError, match="no train split under"):
        Layout(tmp_path, "train").sequence_names()
    with pytest.raises(DatasetError, match="unknown split"):
        TNLLT(tmp_path, "val")
    with pytest.raises(DatasetError, match="root folder not found"):
        TNLLT(tmp_path / "none")
