"""Teacher chain-of-thought: ask a (large) reasoner for ``<think>/<d>/<answer>`` on every sample.

Any reasoner backend works (typically ``openai`` pointed at a large VLM served by vLLM). Each
answer is parsed by the reasoner's parser; only strictly formatted ones are kept (unless
``keep_non_strict``). Each kept answer is labelled with IoU(new text) by the same one-step
backbone rule that gave IoU(old text), and with whether the teacher's decision agrees with the
IoU comparison (the judge rule: ``yes`` when the new text helps the tracker, ``no`` otherwise).
The output is a sample folder with the teacher columns added, written in resumable shards; its
``completion_text`` column is the SFT target (see :func:`conversations.to_sft_dataset`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..specs import BackboneSpec, ReasonerSpec
from .config import TeacherConfig
from .conversations import COMPLETION_COLUMN
from .labels import BackboneLabeller, LabelRequest, to_rgb_array
from .samples import load_samples, rows_to_dataset, sample_features, write_shards

__all__ = ["teacher_features", "teach", "TEACHER_COLUMNS", "agreement_summary"]

TEACHER_COLUMNS = (
    COMPLETION_COLUMN, "teacher_think", "teacher_update", "teacher_answer", "teacher_format_ok", "teacher_strict_ok",
    "iou_new", "pred_box_new", "agrees",
)


def teacher_features():
    import datasets

    features = sample_features()
    features.update(
        {
            COMPLETION_COLUMN: datasets.Value("string"),
            "teacher_think": datasets.Value("string"),
            "teacher_update": datasets.Value("bool"),
            "teacher_answer": datasets.Value("string"),
            "teacher_format_ok": datasets.Value("bool"),
            "teacher_strict_ok": datasets.Value("bool"),
            "iou_new": datasets.Value("float64"),
            "pred_box_new": datasets.Sequence(datasets.Value("float64"), length=4),
            "agrees": datasets.Value("bool"),
        }
    )
    return features


def teach(
    samples,
    out: str | Path,
    config: TeacherConfig,
    *,
    reasoner=None,
    backbone=None,
    progress: bool = True,
) -> Path:
    """Label every sample (a ``datasets.Dataset`` or a sample folder) with the teacher's answer.

    ``reasoner``/``backbone`` instances override the ones named in ``config``. Resumable: shards
    already written are skipped when the same command runs again."""
    if isinstance(samples, (str, Path)):
        samples = load_samples(samples)
    teacher = _Teacher(config, reasoner, backbone)
    features = teacher_features()

    def make_rows(start: int, stop: int) -> list[dict]:
        return teacher.rows([samples[i] for i in range(start, stop)])

    manifest = {"config": config.to_dict(), "source_rows": len(samples), "features": features.to_dict()}
    return write_shards(
        out, len(samples), make_rows, config.shard_size, manifest, progress=progress, description="teacher",
        to_dataset=lambda rows: rows_to_dataset(rows, features),
    )


class _Teacher:
    """Asks the teacher reasoner about samples and labels its answers with the backbone; both are
    built on first use (a resumed run with every shard written builds neither)."""

    def __init__(self, config: TeacherConfig, reasoner=None, backbone=None):
        self.config = config
        self._reasoner = reasoner
        self._labeller = BackboneLabeller(backbone) if backbone is not None else None

    @property
    def reasoner(self):
        if self._reasoner is None:
            options = dict(self.config.reasoner_options)
            if self.config.prompt is not None:
                options.setdefault("prompt", self.config.prompt)
            self._reasoner = ReasonerSpec(self.config.reasoner, options).build()
        return self._reasoner

    @property
    def labeller(self) -> BackboneLabeller:
        if self._labeller is None:
            self._labeller = BackboneLabeller(BackboneSpec.of(self.config).build())
        return self._labeller

    def rows(self, rows: list[dict]) -> list[dict]:
        """The kept rows (strict answers unless ``keep_non_strict``) with the teacher's columns."""
        answers = self.reasoner.reason_batch([_request(row) for row in rows])
        labels = self.labeller.label([
            LabelRequest(
                row["sample_id"],
                [row["images"][0], *(row.get("between_images") or []), row["images"][1]],
                row["box1"],
                row["box2"],
                answer.answer or row["description"],
            )
            for row, answer in zip(rows, answers)
        ])
        return [
            _taught_row(row, answer, iou_new, box_new)
            for row, answer, (iou_new, box_new, _) in zip(rows, answers, labels)
            if answer.strict_ok or self.config.keep_non_strict
        ]


def _request(row: dict):
    """The reasoner request for a sample: its two frames, its description, its boxes as context."""
    from ..reasoning.base import ReasoningRequest
    from ..reasoning.types import ReasoningContext

    frames = [to_rgb_array(im) for im in row["images"]]
    context = ReasoningContext(
        frame_index=int(row["frame2"]),
        template_index=int(row["frame1"]),
        template_box=np.asarray(row["box1"], dtype=np.float64),
        current_box=np.asarray(row["pred_box_old"], dtype=np.float64),
    )
    return ReasoningRequest(frames[0], frames[1], row["description"], context)


def _taught_row(row: dict, answer, iou_new: float, box_new) -> dict:
    """A sample with the teacher's output, IoU(new text) and whether the decision agrees with it."""
    helps = iou_new > float(row["iou_old"])
    return {
        **row,
        COMPLETION_COLUMN: answer.raw,
        "teacher_think": answer.think,
        "teacher_update": bool(answer.update),
        "teacher_answer": answer.answer,
        "teacher_format_ok": bool(answer.format_ok),
        "teacher_strict_ok": bool(answer.strict_ok),
        "iou_new": float(iou_new),
        "pred_box_new": [float(v) for v in box_new],
        "agrees": bool(answer.update) == helps,
    }


def agreement_summary(taught) -> dict:
    """How often the teacher said yes, and how often its decision matched the IoU comparison."""
    if isinstance(taught, (str, Path)):
        taught = load_samples(taught)
    n = len(taught)
    if n == 0:
        return {"kept": 0}
    update = np.asarray(taught["teacher_update"], dtype=bool)
    agrees = np.asarray(taught["agrees"], dtype=bool)
    gain = np.asarray(taught["iou_new"], dtype=float) - np.asarray(taught["iou_old"], dtype=float)
    return {
        "kept": n,
        "yes_rate": float(update.mean()),
        "agreement": float(agrees.mean()),
        "agreement_when_yes": float(agrees[update].mean()) if update.any() else None,
        "agreement_when_no": float(agrees[~update].mean()) if (~update).any() else None,
        "mean_iou_gain": float(gain.mean()),
    }
