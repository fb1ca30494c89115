"""The benchmark loaders evaluation needs: LaSOT, LaSOT-ext, TNL2K, OTB99-Lang (both layouts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from reasoningtrack.datasets import DATASETS, DatasetError

BOX_ROWS = "10,20,30,40\n11,21,30,40\n12,22,30,40\n"


# -- LaSOT --------------------------------------------------------------------------------------------


def test_lasot_toolkit_annos_real(lasot_annos, lasot_testing_set):
    ds = DATASETS.build("lasot", root=lasot_annos, split_file=lasot_testing_set)
    assert ds.layout == "annos" and len(ds) == 280
    names = [n.strip() for n in lasot_testing_set.read_text().splitlines() if n.strip()]
    assert ds.sequence_names() == names  # the official order
    seq = ds.load("airplane-1")
    assert seq.ground_truth[0].tolist() == [367, 101, 41, 16]
    assert seq.description == "white airplane landing on ground"
    assert list(seq.attributes) == ["IV", "POC", "DEF", "MB", "CM", "ROT", "BC", "VC", "SV", "FOC", "FM", "OV", "LR", "ARC"]
    assert [k for k, v in seq.attributes.items() if v] == ["POC", "ROT", "SV", "LR"]
    assert seq.frames == [] and len(seq.absent) == len(seq.ground_truth)
    assert DATASETS.build("lasot", root=lasot_annos).split_file is None  # no list beside the extracted archive


def test_lasot_root_of_extracted_archive_and_natural_order(lasot_annos):
    ds = DATASETS.build("lasot", root=lasot_annos.parent)  # the folder holding lasot_test_annos/
    assert ds.annos_dir == lasot_annos
    names = ds.sequence_names()
    assert len(names) == 280 and names.index("airplane-9") < names.index("airplane-13")


def test_lasot_list_found_in_toolkit_config_folder(tmp_path, lasot_annos):
    toolkit = tmp_path / "toolkit"
    annos = toolkit / "annos"
    _copy_lasot_subset(lasot_annos, annos, ["airplane-1", "bird-2"])
    (toolkit / "sequence_evaluation_config").mkdir()
    (toolkit / "sequence_evaluation_config" / "testing_set.txt").write_text("bird-2\nairplane-1\n")
    ds = DATASETS.build("lasot", root=annos)
    assert ds.sequence_names() == ["bird-2", "airplane-1"]


def test_lasot_list_naming_an_absent_sequence_is_an_error(tmp_path, lasot_annos):
    annos = tmp_path / "annos"
    _copy_lasot_subset(lasot_annos, annos, ["airplane-1"])
    (tmp_path / "testing_set.txt").write_text("airplane-1\nzebra-3\n")
    with pytest.raises(DatasetError, match="zebra-3"):
        DATASETS.build("lasot", root=annos).sequence_names()


def _copy_lasot_subset(src: Path, dst: Path, names: list[str]) -> None:
    for sub in ("", "absent", "att", "nlp"):
        (dst / sub).mkdir(parents=True, exist_ok=True)
        for n in names:
            shutil.copy(src / sub / f"{n}.txt", dst / sub / f"{n}.txt")


def _lasot_sequence(root: Path, name: str, occlusion: str, out_of_view: str, rows: str = BOX_ROWS) -> Path:
    seq = root / name.rsplit("-", 1)[0] / name
    (seq / "img").mkdir(parents=True)
    for i in range(1, rows.count("\n") + 1):
        (seq / "img" / f"{i:08d}.jpg").write_bytes(b"")
    (seq / "groundtruth.txt").write_text(rows)
    (seq / "full_occlusion.txt").write_text(occlusion)
    (seq / "out_of_view.txt").write_text(out_of_view)
    (seq / "nlp.txt").write_text("a red kite in the sky\n")
    return seq


def test_lasot_dataset_root_layout(tmp_path):
    root = tmp_path / "LaSOT"
    _lasot_sequence(root, "kite-1", "0,1,0", "0,0,1")
    _lasot_sequence(root, "kite-2", "0,0,0", "0,0,0")
    _lasot_sequence(root, "cat-3", "0,0,0", "0,0,0")
    (root / "testing_set.txt").write_text("kite-2\n")
    test = DATASETS.build("lasot", root=root)
    assert test.layout == "dataset" and test.sequence_names() == ["kite-2"]
    assert DATASETS.build("lasot", root=root, split="train").sequence_names() == ["cat-3", "kite-1"]
    assert DATASETS.build("lasot", root=root, split="all").sequence_names() == ["cat-3", "kite-1", "kite-2"]
    seq = DATASETS.build("lasot", root=root, split="all").load("kite-1")
    assert seq.absent.tolist() == [False, True, True]  # full occlusion OR out of view
    assert [p.name for p in seq.frames] == ["00000001.jpg", "00000002.jpg", "00000003.jpg"]
    assert seq.description == "a red kite in the sky" and seq.attributes == {}


def test_lasot_dataset_root_with_toolkit_annotations(tmp_path):
    root = tmp_path / "LaSOT"
    _lasot_sequence(root, "kite-1", "0,0,0", "0,0,0")
    annos = tmp_path / "annos"
    for sub in ("absent", "att", "nlp"):
        (annos / sub).mkdir(parents=True)
    (annos / "kite-1.txt").write_text("1,2,3,4\n1,2,3,4\n1,2,3,4\n")
    (annos / "absent" / "kite-1.txt").write_text("0\n0\n1\n")
    (annos / "att" / "kite-1.txt").write_text("1,0,0,0,0,0,0,0,0,0,0,0,0,1")
    (annos / "nlp" / "kite-1.txt").write_text("kite")
    seq = DATASETS.build("lasot", root=root, annos=annos).load("kite-1")
    assert seq.ground_truth[0].tolist() == [1, 2, 3, 4]  # the toolkit's GT wins (toolkit issue #18)
    assert seq.absent.tolist() == [False, False, True]
    assert [k for k, v in seq.attributes.items() if v] == ["IV", "ARC"]
    assert len(seq.frames) == 3


def test_lasot_train_split_needs_the_list(tmp_path):
    _lasot_sequence(tmp_path / "L", "kite-1", "0,0,0", "0,0,0")
    with pytest.raises(DatasetError, match="train split needs"):
        DATASETS.build("lasot", root=tmp_path / "L", split="train").sequence_names()


@pytest.mark.parametrize(
    "file, content, message",
    [
        ("kite-1.txt", "1,2,3,4\n1,2,x,4\n", r"kite-1.txt:2"),
        ("absent/kite-1.txt", "0\n2\n", r"kite-1.txt:2: expected 0/1"),
        ("att/kite-1.txt", "1,0,1", r"expected 14 attribute flags, got 3"),
        ("absent/kite-1.txt", "0\n", r"1 flags for 2 ground-truth rows"),
    ],
)
def test_lasot_malformed_annotation_names_file_and_line(tmp_path, file, content, message):
    annos = tmp_path / "annos"
    for sub in ("absent", "att", "nlp"):
        (annos / sub).mkdir(parents=True)
    (annos / "kite-1.txt").write_text("1,2,3,4\n1,2,3,4\n")
    (annos / "absent" / "kite-1.txt").write_text("0\n0\n")
    (annos / "att" / "kite-1.txt").write_text(",".join(["0"] * 14))
    (annos / "nlp" / "kite-1.txt").write_text("kite")
    (annos / file).write_text(content)
    with pytest.raises(DatasetError, match=message):
        DATASETS.build("lasot", root=annos).load("kite-1")


def test_lasot_missing_file_is_named(tmp_path):
    annos = tmp_path / "annos"
    (annos / "absent").mkdir(parents=True)
    (annos / "kite-1.txt").write_text("1,2,3,4\n")
    (annos / "absent" / "kite-1.txt").write_text("0\n")
    with pytest.raises(DatasetError, match=r"att/kite-1.txt"):
        DATASETS.build("lasot", root=annos).load("kite-1")


def test_lasot_rejects_an_unrelated_folder(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(DatasetError, match="neither a dataset root"):
        DATASETS.build("lasot", root=tmp_path)


def test_lasot_ext_never_picks_lasots_list(tmp_path):
    root = tmp_path / "LaSOT_ext"
    _lasot_sequence(root, "atv-1", "0,0,0", "0,0,0")
    _lasot_sequence(root, "atv-10", "0,0,0", "0,0,0")
    _lasot_sequence(root, "atv-2", "0,0,0", "0,0,0")
    (tmp_path / "testing_set.txt").write_text("airplane-1\n")  # LaSOT's list in the parent folder
    ds = DATASETS.build("lasot-ext", root=root)
    assert ds.name == "lasot-ext" and ds.sequence_names() == ["atv-1", "atv-2", "atv-10"]
    assert ds.load("atv-2").dataset == "lasot-ext"
    with pytest.raises(DatasetError, match="unknown split"):
        DATASETS.build("lasot_ext", root=root, split="train")


# -- TNL2K --------------------------------------------------------------------------------------------


def test_tnl2k_toolkit_annos_real(tnl2k_annos, shared_data):
    ds = DATASETS.build("tnl2k", root=tnl2k_annos.parent)  # the root of the extracted archive
    assert ds.layout == "annos" and len(ds) == 700 and ds.split_file is None
    listed = DATASETS.build("tnl2k", root=tnl2k_annos, split_file=shared_data / "tnl2k" / "TNL2K_testing_set.txt")
    assert listed.sequence_names()[:2] == ["Assian_video_Z03_done", "BF5_Blade_video_01-Done"]
    seq = ds.load("advSamp_monitor_bikeyellow")  # 929 GT rows, 930 flags
    assert len(seq.ground_truth) == len(seq.absent) == 929
    assert list(seq.attributes)[:3] == ["CM", "ROT", "DEF"] and len(seq.attributes) == 17
    jump = ds.load("INF_jump")  # an attribute file with trailing blank CRLF lines
    assert sum(jump.attributes.values()) == 2
    with pytest.raises(DatasetError, match="only the test split"):
        DATASETS.build("tnl2k", root=tnl2k_annos, split="train")


def test_tnl2k_dataset_root_layout(tmp_path):
    split = tmp_path / "TNL2K" / "TNL2K_test_subset"
    seq = split / "game_video_1"
    (seq / "imgs").mkdir(parents=True)
    for i in (1, 2, 10):
        (seq / "imgs" / f"{i:05d}.png").write_bytes(b"")
    (seq / "groundtruth.txt").write_text("1,2,3,4\n0,0,0,0\n5,6,7,8\n")
    (seq / "language.txt").write_text("the player in white\r\n")
    ds = DATASETS.build("tnl2k", root=tmp_path / "TNL2K")
    assert ds.layout == "dataset" and ds.sequence_names() == ["game_video_1"]
    s = ds.load("game_video_1")
    assert s.absent.tolist() == [False, True, False]  # 0,0,0,0 rows
    assert s.description == "the player in white"
    assert [p.name for p in s.frames] == ["00001.png", "00002.png", "00010.png"]


# -- OTB99-Lang ----------------------------------------------------------------------------------------


def test_otb_plain_folders_real(shared_data):
    ds = DATASETS.build("otb_lang", root=shared_data / "sequences")
    crossing = ds.load("Crossing")  # tab-separated ground truth
    assert crossing.ground_truth[0].tolist() == [205, 151, 17, 50]
    assert crossing.absent is None and crossing.description is None
    assert [k for k, v in crossing.attributes.items() if v] == ["SV", "DEF", "FM", "OPR", "BC"]
    football = ds.load("Football1")
    assert len(football.ground_truth) == 74 and len(football.frames) == 81


def test_otb99_lang_layout_with_quirks(tmp_path):
    videos = tmp_path / "OTB_videos"
    for name, first, count in (("BlurCar1", 1, 6), ("Board", 1, 2)):
        (videos / name / "img").mkdir(parents=True)
        digits = 5 if name == "Board" else 4
        for i in range(first, first + count):
            (videos / name / "img" / f"{i:0{digits}d}.jpg").write_bytes(b"")
        (videos / name / "groundtruth_rect.txt").write_text("1 2 3 4\n5 6 7 8\n")
    (videos / "Jogging" / "img").mkdir(parents=True)
    (videos / "Jogging" / "groundtruth_rect.1.txt").write_text("1,1,5,5\n")
    (videos / "Jogging" / "groundtruth_rect.2.txt").write_text("9,9,5,5\n")
    (tmp_path / "OTB_query_test").mkdir()
    (tmp_path / "OTB_query_test" / "BlurCar1.txt").write_text("the black car\n")
    (tmp_path / "OTB_query_test" / "Board.txt").write_text("the circuit board\n")
    (tmp_path / "OTB_query_train").mkdir()
    (tmp_path / "OTB_query_train" / "Jogging-2.txt").write_text("the woman on the right\n")
    test = DATASETS.build("otb-lang", root=tmp_path, start_frames={"BlurCar1": 4})
    assert test.sequence_names() == ["BlurCar1", "Board"]
    car = test.load("BlurCar1")
    assert car.description == "the black car"
    assert [p.name for p in car.frames] == ["0004.jpg", "0005.jpg", "0006.jpg"]  # annotation starts at 4
    assert [p.name for p in test.load("Board").frames] == ["00001.jpg", "00002.jpg"]
    train = DATASETS.build("otb-lang", root=tmp_path, split="train")
    jog = train.load("Jogging-2")
    assert jog.ground_truth.tolist() == [[9, 9, 5, 5]] and jog.description == "the woman on the right"


def test_otb_unknown_attribute_is_named(tmp_path):
    (tmp_path / "Car" / "img").mkdir(parents=True)
    (tmp_path / "Car" / "groundtruth_rect.txt").write_text("1,2,3,4\n")
    (tmp_path / "Car" / "attrs.txt").write_text("SV, XYZ")
    with pytest.raises(DatasetError, match=r"attrs.txt:1: unknown OTB attribute"):
        DATASETS.build("otb-lang", root=tmp_path).load("Car")


def test_loaded_ground_truth_is_float64(lasot_sequences):
    assert all(s.ground_truth.dtype == np.float64 and s.ground_truth.shape[1] == 4 for s in lasot_sequences[:5])
