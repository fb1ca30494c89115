"""Shared annotation readers: layouts, conventions and the errors they raise."""

from __future__ import annotations

import numpy as np
import pytest

from reasoningtrack.datasets import DatasetError
from reasoningtrack.datasets.parsing import (
    align_flags,
    list_images,
    read_attribute_file,
    read_box_table,
    read_box_tables,
    read_flags,
    read_integers,
    read_name_list,
    read_numeric_table,
    read_text,
)


def write(tmp_path, text, name="f.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", ["0\n1\n1\n0\n", "0,1,1,0", "0, 1\n1,0\n", "0 1 1 0\n\n", "\ufeff0\r\n1\r\n1\r\n0\r\n", "0.0,1.0,1,0"])
def test_flags_any_layout(tmp_path, text):
    np.testing.assert_array_equal(read_flags(write(tmp_path, text)), [False, True, True, False])


def test_flags_errors(tmp_path):
    with pytest.raises(DatasetError, match="flag #3 is 2"):
        read_flags(write(tmp_path, "0\n1\n2\n"))
    with pytest.raises(DatasetError, match=r"f.txt:2: expected integers .* got 'yes'"):
        read_flags(write(tmp_path, "0\nyes\n"))
    with pytest.raises(DatasetError, match=r"f.txt:1: .* got '0.5'"):
        read_integers(write(tmp_path, "0.5\n"))
    with pytest.raises(DatasetError, match="holds 2 flags, expected 3"):
        read_flags(write(tmp_path, "0\n1\n"), length=3)
    with pytest.raises(DatasetError, match="missing flag file"):
        read_flags(tmp_path / "none.txt")
    assert read_flags(write(tmp_path, "")).shape == (0,)


def test_flag_errors_name_the_line(tmp_path):
    with pytest.raises(DatasetError, match=r"f.txt:3: expected absent flags \(only 0 and 1; flag #5 is 2\)"):
        read_flags(write(tmp_path, "0,1\n1\n1,2\n"), "absent flags")
    with pytest.raises(DatasetError, match=r"f.txt:2: expected integers in the absent flags, got '1x'"):
        read_flags(write(tmp_path, "0\n1x\n"), "absent flags")
    with pytest.raises(DatasetError, match=r"expected 3 attribute flags, got 2"):
        read_flags(write(tmp_path, "0,1"), "attribute flags", length=3)
    with pytest.raises(DatasetError, match="missing absent flags"):
        read_flags(tmp_path, "absent flags")  # a folder is not a flag file


def test_align_flags(tmp_path):
    np.testing.assert_array_equal(align_flags(np.array([True, False, True]), 2, tmp_path), [True, False])
    with pytest.raises(DatasetError, match="1 flags for 2 ground-truth rows"):
        align_flags(np.array([True]), 2, tmp_path)


def test_real_lasot_flag_layouts(shared_data, tmp_path):
    import tarfile

    with tarfile.open(shared_data / "lasot" / "lasot_test_annos.tar.xz") as tar:
        members = [m for m in tar.getmembers() if m.name.endswith(("att/airplane-1.txt", "absent/airplane-1.txt", "nlp/airplane-1.txt"))]
        tar.extractall(tmp_path, members=members, filter="data")
    root = tmp_path / "lasot_test_annos"
    att = read_flags(root / "att" / "airplane-1.txt", length=14)  # one comma-separated row
    assert att.sum() == 4 and att[1] and att[5]
    assert read_flags(root / "absent" / "airplane-1.txt").shape == (2788,)  # one per line
    assert read_text(root / "nlp" / "airplane-1.txt") == "white airplane landing on ground"  # no newline


def test_text_and_name_lists(tmp_path):
    assert read_text(write(tmp_path, "  a red car\n\nturning left \n")) == "a red car turning left"
    assert read_text(write(tmp_path, "\n"), required=False) is None
    with pytest.raises(DatasetError, match="empty description"):
        read_text(write(tmp_path, " \n"))
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe bad")
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_text(tmp_path / "bad.txt")
    assert read_name_list(write(tmp_path, "a\n b \n\nc\n")) == ["a", "b", "c"]
    with pytest.raises(DatasetError, match="f.txt:3: 'a' already listed on line 1"):
        read_name_list(write(tmp_path, "a\nb\na\n"))
    assert read_name_list(write(tmp_path, "\n \n")) == []
    with pytest.raises(DatasetError, match="f.txt: empty test list"):
        read_name_list(write(tmp_path, "\n \n"), "test list", required=True)


def test_tables(tmp_path):
    np.testing.assert_array_equal(read_box_table(write(tmp_path, "1\t2\t3\t4\n5,6,7,8\n")), [[1, 2, 3, 4], [5, 6, 7, 8]])
    with pytest.raises(DatasetError, match=r"f.txt:2: expected x,y,w,h"):
        read_box_table(write(tmp_path, "1,2,3,4\n5,6\n"))
    with pytest.raises(DatasetError, match="missing ground-truth file"):
        read_box_table(tmp_path / "none.txt")
    np.testing.assert_array_equal(read_numeric_table(write(tmp_path, "1 2\n3 4\n"), 2), [[1, 2], [3, 4]])
    with pytest.raises(DatasetError, match=r"f.txt:1: expected 3 numbers"):
        read_numeric_table(write(tmp_path, "1 2\n"), 3)


def test_box_tables_of_many_files(tmp_path):
    plain = write(tmp_path, "1,2,3,4\n5,6,7,8\n", "a.txt")
    tabs = write(tmp_path, "1\t2\t3\t4\n", "b.txt")
    tables = read_box_tables([plain, tabs, plain])
    assert [t.tolist() for t in tables] == [[[1, 2, 3, 4], [5, 6, 7, 8]], [[1, 2, 3, 4]], [[1, 2, 3, 4], [5, 6, 7, 8]]]
    with pytest.raises(DatasetError, match=r"c.txt:2: expected x,y,w,h"):
        read_box_tables([plain, write(tmp_path, "1,2,3,4\n5,6\n", "c.txt")])
    with pytest.raises(DatasetError, match=r"missing ground-truth file: .*none.txt"):
        read_box_tables([plain, tmp_path / "none.txt"])
    with pytest.raises(DatasetError, match=r"e.txt: empty ground-truth file"):
        read_box_tables([plain, write(tmp_path, "\n", "e.txt")])


def test_attribute_file_forms(tmp_path):
    assert read_attribute_file(write(tmp_path, "SV, DEF, FM")) == {"SV": True, "DEF": True, "FM": True}
    assert read_attribute_file(write(tmp_path, "SV\n"), ("SV", "OV")) == {"SV": True, "OV": False}
    assert read_attribute_file(write(tmp_path, "1\n0\n"), ("SV", "OV")) == {"SV": True, "OV": False}
    assert read_attribute_file(write(tmp_path, "")) == {}
    with pytest.raises(DatasetError, match="flag #1 is 3"):
        read_attribute_file(write(tmp_path, "3,0"))


def test_list_images_natural_order(tmp_path):
    for name in ["10.jpg", "2.jpg", "1.JPG", "notes.txt", "3.png"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["1.JPG", "2.jpg", "3.png", "10.jpg"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        list_images(tmp_path / "empty")
    assert list_images(tmp_path / "empty", allow_empty=True) == []
    assert [p.name for p in list_images(tmp_path, extensions=(".png",))] == ["3.png"]
