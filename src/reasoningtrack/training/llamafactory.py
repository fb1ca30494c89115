"""The release's SFT data format: LLaMA-Factory "alpaca" JSON, read and written losslessly.

A record is ``{"instruction", "input", "output", "images"}``: ``input`` is one ``<image>`` token
per frame followed by the initial description, ``output`` the teacher's
``<think>…</think><d>…</d><answer>…</answer>``, ``images`` the two frame paths. Reading then
writing a release file gives it back byte for byte (2-space indent, UTF-8 kept as is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..fileio import atomic_write_text

__all__ = [
    "IMAGE_TOKEN",
    "LlamaFactorySample",
    "LlamaFactoryError",
    "read_llamafactory",
    "write_llamafactory",
    "dumps_llamafactory",
    "resolve_image_paths",
    "samples_to_dataset",
    "dataset_to_samples",
    "with_images",
]

IMAGE_TOKEN = "<image>"
_KEYS = ("instruction", "input", "output", "images")


class LlamaFactoryError(ValueError):
    """A record that is not in the alpaca layout: names the file, the record and what was expected."""


@dataclass
class LlamaFactorySample:
    """One alpaca record, with the description separated from its image tokens."""

    instruction: str
    description: str
    output: str
    images: list[str]
    #: Keys beyond the four standard ones (``system``, ``history``...), kept for the round trip.
    extra: dict = field(default_factory=dict)
    #: Position of each key in the source record, so that writing keeps the key order.
    key_order: tuple[str, ...] = _KEYS

    @property
    def input(self) -> str:
        return IMAGE_TOKEN * len(self.images) + self.description

    def to_record(self) -> dict:
        values = {"instruction": self.instruction, "input": self.input, "output": self.output, "images": list(self.images)}
        values.update(self.extra)
        order = list(self.key_order) + [k for k in values if k not in self.key_order]
        return {k: values[k] for k in order if k in values}

    @classmethod
    def from_record(cls, record: dict, where: str = "") -> "LlamaFactorySample":
        if not isinstance(record, dict):
            raise LlamaFactoryError(f"{where}: expected an object with keys {list(_KEYS)}, got {type(record).__name__}")
        missing = [k for k in _KEYS if k not in record]
        if missing:
            raise LlamaFactoryError(f"{where}: missing key(s) {missing}; an alpaca record needs {list(_KEYS)}")
        for key in ("instruction", "input", "output"):
            if not isinstance(record[key], str):
                raise LlamaFactoryError(f"{where}: {key!r} must be a string, got {type(record[key]).__name__}")
        images = record["images"]
        if not isinstance(images, list) or not all(isinstance(p, str) for p in images):
            raise LlamaFactoryError(f"{where}: 'images' must be a list of path strings, got {images!r}")
        text = record["input"]
        leading = 0
        while text.startswith(IMAGE_TOKEN, leading * len(IMAGE_TOKEN)):
            leading += 1
        description = text[leading * len(IMAGE_TOKEN):]
        if leading != len(images) or IMAGE_TOKEN in description:
            raise LlamaFactoryError(
                f"{where}: 'input' must start with one {IMAGE_TOKEN} per image ({len(images)}) and contain no other; "
                f"got {text[:80]!r}"
            )
        extra = {k: v for k, v in record.items() if k not in _KEYS}
        return cls(record["instruction"], description, record["output"], list(images), extra, tuple(record))


def read_llamafactory(path: str | Path) -> list[LlamaFactorySample]:
    """Read one alpaca JSON file (a list of records); errors name the file and the record index."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LlamaFactoryError(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise LlamaFactoryError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, list):
        raise LlamaFactoryError(f"{path}: expected a JSON list of records, got {type(data).__name__}")
    return [LlamaFactorySample.from_record(r, where=f"{path} record {i}") for i, r in enumerate(data)]


def dumps_llamafactory(samples: Iterable[LlamaFactorySample]) -> str:
    """The JSON text LLaMA-Factory reads, formatted as the release's files are."""
    return json.dumps([s.to_record() for s in samples], indent=2, ensure_ascii=False)


