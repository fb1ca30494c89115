"""Run an experiment: every variant a resumable benchmark folder, then one summary.

Output folder::

    DIR/experiment.yaml          the experiment as last run (base after --root/--set, grid or
                                 variants); each variant folder checks its own config on resume
    DIR/variants/<name>/         one benchmark folder per variant (config.yaml, results/, reasoning/,
                                 timings/, scores/, report.json)
    DIR/summary.json, .csv       one row per variant (see :mod:`.summary`)
    DIR/plots/                   success / precision curves of all variants; metric vs value for
                                 a one-key sweep
    DIR/report.html              the self-contained HTML report

A variant is done when its report.json exists and it has no failures.json; a rerun skips done
variants and resumes the others sequence by sequence (the benchmark's own resume). A variant that
fails (a configuration the backbone or reasoner refuses, or failed sequences) is recorded with its
error, the others still run, and the command ends non-zero; the next call retries it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import ConfigError, load_yaml
from . import Experiment, Variant, dump_yaml, expand

__all__ = ["VariantOutcome", "ExperimentRunner"]


@dataclass
class VariantOutcome:
    """What happened to one variant in this call."""

    name: str
    status: str  # "done" (ran now), "skipped" (already done), "failed"
    error: str | None = None
    failed_sequences: list[str] = field(default_factory=list)


@dataclass
class ExperimentRunner:
    """Run the variants of ``experiment`` into ``output`` with the benchmark machinery."""

    experiment: Experiment
    output: Path
    workers: int = 1
    executor: str = "local"
    on_variant: Callable[[Variant, int, int], None] | None = None
    on_outcome: Callable | None = None
    outcomes: list[VariantOutcome] = field(default_factory=list)

    def __post_init__(self):
        self.output = Path(self.output)
        self.variants = expand(self.experiment)

    def variant_dir(self, name: str) -> Path:
        return self.output / "variants" / name

    def is_done(self, variant: Variant) -> bool:
        """Evaluated, nothing failed, and the folder holds this variant's configuration."""
        folder = self.variant_dir(variant.name)
        return ((folder / "report.json").is_file() and not (folder / "failures.json").exists()
                and _same_config(load_yaml(folder / "config.yaml"), variant.config))

    def prepare_output(self) -> None:
        """Save the experiment as run. A changed file is fine (a variant added to the grid, a failed
        variant fixed): each variant folder checks its own configuration when it is resumed."""
        from ..fileio import atomic_write_text as write_text_atomic

        self.output.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.output / "experiment.yaml", dump_yaml(self.experiment.to_dict()))

    def run(self) -> list[VariantOutcome]:
        from ..app import evaluate_run
        from ..pipeline.config import BenchmarkConfig
        from ..pipeline.runner import BenchmarkRunner

        self.prepare_output()
        self.outcomes = []
        total = len(self.variants)
        for i, variant in enumerate(self.variants):
            if self.on_variant is not None:
                self.on_variant(variant, i, total)
            if self.is_done(variant):
                self.outcomes.append(VariantOutcome(variant.name, "skipped"))
                continue
            folder = self.variant_dir(variant.name)
            try:
                runner = BenchmarkRunner(BenchmarkConfig.from_dict(variant.config), folder, workers=self.workers,
                                         executor=self.executor, on_outcome=self.on_outcome)
                outcomes = runner.run()
            except Exception as exc:  # noqa: BLE001 -- recorded per variant; the others still run
                if isinstance(exc, ConfigError) and "holds results of another configuration" in str(exc):
                    raise
                self.outcomes.append(VariantOutcome(variant.name, "failed", error=f"{type(exc).__name__}: {exc}"))
                continue
            failed = [o for o in outcomes if not o.ok]
            if failed:
                first = failed[0]
                self.outcomes.append(VariantOutcome(
                    variant.name, "failed", error=f"{len(failed)} sequence(s) failed, e.g. {first.name}: {first.error}",
                    failed_sequences=[o.name for o in failed]))
                continue
            try:
                evaluate_run(runner)
            except Exception as exc:  # noqa: BLE001 -- evaluation errors are the variant's failure
                self.outcomes.append(VariantOutcome(variant.name, "failed", error=f"evaluation: {type(exc).__name__}: {exc}"))
                continue
            self.outcomes.append(VariantOutcome(variant.name, "done"))
        return self.outcomes

    @property
    def failures(self) -> list[VariantOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def _same_config(saved: dict, mine: dict) -> bool:
    """Equal on every key both hold (the runner may add keys, e.g. a dataset fingerprint, and a
    newer version may add defaults; the benchmark runner itself checks the whole file on resume)."""
    from .runs import flatten

    a = flatten(json.loads(json.dumps(saved, default=str)))
    b = flatten(json.loads(json.dumps(mine, default=str)))
    if not b.get("dataset_fingerprint"):
        a.pop("dataset_fingerprint", None)
    return all(a[k] == b[k] for k in set(a) & set(b))
