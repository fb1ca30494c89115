"""Toy pairs as training samples (the schema of :mod:`reasoningtrack.training.samples`), labelled
by the toy backbone, with the oracle teacher's output."""

from __future__ import annotations

from pathlib import Path

from ...datasets.toy_world import ToyConfig, make_pairs
from ...trackers.toy import ToyBackbone
from .prompt import oracle_completion

__all__ = ["toy_samples", "write_toy_samples"]


def toy_samples(n: int, seed: int, config: ToyConfig | None = None, *, backbone=None, prefix: str = "toy"):
    """``n`` toy pairs as a sample dataset (the schema of :mod:`.samples`), labelled by the toy
    backbone (``iou_old``), with the known answers and the oracle teacher's output."""
    from ..conversations import COMPLETION_COLUMN
    from ..labels import track_once
    from ..samples import rows_to_dataset

    backbone = backbone or ToyBackbone()
    pairs = make_pairs(n, seed, config, prefix=prefix)
    rows = []
    for pair in pairs:
        value, predicted = track_once(backbone, pair.frames, pair.boxes[0], pair.boxes[1], pair.description)
        rows.append(
            dict(
                sample_id=pair.sample_id,
                dataset="toy",
                sequence=pair.sample_id,
                frame1=0,
                frame2=1,
                images=list(pair.frames),
                between_images=[],
                box1=pair.boxes[0],
                box2=pair.boxes[1],
                description=pair.description,
                iou_old=value,
                pred_box_old=predicted,
                label_update="yes" if pair.changed else "no",
                label_answer=pair.answer,
            )
        )
    dataset = rows_to_dataset(rows)
    return dataset.add_column(COMPLETION_COLUMN, [oracle_completion(p) for p in pairs])


def write_toy_samples(out, n: int, seed: int, config: ToyConfig | None = None, *, shard_size: int = 256) -> Path:
    """The toy pairs as a sample folder (resumable shards), usable by every `reasoningtrack` command."""
    from ..samples import write_shards

    dataset = toy_samples(n, seed, config)
    features = dataset.features

    def make_rows(start: int, stop: int) -> list[dict]:
        return [dataset[i] for i in range(start, stop)]

    manifest = {"config": {"toy": (config or ToyConfig()).to_dict(), "n": n, "seed": seed}, "features": features.to_dict()}
    from ..samples import rows_to_dataset

    return write_shards(
        out, n, make_rows, shard_size, manifest, progress=False, description="toy",
        to_dataset=lambda rows: rows_to_dataset(rows, features),
    )
