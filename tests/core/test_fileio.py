"""fileio: a reader sees the old file or the whole new one, and a failed write leaves no trace."""

from __future__ import annotations

import json
import re

import pytest

from reasoningtrack.fileio import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text, temporary_sibling


def test_writes_replace_and_create_folders(tmp_path):
    target = tmp_path / "a" / "b" / "out.txt"
    atomic_write_text(target, "first\nline\n")
    assert target.read_bytes() == b"first\nline\n"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    atomic_write_json(target, {"b": 1, "a": [1.5, None]}, sort_keys=True)
    assert json.loads(target.read_text()) == {"a": [1.5, None], "b": 1}
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_temporary_name_is_the_one_the_benchmark_runner_cleans_up(tmp_path):
    tmp = temporary_sibling(tmp_path / "seq-1.txt")
    assert tmp.parent == tmp_path
    # pipeline/runner.py removes leftovers matching this pattern when a killed run resumes
    assert re.match(r"^\.(.+?)\.\d+(?:\.\d+)?\.tmp$", tmp.name).group(1) == "seq-1.txt"


def test_replace_folder_swaps_whole_folders(tmp_path):
    from reasoningtrack.fileio import replace_folder

    final, work = tmp_path / "run", tmp_path / ".run.partial"
    final.mkdir()
    (final / "old.txt").write_text("old")
    work.mkdir()
    (work / "new.txt").write_text("new")
    assert replace_folder(work, final) == final
    assert [p.name for p in final.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no work folder, no old copy left