def write_llamafactory(samples: Iterable[LlamaFactorySample], path: str | Path) -> Path:
    """Write atomically (temp file, then rename): an interrupted export leaves no half file."""
    return atomic_write_text(path, dumps_llamafactory(samples))


def resolve_image_paths(sample: LlamaFactorySample, image_root: str | Path | None, strip_prefix: str = "/your_root_path") -> list[Path]:
    """Where a record's frames are on this machine.

    The release's paths start with the placeholder ``/your_root_path``; with ``image_root`` given,
    that prefix (``strip_prefix``) is replaced by it. Relative paths are taken under ``image_root``.
    """
    out = []
    for raw in sample.images:
        if image_root is None:
            out.append(Path(raw))
            continue
        rel = raw[len(strip_prefix):] if strip_prefix and raw.startswith(strip_prefix) else raw
        out.append(Path(image_root) / rel.lstrip("/"))
    return out


def samples_to_dataset(samples: list[LlamaFactorySample], image_root: str | Path | None = None, source: str = ""):
    """Release records as a ``datasets.Dataset``: ``description``, ``completion_text`` (the teacher
    output), ``instruction``, ``image_paths`` (as written) and ``image_files`` (under
    ``image_root``). :func:`with_images` turns the files into an ``images`` column for training."""
    import datasets

    from .conversations import COMPLETION_COLUMN

    columns = {
        "sample_id": [f"{source}#{i}" for i in range(len(samples))],
        "description": [s.description for s in samples],
        COMPLETION_COLUMN: [s.output for s in samples],
        "instruction": [s.instruction for s in samples],
        "image_paths": [list(s.images) for s in samples],
        "image_files": [[str(p) for p in resolve_image_paths(s, image_root)] for s in samples],
    }
    features = datasets.Features(
        {
            "sample_id": datasets.Value("string"),
            "description": datasets.Value("string"),
            COMPLETION_COLUMN: datasets.Value("string"),
            "instruction": datasets.Value("string"),
            "image_paths": datasets.Sequence(datasets.Value("string")),
            # Where the frames are on this machine; opened only for training (see with_images).
            "image_files": datasets.Sequence(datasets.Value("string")),
        }
    )
    return datasets.Dataset.from_dict(columns, features=features)


def with_images(dataset):
    """Add the ``images`` column (decoded lazily from ``image_files``) that the SFT trainer reads."""
    import datasets

    if "images" in dataset.column_names or "image_files" not in dataset.column_names:
        return dataset
    dataset = dataset.map(lambda row: {"images": row["image_files"]}, desc="frames")
    return dataset.cast_column("images", datasets.Sequence(datasets.Image()))


def dataset_to_samples(
    dataset, *, instruction: str | None = None, image_dir: str | Path | None = None, image_format: str = "jpg"
) -> list[LlamaFactorySample]:
    """A taught dataset (or an imported one) as alpaca records.

    The instruction is the row's ``instruction`` column when there is one (an imported release
    file), else ``instruction`` (normally the prompt's system text). Frame paths are the row's
    ``image_paths`` when there are some; otherwise the frames are written under ``image_dir`` as
    ``sampleNNNN/img1.jpg``, ``img2.jpg`` (the release's layout)."""
    from .conversations import COMPLETION_COLUMN
    from .labels import to_rgb_array

    out = []
    for i in range(len(dataset)):
        row = dataset[i]
        text = row.get("instruction") if "instruction" in row else instruction
        if text is None:
            raise LlamaFactoryError("an instruction is needed for rows without an 'instruction' column (give the prompt)")
        paths = row.get("image_paths")
        if not paths:
            if image_dir is None:
                raise LlamaFactoryError(f"row {i} has no image paths; give an image folder to write its frames to")
            from PIL import Image

            folder = Path(image_dir) / f"sample{i + 1:04d}"
            folder.mkdir(parents=True, exist_ok=True)
            paths = []
            for k, image in enumerate(row["images"], start=1):
                target = folder / f"img{k}.{image_format}"
                Image.fromarray(to_rgb_array(image)).save(target)
                paths.append(str(target))
        out.append(LlamaFactorySample(text, row["description"], row[COMPLETION_COLUMN], list(paths)))
    return out
