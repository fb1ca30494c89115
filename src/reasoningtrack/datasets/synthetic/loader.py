"""Reading a synthetic dataset written by ``reasoningtrack data synth`` (the TNLLT layout plus
``events.json`` with the per-frame truth)."""

from __future__ import annotations

import json

from ..base import DatasetError, Sequence
from ..tnllt import TNLLT
from .world import ATTRIBUTES

__all__ = ["SyntheticDataset"]


class SyntheticDataset(TNLLT):
    """A dataset written by :func:`write_dataset` / ``reasoningtrack data synth`` (TNLLT layout).

    Adds :meth:`facts` (the per-frame truth from ``events.json``) and fills every attribute code
    of :data:`ATTRIBUTES` (False where ``attributes.txt`` does not list it).
    """

    name = "synthetic"
    attribute_names = tuple(ATTRIBUTES)
    split_lists = None  # its own train.txt / test.txt under the root

    def __init__(self, root, split: str = "test", attribute_names=None):
        super().__init__(root, split, attribute_names)
        self._check_complete()

    def _check_complete(self) -> None:
        """An interrupted ``data synth`` leaves ``synthetic.json`` but not every sequence (and no
        ``<split>.txt``): say so, and how to finish it, instead of reading the folders as data."""
        manifest_path = self.root / "synthetic.json"
        if not manifest_path.is_file():
            return
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            expected, written_splits = int(manifest["sequences"]), list(manifest["splits"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise DatasetError(f"{manifest_path}: not a synthetic-world manifest ({err})") from None
        asked = written_splits if self.split == "all" else [self.split]
        for split in asked:
            if split not in written_splits:
                continue  # never written: the usual "no such split" errors apply
            done = sum((self.root / split / f"synth-{split}-{i:04d}" / "events.json").is_file() for i in range(expected))
            if done < expected or not (self.root / f"{split}.txt").is_file():
                cfg = manifest.get("config", {})
                rerun = (f"reasoningtrack data synth --output {self.root} --count {expected} --seed {manifest.get('seed', 0)} "
                         f"--frames {cfg.get('frames', '?')} --size {cfg.get('width', '?')}x{cfg.get('height', '?')} "
                         f"--splits {','.join(written_splits)}")
                raise DatasetError(
                    f"{self.root}: incomplete synthetic dataset: split {split!r} has {done} of {expected} sequences "
                    f"(an interrupted `data synth`?); finish it by running the same command again: {rerun}")

    def load(self, name: str) -> Sequence:
        seq = super().load(name)
        seq.dataset = self.name
        unknown = set(seq.attributes) - set(ATTRIBUTES)
        if unknown:
            raise DatasetError(
                f"{self._folder(name) / 'attributes.txt'}: unknown attribute codes {sorted(unknown)}; "
                f"known: {', '.join(ATTRIBUTES)}"
            )
        seq.attributes = {code: bool(seq.attributes.get(code, False)) for code in ATTRIBUTES}
        return seq

    def facts(self, name: str) -> dict:
        """The contents of ``events.json``: per-frame facts, events, shape, seed."""
        path = self._folder(name) / "events.json"
        if not path.is_file():
            raise DatasetError(f"missing events.json: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DatasetError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        for key in ("facts", "events"):
            if key not in data:
                raise DatasetError(f"{path}: no {key!r} entry")
        return data
