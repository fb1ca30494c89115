"""Training samples: frame pairs from a dataset's training split, labelled by the frozen backbone.

A sample is (template frame, later frame, both ground-truth boxes, the initial description) plus
IoU(old text): the backbone initialised on frame 1 with its box and the description, tracking
once on frame 2 (the release's rule; ``track_steps`` > 1 tracks through frames in between), on
the full-resolution frames. (GRPO's rewards recompute both IoUs at reward time; this column is
for reports and the teacher.)
The output is a Hugging Face ``datasets`` dataset stored as Parquet shards: each shard is written
atomically, an interrupted build resumes at the first missing shard, and the same seed gives the
same pairs. Frames are stored at full resolution by default (``max_pixels: 0``, the release: only
the VLM's processor resizes); a positive ``max_pixels`` downscales the stored frames (and boxes).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from ..config import ConfigError
from ..fileio import atomic_path, atomic_write_json
from .config import SampleConfig
from .labels import track_once

__all__ = [
    "SAMPLE_COLUMNS",
    "PairPlan",
    "plan_pairs",
    "sample_features",
    "rows_to_dataset",
    "write_shards",
    "load_samples",
    "build_samples",
    "resize_pair",
    "SampleBuildError",
    "sample_folders",
    "decisions",
    "yes_share",
    "balance_yes_share",
]

#: Columns of a sample dataset (the rewards read sample_id, images, box1, box2, description, iou_old).
SAMPLE_COLUMNS = (
    "sample_id", "dataset", "sequence", "frame1", "frame2", "images", "between_images", "box1", "box2",
    "description", "iou_old", "pred_box_old", "label_update", "label_answer",
)


class SampleBuildError(RuntimeError):
    """A sample build that cannot go on (a resumed build with another config, an empty plan)."""


@dataclass(frozen=True)
class PairPlan:
    sequence: str
    frame1: int
    frame2: int
    between: tuple[int, ...] = ()

    @property
    def sample_id(self) -> str:
        return f"{self.sequence}:{self.frame1}:{self.frame2}"


def sample_features():
    import datasets

    box = datasets.Sequence(datasets.Value("float64"), length=4)
    return datasets.Features(
        {
            "sample_id": datasets.Value("string"),
            "dataset": datasets.Value("string"),
            "sequence": datasets.Value("string"),
            "frame1": datasets.Value("int64"),
            "frame2": datasets.Value("int64"),
            "images": datasets.Sequence(datasets.Image()),
            "between_images": datasets.Sequence(datasets.Image()),
            "box1": box,
            "box2": box,
            "description": datasets.Value("string"),
            "iou_old": datasets.Value("float64"),
            "pred_box_old": box,
            # Known right answers (the toy world, synthetic events); "" where nobody knows.
            "label_update": datasets.Value("string"),
            "label_answer": datasets.Value("string"),
        }
    )


def _valid(box) -> bool:
    box = np.asarray(box, dtype=np.float64)
    return bool(np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0)


def plan_pairs(sequences: Iterable, config: SampleConfig) -> tuple[list[PairPlan], dict[str, str]]:
    """Choose the pairs: per sequence ``pairs_per_sequence`` (frame 1, frame 2) with the target
    visible in both and a gap in [min_gap, max_gap]. Each sequence has its own random stream
    (seed and name), so adding a sequence does not change the pairs of the others.

    Returns the plan and, for skipped sequences, why."""
    plan: list[PairPlan] = []
    skipped: dict[str, str] = {}
    for seq in sequences:
        gt = np.asarray(seq.ground_truth, dtype=np.float64)
        n = min(len(gt), len(seq.frames)) if seq.frames else len(gt)
        ok = np.array([_valid(gt[i]) for i in range(n)], dtype=bool) & seq.visible[:n]
        if not (seq.description or "").strip():
            skipped[seq.name] = "no description"
            continue
        usable = np.nonzero(ok)[0]
        # Frames with at least one usable partner min_gap..max_gap later (sorted: two searches).
        first = np.searchsorted(usable, usable + config.min_gap, side="left")
        last = np.searchsorted(usable, usable + config.max_gap, side="right")
        starts = usable[last > first]
        if len(starts) == 0:
            skipped[seq.name] = f"no visible pair {config.min_gap}-{config.max_gap} frames apart in {n} frames"
            continue
        rng = np.random.default_rng([config.seed, zlib.crc32(seq.name.encode("utf-8"))])
        chosen = set()
        for _ in range(config.pairs_per_sequence * 4):
            if len(chosen) >= config.pairs_per_sequence:
                break
            f1 = int(starts[int(rng.integers(len(starts)))])
            ends = usable[(usable >= f1 + config.min_gap) & (usable <= f1 + config.max_gap)]
            f2 = int(ends[int(rng.integers(len(ends)))])
            chosen.add((f1, f2))
        for f1, f2 in sorted(chosen):
            between: tuple[int, ...] = ()
            if config.track_steps > 1:
                between = tuple(int(round(v)) for v in np.linspace(f1, f2, config.track_steps + 1)[1:-1])
            plan.append(PairPlan(seq.name, f1, f2, between))
    return plan, skipped


def resize_pair(frames: Sequence[np.ndarray], boxes: Sequence[np.ndarray], max_pixels: int):
    """Downscale frames (and boxes) so that width x height <= max_pixels; never upscale."""
    h, w = frames[0].shape[:2]
    if max_pixels <= 0 or h * w <= max_pixels:
        return list(frames), [np.asarray(b, dtype=np.float64) for b in boxes]
    import cv2

    scale = (max_pixels / float(h * w)) ** 0.5
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    sx, sy = size[0] / w, size[1] / h
    out_frames = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    out_boxes = [np.asarray(b, dtype=np.float64) * np.array([sx, sy, sx, sy]) for b in boxes]
    return out_frames, out_boxes


def rows_to_dataset(rows: list[dict], features=None):
    """Rows (numpy frames allowed) as a ``datasets.Dataset`` with the sample features (plus any
    extra columns ``features`` declares, taken from the rows as they are)."""
    import datasets
    from PIL import Image

    def img(x):
        return Image.fromarray(x) if isinstance(x, np.ndarray) else x

    features = features or sample_features()
    extra = [name for name in features if name not in SAMPLE_COLUMNS]
    columns: dict[str, list] = {name: [] for name in (*SAMPLE_COLUMNS, *extra)}
    for row in rows:
        for name in extra:
            columns[name].append(row[name])
        for name in SAMPLE_COLUMNS:
            value = row.get(name)
            if name in ("images", "between_images"):
                value = [img(x) for x in (value or [])]
            elif name in ("box1", "box2", "pred_box_old"):
                value = [float(v) for v in np.asarray(value if value is not None else np.zeros(4)).reshape(4)]
            elif name in ("label_update", "label_answer", "dataset", "sequence") and value is None:
                value = ""
            elif name in ("frame1", "frame2") and value is None:
                value = 0
            columns[name].append(value)
    return datasets.Dataset.from_dict(columns, features=features)


def _atomic_parquet(dataset, path: Path) -> None:
    with atomic_path(path) as tmp:
        dataset.to_parquet(str(tmp))


def _check_manifest(out: Path, manifest: dict) -> None:
    path = out / "manifest.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old.get("config") != manifest["config"] or old.get("pairs") != manifest["pairs"]:
            raise SampleBuildError(
                f"{out} holds samples built with another config or plan (see {path}); "
                "use a new output folder or delete it to rebuild"
            )
        return
    atomic_write_json(path, manifest)


def write_shards(
    out: str | Path,
    n_items: int,
    make_rows: Callable[[int, int], list[dict]],
    shard_size: int,
    manifest: dict,
    *,
    progress: bool = True,
    description: str = "samples",
    to_dataset: Callable[[list[dict]], object] | None = None,
) -> Path:
    """Write items [0, n_items) in shards of ``shard_size``; shards already on disk are skipped.

    ``make_rows(start, stop)`` gives the rows of one shard. Each shard is written to a temp file and
    renamed, so a crash never leaves a partial shard; rerunning resumes."""
    out = Path(out)
    _check_manifest(out, {**manifest, "pairs": n_items})
    shard_dir = out / "shards"
    shard_dir.mkdir(parents=True, exist_ok=True)
    starts = list(range(0, n_items, shard_size))
    from tqdm.auto import tqdm

    bar = tqdm(total=n_items, desc=description, unit="sample", disable=not progress)
    for index, start in enumerate(starts):
        stop = min(n_items, start + shard_size)
        path = shard_dir / f"shard-{index:05d}.parquet"
        if not path.exists():
            _atomic_parquet((to_dataset or rows_to_dataset)(make_rows(start, stop)), path)
        bar.update(stop - start)
    bar.close()
    done = out / "DONE"
    done.write_text(f"{n_items}\n", encoding="utf-8")
    return out


def sample_folders(path: str | Path) -> list[Path]:
    """The sample folders under ``path``: itself when it holds shards, else its sub-folders that
    do (what ``data build`` writes for several datasets), in name order."""
    path = Path(path)
    if (path / "shards").is_dir():
        return [path]
    subs = sorted(p for p in path.iterdir() if (p / "shards").is_dir()) if path.is_dir() else []
    if not subs:
        raise FileNotFoundError(f"no sample shards under {path / 'shards'}; build them with `reasoningtrack data build`")
    return subs


def load_samples(path: str | Path | Sequence[str | Path], features=None):
    """Built sample (or taught) folders as one ``datasets.Dataset`` (shards in order).

    ``path``: one folder, a folder of per-dataset folders, or a list of either."""
    import datasets

    paths = [path] if isinstance(path, (str, Path)) else list(path)
    folders = [f for p in paths for f in sample_folders(p)]
    parts = []
    for folder in folders:
        if not (folder / "DONE").exists():
            raise SampleBuildError(f"{folder}: the build is incomplete (no DONE marker); rerun the same command to resume")
        shards = sorted((folder / "shards").glob("shard-*.parquet"))
        parts.append(
            datasets.Dataset.from_parquet(
                [str(s) for s in shards], features=features or _manifest_features(folder), cache_dir=str(folder / ".cache")
            )
        )
    if len(parts) == 1:
        return parts[0]
    try:
        merged = datasets.concatenate_datasets(parts)
    except ValueError as exc:
        raise SampleBuildError(f"the sample folders {[str(f) for f in folders]} have different columns: {exc}") from exc
    if "sample_id" in merged.column_names and len(set(merged["sample_id"])) != len(merged):
        raise SampleBuildError(
            f"the sample folders {[str(f) for f in folders]} share sample ids (the rewards cache by id); "
            "build them with different `name` values"
        )
    return merged


def decisions(dataset) -> list[str | None]:
    """The known d of every row: ``label_update`` where set, else the release's reading of the
    teacher output (``completion_text``), else None."""
    from .conversations import COMPLETION_COLUMN
    from .rewards import release_decision

    labels = dataset["label_update"] if "label_update" in dataset.column_names else [""] * len(dataset)
    texts = dataset[COMPLETION_COLUMN] if COMPLETION_COLUMN in dataset.column_names else [None] * len(dataset)
    out: list[str | None] = []
    for label, text in zip(labels, texts):
        if label:
            out.append(label)
        elif text is not None:
            out.append(release_decision(text)[0])
        else:
            out.append(None)
    return out


def yes_share(dataset) -> float | None:
    """Share of d = yes among the rows whose decision is known (None when none is)."""
    known = [d for d in decisions(dataset) if d is not None]
    return sum(d == "yes" for d in known) / len(known) if known else None


def balance_yes_share(dataset, share: float, seed: int = 0):
    """Drop rows (at random, seeded) of the over-represented decision until d = yes makes up
    ``share`` of the rows with a known decision (the release's SFT data: 70%). Rows without a
    known decision are kept. Returns ``(dataset, report)``."""
    if not 0.0 < share < 1.0:
        raise ConfigError(f"the d=yes share must be in (0, 1), got {share}")
    found = decisions(dataset)
    yes = [i for i, d in enumerate(found) if d == "yes"]
    no = [i for i, d in enumerate(found) if d is not None and d != "yes"]
    if not yes or not no:
        raise ConfigError(f"cannot balance to {share:.0%} d=yes: {len(yes)} yes and {len(no)} no rows with a known decision")
    rng = np.random.default_rng(seed)
    keep_yes, keep_no = len(yes), len(no)
    if len(yes) / (len(yes) + len(no)) > share:
        keep_yes = int(round(len(no) * share / (1.0 - share)))
    else:
        keep_no = int(round(len(yes) * (1.0 - share) / share))
    chosen = set(rng.choice(yes, keep_yes, replace=False).tolist()) | set(rng.choice(no, keep_no, replace=False).tolist())
    keep = [i for i, d in enumerate(found) if d is None or i in chosen]
    report = {"before": {"yes": len(yes), "no": len(no)}, "after": {"yes": keep_yes, "no": keep_no}, "rows": len(keep)}
    return dataset.select(keep), report


def _manifest_features(path: Path):
    import datasets

    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("features"):
        return datasets.Features.from_dict(manifest["features"])
    return sample_features()


def build_samples(
    config: SampleConfig, out: str | Path, *, dataset=None, backbone=None, progress: bool = True
) -> Path:
    """Plan the pairs of ``config.dataset``'s split, label them with the backbone, write shards.

    ``dataset``/``backbone`` instances override the ones named in ``config``."""
    if dataset is None:
        from ..datasets import DATASETS

        if config.root is None:
            raise ConfigError(f"dataset {config.dataset!r} needs a root folder (root: / --root)")
        dataset = DATASETS.build(config.dataset, root=config.root, split=config.split, **dict(config.dataset_options))
    names = list(config.sequences) or dataset.sequence_names()
    sequences = {name: dataset.load(name) for name in names}
    plan, skipped = plan_pairs(sequences.values(), config)
    if not plan:
        hint = ""
        if any(why.startswith("no visible pair") for why in skipped.values()):
            # The gap defaults follow the release's long videos (pairs hundreds of frames apart);
            # say what would fit these sequences instead of silently changing the rule.
            longest = max(len(seq.ground_truth) for seq in sequences.values())
            low = max(1, longest // 8)
            high = max(low, longest // 2)
            hint = (f" -- the longest sequence has {longest} frames, fewer than min_gap={config.min_gap} "
                    f"(the release's gaps are for long videos): pass e.g. --min-gap {low} --max-gap {high}"
                    if longest <= config.min_gap else
                    f" -- the longest sequence has {longest} frames: try a smaller --min-gap or a larger --max-gap")
        shown = "; ".join(f"{name}: {why}" for name, why in list(skipped.items())[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        raise SampleBuildError(f"no pairs could be drawn from {config.dataset} ({config.split}): {shown}{more}{hint}")
    state = {"backbone": backbone}

    def get_backbone():
        if state["backbone"] is None:
            from ..specs import BackboneSpec

            state["backbone"] = BackboneSpec.of(config).build()
        return state["backbone"]

    def make_rows(start: int, stop: int) -> list[dict]:
        rows = []
        for item in plan[start:stop]:
            seq = sequences[item.sequence]
            indices = [item.frame1, *item.between, item.frame2]
            frames = [seq.read_frame(i) for i in indices]
            gt = np.asarray(seq.ground_truth, dtype=np.float64)
            # Label on the full-resolution frames (the release's rule), then resize for storage only.
            value, predicted = track_once(get_backbone(), frames, gt[item.frame1], gt[item.frame2], seq.description)
            full_h, full_w = frames[0].shape[:2]
            frames, boxes = resize_pair(frames, [gt[item.frame1], gt[item.frame2]], config.max_pixels)
            scale = np.array([frames[0].shape[1] / full_w, frames[0].shape[0] / full_h] * 2)
            predicted = np.asarray(predicted, dtype=np.float64) * scale
            rows.append(
                dict(
                    sample_id=f"{config.name or config.dataset}:{item.sample_id}",
                    dataset=config.dataset,
                    sequence=item.sequence,
                    frame1=item.frame1,
                    frame2=item.frame2,
                    images=[frames[0], frames[-1]],
                    between_images=frames[1:-1],
                    box1=boxes[0],
                    box2=boxes[1],
                    description=seq.description,
                    iou_old=value,
                    pred_box_old=predicted,
                )
            )
        return rows

    manifest = {"config": config.to_dict(), "skipped": skipped}
    return write_shards(out, len(plan), make_rows, config.shard_size, manifest, progress=progress)
