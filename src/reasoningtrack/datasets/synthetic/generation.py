"""Generating synthetic sequences in memory and writing them in the TNLLT layout (resumable)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ...fileio import replace_folder
from ..base import DatasetError, Sequence
from .rendering import draw_object, make_background
from .simulation import Script, rng_for, simulate, visible_box
from .words import describe, motion_word, position_phrase, position_words, size_word
from .world import ABSENT_VISIBLE_FRACTION, ATTRIBUTES, FORMAT_VERSION, PALETTE, FrameFacts, WorldConfig

__all__ = ["SyntheticSequence", "generate_sequence", "write_sequence", "write_dataset"]


@dataclass
class SyntheticSequence:
    """One generated sequence in memory: frames (RGB uint8, or empty when not rendered), ground
    truth, absent flags, per-frame facts, events, description and attributes."""

    name: str
    frames: list[np.ndarray]
    ground_truth: np.ndarray
    absent: np.ndarray
    frame_facts: list[FrameFacts]
    events: list[dict]
    description: str
    attributes: dict[str, bool]
    shape: str
    width: int
    height: int
    seed: list[int] = field(default_factory=list)

    @property
    def facts(self) -> list[dict]:
        """The per-frame facts as written to ``events.json`` (one dict per frame)."""
        return [f.to_dict() for f in self.frame_facts]

    def to_sequence(self, split: str | None = None) -> Sequence:
        """A :class:`Sequence` whose frames are served from memory (``read_frame``) — no files."""
        seq = _InMemorySequence(
            name=self.name,
            ground_truth=self.ground_truth,
            dataset="synthetic",
            split=split,
            description=self.description,
            absent=self.absent,
            attributes=dict(self.attributes),
        )
        seq.images = self.frames
        return seq


@dataclass
class _InMemorySequence(Sequence):
    images: list[np.ndarray] = field(default_factory=list, repr=False)

    def read_frame(self, index: int) -> np.ndarray:
        if not self.images:
            raise DatasetError(f"synthetic sequence {self.name!r} was generated without frames (render=False)")
        return self.images[index]

    def __len__(self) -> int:
        return len(self.images) if self.images else len(self.ground_truth)


def _nearest_colour(rgb: Iterable[float]) -> str:
    rgb = np.asarray(list(rgb), dtype=np.float64)
    return min(PALETTE, key=lambda name: float(np.sum((np.asarray(PALETTE[name]) - rgb) ** 2)))


def generate_sequence(
    seed: int = 0,
    index: int = 0,
    split: str = "test",
    config: WorldConfig | None = None,
    render: bool = True,
    name: str | None = None,
) -> SyntheticSequence:
    """Generate one sequence in memory (deterministic in ``seed``, ``split`` and ``index``).

    With ``render=False`` only the annotations and facts are produced (fast, for unit tests of
    code that needs the truth but no pixels).
    """
    cfg = (config or WorldConfig()).validate()
    rng, entropy = rng_for(seed, split, index)
    background = make_background(rng, cfg.width, cfg.height)  # drawn first: the rng order is the format
    script = Script(rng, cfg)
    targets, distractors, motions, events = simulate(script, cfg)
    boxes, absent = _ground_truth(targets, cfg)
    facts = [
        _frame_facts(f, obj, distractor, motion, box, bool(gone), script.shape, cfg)
        for f, (obj, distractor, motion, box, gone) in enumerate(zip(targets, distractors, motions, boxes, absent))
    ]
    frames = _render(background, script.shape, targets, distractors) if render else []
    events = sorted(events + _visibility_events(absent, motions), key=lambda e: e["frame"])
    first = facts[0]
    return SyntheticSequence(
        name=name or f"synth-{split}-{index:04d}",
        frames=frames,
        ground_truth=boxes,
        absent=absent,
        frame_facts=facts,
        events=events,
        description=describe(first.colour, script.shape, first.position, first.motion),
        attributes={
            "CC": script.colour_change is not None,
            "SV": script.size_change is not None,
            "OV": bool(absent.any()),
            "DIS": any(f.distractor for f in facts),
        },
        shape=script.shape,
        width=cfg.width,
        height=cfg.height,
        seed=entropy,
    )


def _ground_truth(targets: list, cfg: WorldConfig) -> tuple[np.ndarray, np.ndarray]:
    """Boxes of the visible part of the target (0,0,0,0 when absent) and the absent flags."""
    boxes = np.zeros((cfg.frames, 4), dtype=np.float64)
    absent = np.zeros(cfg.frames, dtype=bool)
    for f, obj in enumerate(targets):
        box, fraction = visible_box(obj, cfg.width, cfg.height)
        absent[f] = fraction < ABSENT_VISIBLE_FRACTION
        boxes[f] = 0.0 if absent[f] else box
    return boxes, absent


def _frame_facts(f: int, obj, distractor, motion, box: np.ndarray, is_absent: bool, shape: str, cfg: WorldConfig) -> FrameFacts:
    """What is true of the target in frame ``f`` (0-based), in words."""
    W, H = cfg.width, cfg.height
    _, fraction = visible_box(obj, W, H)
    colour = motion.colour
    if is_absent:
        horizontal = vertical = phrase = None
    else:
        horizontal, vertical = position_words(box[0] + box[2] / 2, box[1] + box[3] / 2, W, H)
        phrase = position_phrase(horizontal, vertical)
    move = motion_word(motion.dx, motion.dy)
    return FrameFacts(
        frame=f + 1,
        visible=not is_absent,
        visible_fraction=round(float(fraction), 4),
        colour=colour,
        colour_changing=0.0 < motion.blend < 1.0,
        shape=shape,
        size=size_word(obj.w, obj.h, W, H),
        size_px=[round(obj.w, 3), round(obj.h, 3)],
        horizontal=horizontal,
        vertical=vertical,
        position=phrase,
        motion=move,
        distractor=distractor is not None,
        distractor_colour=_nearest_colour(distractor.rgb) if distractor is not None else None,
        distractor_box=(
            [round(distractor.cx - distractor.w / 2, 3), round(distractor.cy - distractor.h / 2, 3),
             round(distractor.w, 3), round(distractor.h, 3)]
            if distractor is not None else None
        ),
        description=describe(colour, shape, phrase, move) if not is_absent else None,
    )


def _render(background: np.ndarray, shape: str, targets: list, distractors: list) -> list[np.ndarray]:
    """Every frame: the background, the distractor (if any), then the target on top."""
    frames = []
    for obj, distractor in zip(targets, distractors):
        canvas = background.copy()
        if distractor is not None:
            draw_object(canvas, shape, distractor)
        draw_object(canvas, shape, obj)
        frames.append(canvas)
    return frames


def _visibility_events(absent: np.ndarray, motions: list) -> list[dict]:
    """Leaving and re-entering the view, read from the absent flags."""
    return [
        {"frame": f + 1, "kind": "leaves" if absent[f] else "enters", "side": motions[f].side}
        for f in range(1, len(absent))
        if absent[f] != absent[f - 1]
    ]


def write_sequence(seq: SyntheticSequence, folder: str | os.PathLike) -> Path:
    """Write a rendered sequence in the TNLLT layout. The files go to a temporary sibling folder
    that is renamed into place at the end, so ``folder`` exists only when complete."""
    import cv2

    from ...boxfiles import write_boxes

    folder = Path(folder)
    if not seq.frames:
        raise DatasetError(f"{seq.name}: generated with render=False, nothing to write")
    tmp = folder.with_name(f".{folder.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "imgs").mkdir(parents=True)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    for i, frame in enumerate(seq.frames, start=1):
        if not cv2.imwrite(str(tmp / "imgs" / f"{i:05d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params):
            raise DatasetError(f"cannot write {tmp / 'imgs' / f'{i:05d}.png'}")
    write_boxes(tmp / "groundtruth.txt", seq.ground_truth)
    (tmp / "absent_label.txt").write_text("".join("0\n" if a else "1\n" for a in seq.absent))
    # TNLLT's form: one comma-separated row of 0/1 flags, in the order of ATTRIBUTES
    (tmp / "attributes.txt").write_text(",".join("1" if seq.attributes[code] else "0" for code in ATTRIBUTES) + "\n")
    (tmp / "language.txt").write_text(seq.description + "\n")
    meta = {
        "format": FORMAT_VERSION,
        "name": seq.name,
        "seed": seq.seed,
        "width": seq.width,
        "height": seq.height,
        "shape": seq.shape,
        "description": seq.description,
        "attributes": seq.attributes,
        "events": seq.events,
        "facts": seq.facts,
    }
    (tmp / "events.json").write_text(json.dumps(meta, indent=1) + "\n")
    return replace_folder(tmp, folder)


def write_dataset(
    out: str | os.PathLike,
    sequences: int = 10,
    seed: int = 0,
    config: WorldConfig | None = None,
    splits: Iterable[str] = ("train", "test"),
    progress: Callable[[int, int, str], None] | None = None,
) -> Path:
    """Write a synthetic dataset (``sequences`` per split) under ``out``; resumable.

    Complete sequences already on disk are kept when ``out/synthetic.json`` records the same
    parameters; different parameters raise (choose another folder or delete it). ``progress``
    is called as ``progress(done, total, name)``.
    """
    from ...fileio import atomic_write_text

    cfg = (config or WorldConfig()).validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    splits = tuple(splits)
    manifest = {"format": FORMAT_VERSION, "seed": int(seed), "sequences": int(sequences), "splits": list(splits),
                "config": cfg.to_dict(), "attributes": ATTRIBUTES}
    manifest_path = out / "synthetic.json"
    if manifest_path.exists():
        try:
            existing = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as err:
            raise DatasetError(f"{manifest_path}: not valid JSON ({err})") from None
        if existing != json.loads(json.dumps(manifest)):
            raise DatasetError(
                f"{out} already holds a synthetic dataset with other parameters ({manifest_path}); "
                "use another --out folder or delete it"
            )
    else:
        atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    total, done = sequences * len(splits), 0
    for split in splits:
        names = []
        for index in range(sequences):
            name = f"synth-{split}-{index:04d}"
            names.append(name)
            folder = out / split / name
            if not (folder / "events.json").is_file():
                write_sequence(generate_sequence(seed, index, split, cfg, name=name), folder)
            done += 1
            if progress:
                progress(done, total, name)
        atomic_write_text(out / f"{split}.txt", "\n".join(names) + "\n")
    return out
