"""LaSOT extension subset (LaSOT-ext, 150 sequences of 15 new classes, test only).

Same on-disk layout as LaSOT (``<class>/<class>-<n>/`` with ``img/``, ``groundtruth.txt``,
``full_occlusion.txt``, ``out_of_view.txt``, ``nlp.txt``, or a toolkit-style annotation folder)
and the same 14 attributes. The split is every sequence present, in natural order, unless
``split_file=`` names a list: no list file is searched for, so LaSOT's ``testing_set.txt`` lying
in a parent folder can never be picked up by mistake.
"""

from __future__ import annotations

from .lasot import LaSOT

__all__ = ["LaSOTExt"]


class LaSOTExt(LaSOT):
    """LaSOT-ext (150 test sequences) -- dataset root or toolkit-style annotation folder."""

    name = "lasot-ext"
    splits = ("test",)
    list_file_names: tuple[str, ...] = ()
