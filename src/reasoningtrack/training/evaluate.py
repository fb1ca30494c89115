"""Measure a reasoner checkpoint on held-out samples: greedy or sampled, scored by the rewards.

Used by the toy-world test and benchmark and useful on real samples: strict-format rate, mean of
every reward and of the weighted total, and, where the samples carry known answers
(``label_update``/``label_answer``), decision and answer accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .conversations import completion_messages

__all__ = ["generate_texts", "score_texts", "EvalReport", "evaluate_model"]


def generate_texts(
    model,
    processor,
    rows: Sequence[dict],
    prompt: Any = None,
    *,
    num_samples: int = 1,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    max_new_tokens: int = 64,
    batch_size: int = 16,
    seed: int = 0,
) -> list[list[str]]:
    """``num_samples`` completions per row, laid out as the ``qwen`` reasoner asks."""
    import torch

    from ..reasoning.prompts import build_messages, load_prompt

    preset = load_prompt(prompt)
    tokenizer = processor.tokenizer
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    model.eval()
    torch.manual_seed(seed)
    out: list[list[str]] = []
    try:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            messages = [build_messages(preset, r["description"], tuple(r["images"])) for r in chunk]
            inputs = processor.apply_chat_template(
                messages,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                processor_kwargs={"padding": True},
            ).to(model.device)
            kwargs = dict(max_new_tokens=max_new_tokens, num_return_sequences=num_samples, do_sample=do_sample)
            if do_sample:
                kwargs.update(temperature=temperature, top_p=top_p, top_k=0)
            with torch.no_grad():
                generated = model.generate(**inputs, **kwargs)
            texts = processor.batch_decode(generated[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
            for i in range(len(chunk)):
                out.append(texts[i * num_samples : (i + 1) * num_samples])
    finally:
        tokenizer.padding_side = old_side
    return out


@dataclass
class EvalReport:
    """Means over all completions (``per_prompt``: completions per row)."""

    total: float
    components: dict[str, float]
    strict_rate: float
    decision_accuracy: float | None
    answer_accuracy: float | None
    per_prompt: int
    n_rows: int
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            **{f"reward/{k}": v for k, v in self.components.items()},
            "strict_rate": self.strict_rate,
            "decision_accuracy": self.decision_accuracy,
            "answer_accuracy": self.answer_accuracy,
            "per_prompt": self.per_prompt,
            "n_rows": self.n_rows,
        }


def score_texts(rows: Sequence[dict], texts: Sequence[Sequence[str]], functions: Sequence[Callable], weights: Sequence[float]) -> EvalReport:
    """Score completions with reward functions (TRL signature) and, where known, the labels."""
    from .rewards import parse_completion

    flat_rows = [row for row, group in zip(rows, texts) for _ in group]
    completions = [completion_messages(t) for group in texts for t in group]
    columns = {key: [row[key] for row in flat_rows] for key in (flat_rows[0].keys() if flat_rows else [])}
    components: dict[str, float] = {}
    total = np.zeros(len(completions))
    for fn, weight in zip(functions, weights):
        values = np.asarray(fn([None] * len(completions), completions, **columns), dtype=float)
        components[getattr(fn, "__name__", type(fn).__name__)] = float(values.mean()) if len(values) else 0.0
        total += weight * values
    parsed = [parse_completion(c, previous=r["description"]) for c, r in zip(completions, flat_rows)]
    strict = float(np.mean([p.strict_ok for p in parsed])) if parsed else 0.0
    labelled = [(p, r) for p, r in zip(parsed, flat_rows) if r.get("label_update")]
    decision = answer = None
    if labelled:
        decision = float(np.mean([p.update == (r["label_update"] == "yes") for p, r in labelled]))
        answer = float(np.mean([p.answer.strip().lower() == r["label_answer"].strip().lower() for p, r in labelled]))
    return EvalReport(
        total=float(total.mean()) if len(total) else 0.0,
        components=components,
        strict_rate=strict,
        decision_accuracy=decision,
        answer_accuracy=answer,
        per_prompt=len(texts[0]) if texts else 0,
        n_rows=len(rows),
        examples=[t for group in texts[:3] for t in group[:1]],
    )


def evaluate_model(model, processor, rows, prompt, functions, weights, *, num_samples=1, do_sample=False, **gen) -> EvalReport:
    texts = generate_texts(model, processor, rows, prompt, num_samples=num_samples, do_sample=do_sample, **gen)
    return score_texts(rows, texts, functions, weights)
