"""Reward ablation and SFT-vs-RL on the toy world: which rewards (and which IoU weight) help?

One tiny Qwen2.5-VL is built and fine-tuned once (SFT, the shared starting point); every variant
then runs GRPO from that checkpoint with its own reward weights (each reward alone, subsets, the
release's weights, the paper profile's weights with several IoU weights) and is measured on the
same held-out toy pairs, sampled at temperature 1: every reward component (unweighted), the
total under the release's weights with the IoU reward on (one yardstick for all variants), the
toy backbone's tracking with the generated answer (mean IoU, success = IoU > 0.5), and decision
and answer accuracy. ``SFT only`` is the checkpoint before GRPO. Results go to
``summary.json`` and ``summary.csv``; a variant already in ``summary.json`` is not run again.

The toy backbone (:class:`reasoningtrack.trackers.toy.ToyBackbone`) makes IoU 1 for an answer
that names the target as it looks in frame 2 and 0 otherwise, so the IoU reward, the judge and the
tracking metrics all measure one thing: did the answer describe frame 2's target.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import Config, ConfigError
from ..fileio import atomic_write_json, atomic_write_text
from .config import RewardConfig
from .toy import ToyBackbone, ToyRunConfig

__all__ = ["AblationConfig", "DEFAULT_VARIANTS", "YARDSTICK", "run_ablation"]

#: Weights (format, strict, iou, judge) of each variant. ``sft`` is the SFT checkpoint (no GRPO).
DEFAULT_VARIANTS: dict[str, list[float] | None] = {
    "sft": None,
    "format": [1.0, 0.0, 0.0, 0.0],
    "strict": [0.0, 1.0, 0.0, 0.0],
    "iou": [0.0, 0.0, 1.0, 0.0],
    "judge": [0.0, 0.0, 0.0, 1.0],
    "format+strict": [0.1, 0.1, 0.0, 0.0],
    "iou+judge": [0.0, 0.0, 1.0, 0.15],
    "release(iou=0)": [0.1, 0.1, 0.0, 0.15],
    "iou=0.1": [0.1, 0.1, 0.1, 0.15],
    "iou=0.25": [0.1, 0.1, 0.25, 0.15],
    "iou=0.5": [0.1, 0.1, 0.5, 0.15],
    "iou=1.0": [0.1, 0.1, 1.0, 0.15],
}
#: One total for every variant: the release's weights with the IoU reward on at weight 1.
YARDSTICK = [0.1, 0.1, 1.0, 0.15]
_NAMES = ("format", "strict", "iou", "judge")


@dataclass
class AblationConfig(Config):
    """A toy run (``toy``: model, data, SFT and GRPO schedule) and the variants to compare."""

    toy: ToyRunConfig = field(default_factory=lambda: ToyRunConfig(n_eval=32, eval_samples=4, grpo_steps=60))
    seeds: list[int] = field(default_factory=lambda: [0])
    #: Variant names from :data:`DEFAULT_VARIANTS` (empty: all of them).
    variants: list[str] = field(default_factory=list)
    #: Extra variants: name -> [format, strict, iou, judge].
    custom: dict = field(default_factory=dict)

    def __post_init__(self):
        unknown = [v for v in self.variants if v not in DEFAULT_VARIANTS and v not in self.custom]
        if unknown:
            raise ConfigError(f"unknown variant(s) {unknown}; known: {list(DEFAULT_VARIANTS)} and custom {list(self.custom)}")
        for name, weights in self.custom.items():
            if not isinstance(weights, (list, tuple)) or len(weights) != 4:
                raise ConfigError(f"custom variant {name!r}: expected 4 weights (format, strict, iou, judge), got {weights!r}")

    def plan(self) -> dict[str, list[float] | None]:
        table = {**DEFAULT_VARIANTS, **{k: [float(x) for x in v] for k, v in self.custom.items()}}
        names = list(self.variants) or list(DEFAULT_VARIANTS) + list(self.custom)
        return {name: table[name] for name in names}


def _rewards(weights) -> RewardConfig:
    return RewardConfig(**dict(zip(("format_weight", "strict_weight", "iou_weight", "judge_weight"), weights)), backbone="toy")


def _sft(workdir: Path, cfg: ToyRunConfig, train, prompt: str, announce) -> Path:
    from ..reasoning.tiny import build_tiny_qwen
    from .config import SFTConfig
    from .conversations import to_sft_dataset
    from .modeling import save_output
    from .sft import build_sft_trainer
    from .toy import toy_prompt, toy_tokenizer_corpus

    base = build_tiny_qwen(
        workdir / "base", seed=cfg.seed, text_hidden=cfg.text_hidden, layers=cfg.layers, vision_depth=cfg.vision_depth,
        vocab_size=cfg.vocab_size, tokenizer_corpus=toy_tokenizer_corpus(cfg.world) + [toy_prompt().system],
        min_pixels=cfg.world.image_size**2, max_pixels=cfg.world.image_size**2,
    )
    sft_cfg = SFTConfig(
        model=str(base), output_dir=str(workdir / "sft"), max_steps=cfg.sft_steps, learning_rate=cfg.sft_lr,
        lr_scheduler_type="constant", per_device_train_batch_size=cfg.sft_batch, gradient_accumulation_steps=1,
        freeze_vision=cfg.sft_freeze_vision, max_length=None, prompt=prompt, max_pixels=cfg.world.image_size**2,
        min_pixels=0, logging_steps=10, seed=cfg.seed, trl_options={"disable_tqdm": True},
    )
    trainer, processor = build_sft_trainer(sft_cfg, to_sft_dataset(train, prompt), announce=announce)
    trainer.train()
    return save_output(trainer, processor, sft_cfg, "sft")


def _grpo(sft_dir: Path, out: Path, cfg: ToyRunConfig, train, prompt: str, weights, announce) -> Path:
    from .config import GRPOConfig
    from .conversations import to_grpo_dataset
    from .grpo import build_grpo_trainer
    from .modeling import save_output

    prompts = cfg.grpo_batch // cfg.grpo_generations
    grpo_cfg = GRPOConfig(
        model=str(sft_dir), output_dir=str(out), max_steps=cfg.grpo_steps, learning_rate=cfg.grpo_lr,
        lr_scheduler_type="constant", per_device_train_batch_size=cfg.grpo_batch, prompts_per_step=prompts,
        prompts_per_rollout=prompts, num_generations=cfg.grpo_generations, beta=cfg.grpo_beta, temperature=1.0,
        top_p=1.0, min_pixels=0, max_pixels=cfg.world.image_size**2, max_prompt_length=None,
        prompt_layout="inference", max_completion_length=cfg.max_completion_length,
        freeze_vision=cfg.grpo_freeze_vision, rewards=_rewards(weights), prompt=prompt, logging_steps=10,
        seed=cfg.seed, trl_options={"disable_tqdm": True},
    )
    trainer, processor = build_grpo_trainer(grpo_cfg, to_grpo_dataset(train, prompt), backbone=ToyBackbone(), announce=announce)
    trainer.train()
    return save_output(trainer, processor, grpo_cfg, "grpo")


def _measure(model_dir: Path, rows: list[dict], prompt: str, cfg: ToyRunConfig) -> dict:
    """Sampled held-out figures: reward components, yardstick total, tracking, accuracies."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from .evaluate import generate_texts, score_texts
    from .labels import BackboneLabeller, LabelRequest
    from .rewards import build_reward_functions, release_decision

    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    processor = AutoProcessor.from_pretrained(model_dir)
    texts = generate_texts(
        model, processor, rows, prompt, num_samples=cfg.eval_samples, do_sample=True, temperature=1.0, top_p=1.0,
        max_new_tokens=cfg.max_completion_length, seed=cfg.seed,
    )
    labeller = BackboneLabeller(ToyBackbone())
    functions, _ = build_reward_functions(_rewards([1.0, 1.0, 1.0, 1.0]), labeller=labeller)
    report = score_texts(rows, texts, functions, YARDSTICK)
    ious = labeller.iou(
        [
            LabelRequest(row["sample_id"], list(row["images"]), row["box1"], row["box2"], release_decision(t)[1])
            for row, group in zip(rows, texts) for t in group
        ]
    )
    components = dict(zip(_NAMES, report.components.values()))
    # Accuracies as the release reads an output (d "no" and "tracking the object" by default), so
    # that garbage earns no credit for keeping the old text.
    read = [release_decision(t) for group in texts for t in group]
    labels = [(row["label_update"], row["label_answer"]) for row, group in zip(rows, texts) for _ in group]
    decision = float(np.mean([d == want for (d, _), (want, _) in zip(read, labels)]))
    answer = float(np.mean([a.strip().lower() == want.strip().lower() for (_, a), (_, want) in zip(read, labels)]))
    return {
        **{f"reward_{k}": v for k, v in components.items()},
        "total_yardstick": report.total,
        "tracking_iou": float(np.mean(ious)),
        "tracking_success": float(np.mean(np.asarray(ious) > 0.5)),
        "decision_accuracy": decision,
        "answer_accuracy": answer,
        "strict_rate": report.strict_rate,
        "samples": len(ious),
    }


