"""How the frozen backbone judges a description: the release's one-step IoU rule.

Initialise the backbone on frame 1 with its ground-truth box and the text, ``track`` once on frame
2 (or through the stored frames in between, then frame 2), and measure the IoU of the predicted
box with frame 2's ground truth. Sample building (IoU of the old text), the teacher (IoU of the
teacher's text) and the IoU/judge rewards (IoU of a completion's text) all use this one function,
so that the three numbers are comparable.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Hashable, NamedTuple, Sequence

import numpy as np

from ..geometry import as_boxes, iou

__all__ = ["to_rgb_array", "track_once", "BackboneLabeller", "LabelRequest", "Label", "shaped_iou"]

log = logging.getLogger(__name__)


def to_rgb_array(image) -> np.ndarray:
    """A PIL image, a path or an array as an HxWx3 uint8 RGB array (what backbones take)."""
    if isinstance(image, np.ndarray):
        arr = image
    elif isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        from ..datasets.base import read_rgb

        arr = read_rgb(image)
    elif isinstance(image, dict) and ("bytes" in image or "path" in image):
        # A datasets ``Image`` cell read without decoding.
        import io

        from PIL import Image

        if image.get("bytes"):
            arr = np.asarray(Image.open(io.BytesIO(image["bytes"])).convert("RGB"))
        else:
            from ..datasets.base import read_rgb

            arr = read_rgb(image["path"])
    else:  # PIL image
        arr = np.asarray(image.convert("RGB"))
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got shape {arr.shape} dtype {arr.dtype}")
    return arr


def shaped_iou(value: float, threshold: float = 0.61) -> float:
    """The release's shaping: good boxes keep their IoU, poor ones count half."""
    return float(value) if value > threshold else float(value) / 2.0


def track_once(backbone, frames: Sequence, first_box, last_box, text: str) -> tuple[float, np.ndarray]:
    """IoU of the backbone's box on the last frame after initialising on the first with ``text``.

    ``frames`` = [frame 1, frames in between..., frame 2]; returns (IoU, predicted xywh box).
    """
    if len(frames) < 2:
        raise ValueError(f"need at least two frames (template and target), got {len(frames)}")
    first = to_rgb_array(frames[0])
    # Clean state per run: nothing (e.g. DUTrack's temporal token) leaks from the previous sample.
    reset = getattr(backbone, "reset", None)
    if callable(reset):
        reset()
    backbone.initialize(first, np.asarray(first_box, dtype=np.float64), text)
    prediction = None
    for frame in frames[1:]:
        prediction = backbone.track(to_rgb_array(frame))
    box = np.asarray(prediction.box, dtype=np.float64).reshape(4)
    value = float(iou(as_boxes(box), as_boxes(np.asarray(last_box, dtype=np.float64)))[0])
    if not np.isfinite(value):
        value = 0.0
    return value, box


@dataclass(frozen=True)
class LabelRequest:
    """One (sample, text) to label; ``key`` identifies the sample (its ``sample_id``)."""

    key: Hashable
    frames: Sequence
    first_box: Sequence[float]
    last_box: Sequence[float]
    text: str


class Label(NamedTuple):
    """One labelled run: the IoU, the predicted box, and the error when the backbone failed."""

    iou: float
    box: np.ndarray
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class BackboneLabeller:
    """Runs the one-step rule for many (sample, text) requests, each distinct pair once.

    GRPO asks for a group of completions per sample and the groups repeat texts often, so the
    requests of a batch are deduplicated and results are kept in a bounded LRU cache keyed by
    (sample, text). The backbone is stateful, hence one labeller per backbone and no threads.
    """

    def __init__(self, backbone, cache_size: int = 4096):
        self.backbone = backbone
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[tuple, Label] = OrderedDict()
        self.backbone_runs = 0
        self.cache_hits = 0
        #: Runs in which the backbone raised (with ``on_error="zero"``); each is also logged.
        self.failures = 0

    def label(self, requests: Sequence[LabelRequest], *, on_error: str = "raise") -> list[Label]:
        """Label every request. ``on_error="zero"``: a backbone that raises gives IoU 0 and a
        ``Label`` with its error (the release's reward rule), counted in ``failures`` and logged;
        ``"raise"``: the error propagates."""
        if on_error not in ("raise", "zero"):
            raise ValueError(f"on_error must be 'raise' or 'zero', got {on_error!r}")
        out: list[Label | None] = [None] * len(requests)
        pending: dict[tuple, list[int]] = {}
        for i, req in enumerate(requests):
            cache_key = (req.key, req.text)
            if cache_key in self._cache:
                self._cache.move_to_end(cache_key)
                out[i] = self._cache[cache_key]
                self.cache_hits += 1
            else:
                pending.setdefault(cache_key, []).append(i)
        for cache_key, indices in pending.items():
            req = requests[indices[0]]
            try:
                result = Label(*track_once(self.backbone, req.frames, req.first_box, req.last_box, req.text))
            except Exception as exc:  # noqa: BLE001 - any backbone failure scores 0, as in the release
                if on_error == "raise":
                    raise
                self.failures += 1
                log.warning("backbone failed on sample %r with text %r: %s (IoU counted as 0)", req.key, req.text, exc)
                result = Label(0.0, np.zeros(4), f"{type(exc).__name__}: {exc}")
            self.backbone_runs += 1
            self.cache_hits += len(indices) - 1
            for i in indices:
                out[i] = result
            if result.ok:  # a failure is retried next time, never cached
                self._cache[cache_key] = result
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out  # type: ignore[return-value]

    def iou(self, requests: Sequence[LabelRequest]) -> list[float]:
        return [result.iou for result in self.label(requests)]
