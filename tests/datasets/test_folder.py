"""Plain folders: the real OTB sequences, one sequence folder, optional files and conventions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reasoningtrack.datasets import DATASETS, DatasetError
from reasoningtrack.datasets.folder import FolderDataset, sequence_from_folder


def test_real_otb_sequences(shared_data):
    root = shared_data / "sequences"
    ds = DATASETS.build("folder", root=root)
    assert ds.sequence_names() == ["Couple", "Crossing", "Football1"]
    assert [p.name for p in ds.other_folders()] == ["otb100_results"]
    football = ds.load("Football1")
    assert len(football.ground_truth) == 74 and len(football.frames) == 81  # kept as is
    assert football.frames[0].name == "0001.jpg" and football.frames[-1].name == "0081.jpg"
    assert football.attributes == {"IPR": True, "OPR": True, "BC": True}
    crossing = ds.load("Crossing")  # tab-separated ground truth
    np.testing.assert_array_equal(crossing.ground_truth[0], [205, 151, 17, 50])
    assert crossing.absent is None and crossing.description is None
    frame = crossing.read_frame(0)
    assert frame.shape == (240, 360, 3) and frame.dtype == np.uint8
    single = FolderDataset(root / "Couple")  # one sequence folder
    assert single.sequence_names() == ["Couple"] and len(single.load("Couple").frames) == 140
    assert sequence_from_folder(root / "Couple").name == "Couple"


def make(folder: Path, frames=3, frame_dir="img", gt_name="groundtruth.txt") -> Path:
    target = folder / frame_dir if frame_dir else folder
    target.mkdir(parents=True, exist_ok=True)
    for i in range(1, frames + 1):
        (target / f"{i:04d}.jpg").write_bytes(b"")
    (folder / gt_name).write_text("".join(f"{i},{i},5,5\n" for i in range(frames)))
    return folder


@pytest.mark.parametrize("frame_dir", ["img", "imgs", "img1", ""])
def test_frame_locations(tmp_path, frame_dir):
    make(tmp_path / "s", frame_dir=frame_dir)
    assert [p.name for p in sequence_from_folder(tmp_path / "s").frames] == ["0001.jpg", "0002.jpg", "0003.jpg"]


def test_optional_files_and_conventions(tmp_path):
    folder = make(tmp_path / "s", gt_name="groundtruth_rect.txt")
    (folder / "nlp.txt").write_text("a dog\n")
    (folder / "absent_label.txt").write_text("1\n0\n1\n")  # TNLLT convention
    seq = sequence_from_folder(folder)
    assert seq.description == "a dog"
    np.testing.assert_array_equal(seq.absent, [False, True, False])
    (folder / "absent.txt").write_text("0\n0\n1\n")  # LaSOT convention wins when both exist
    np.testing.assert_array_equal(sequence_from_folder(folder).absent, [False, False, True])
    (folder / "language.txt").write_text("a cat\n")
    assert sequence_from_folder(folder).description == "a cat"

    lasot = make(tmp_path / "lasot-1")
    (lasot / "full_occlusion.txt").write_text("0,1,0")
    (lasot / "out_of_view.txt").write_text("0,0,1")
    np.testing.assert_array_equal(sequence_from_folder(lasot).absent, [False, True, True])
    (lasot / "out_of_view.txt").unlink()
    with pytest.raises(DatasetError, match="missing out_of_view.txt"):
        sequence_from_folder(lasot)


def test_root_of_sequences_and_split_lists(tmp_path):
    for name in ["b", "a", "c10", "c9"]:
        make(tmp_path / name)
    (tmp_path / "results").mkdir()
    ds = FolderDataset(tmp_path)
    assert ds.sequence_names() == ["a", "b", "c9", "c10"]
    (tmp_path / "train.txt").write_text("a\nb\n")
    (tmp_path / "test.txt").write_text("c9\n")
    assert FolderDataset(tmp_path, "test").sequence_names() == ["c9"]
    assert FolderDataset(tmp_path, "all").sequence_names() == ["a", "b", "c9"]
    (tmp_path / "test.txt").write_text("zz\n")
    with pytest.raises(DatasetError, match="listed sequences without a folder"):
        FolderDataset(tmp_path, "test").sequence_names()
    with pytest.raises(DatasetError, match="no sequence folder 'results'"):
        ds.load("results")


def test_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no sequence"):
        FolderDataset(tmp_path / "empty").sequence_names()
    with pytest.raises(DatasetError, match="no ground truth"):
        sequence_from_folder(tmp_path / "empty")
    with pytest.raises(DatasetError, match="not found"):
        sequence_from_folder(tmp_path / "none")
    folder = make(tmp_path / "s")
    (folder / "groundtruth.txt").write_text("1,2,3,4\n1;2;x;4\n")
    with pytest.raises(DatasetError, match=r"groundtruth.txt:2: not a number: 'x'"):
        sequence_from_folder(folder)