def run_ablation(workdir, config: AblationConfig | None = None, *, announce: Callable[[str], None] | None = None) -> dict:
    """Run (or resume) every variant for every seed; returns the summary also written to disk."""
    from .modeling import torch_threads
    from .toy import toy_samples, write_toy_prompt

    config = config or AblationConfig()
    say = announce or (lambda m: None)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    summary_path = workdir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {"runs": []}
    # Seeds and variants may grow between runs; the toy run itself must not change.
    if summary.get("config", {}).get("toy", config.toy.to_dict()) != config.toy.to_dict():
        raise ConfigError(f"{summary_path} was written with another toy configuration; use a new folder")
    summary["config"] = config.to_dict()
    summary["yardstick_weights"] = YARDSTICK
    done = {(r["seed"], r["variant"]) for r in summary["runs"]}
    plan = config.plan()
    with torch_threads(config.toy.torch_threads):
        for seed in config.seeds:
            cfg = config.toy.replace(seed=seed)
            seed_dir = workdir / f"seed{seed}"
            seed_dir.mkdir(parents=True, exist_ok=True)
            prompt = write_toy_prompt(seed_dir / "toy-prompt.yaml")
            train = toy_samples(cfg.n_train, seed, cfg.world, prefix="train")
            held_out = toy_samples(cfg.n_eval, seed + 100_003, cfg.world, prefix="eval")
            rows = [held_out[i] for i in range(len(held_out))]
            sft_dir = seed_dir / "sft"
            if any((seed, v) not in done for v in plan):
                if not (sft_dir / "reasoningtrack_training.json").exists():
                    t0 = time.perf_counter()
                    say(f"seed {seed}: SFT ({cfg.sft_steps} steps)")
                    _sft(seed_dir, cfg, train, prompt, say)
                    say(f"seed {seed}: SFT took {time.perf_counter() - t0:.0f} s")
            for name, weights in plan.items():
                if (seed, name) in done:
                    continue
                t0 = time.perf_counter()
                if weights is None:
                    model_dir = sft_dir
                else:
                    say(f"seed {seed}: GRPO {name} weights {weights} ({cfg.grpo_steps} steps)")
                    model_dir = _grpo(sft_dir, seed_dir / f"grpo-{_slug(name)}", cfg, train, prompt, weights, say)
                row = {"seed": seed, "variant": name, "weights": weights, **_measure(model_dir, rows, prompt, cfg)}
                row["seconds"] = time.perf_counter() - t0
                summary["runs"].append(row)
                _write(workdir, summary)
                say(f"seed {seed}: {name}: total {row['total_yardstick']:.3f}, tracking IoU {row['tracking_iou']:.3f}")
    summary["table"] = _table(summary["runs"], list(plan))
    _write(workdir, summary)
    return summary


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


_COLUMNS = (
    "total_yardstick", "reward_format", "reward_strict", "reward_iou", "reward_judge", "tracking_iou",
    "tracking_success", "decision_accuracy", "answer_accuracy", "strict_rate",
)


def _table(runs: list[dict], order: list[str]) -> list[dict]:
    """Mean over seeds per variant, in plan order, with the gain over SFT of the yardstick total."""
    table = []
    sft = [r["total_yardstick"] for r in runs if r["variant"] == "sft"]
    for name in order:
        rows = [r for r in runs if r["variant"] == name]
        if not rows:
            continue
        entry = {"variant": name, "weights": rows[0]["weights"], "seeds": len(rows)}
        for key in _COLUMNS:
            values = [r[key] for r in rows if r.get(key) is not None]
            entry[key] = float(np.mean(values)) if values else None
        if sft:
            entry["gain_over_sft"] = entry["total_yardstick"] - float(np.mean(sft))
        table.append(entry)
    return table


def _write(workdir: Path, summary: dict) -> None:
    summary = {**summary, "table": _table(summary["runs"], list(dict.fromkeys(r["variant"] for r in summary["runs"])))}
    atomic_write_json(workdir / "summary.json", summary)
    lines = []
    keys = ["variant", "weights", "seeds", *_COLUMNS, "gain_over_sft"]
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for entry in summary["table"]:
        writer.writerow({k: (json.dumps(v) if isinstance(v, list) else (f"{v:.4f}" if isinstance(v, float) else v)) for k, v in entry.items()})
    lines.append(buffer.getvalue())
    atomic_write_text(workdir / "summary.csv", "".join(lines))
