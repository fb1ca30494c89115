"""Finished run folders (``benchmark`` outputs, experiment variants, ``track`` outputs): read
what they hold and score them together.

A benchmark folder is recognised by its ``config.yaml`` (a BenchmarkConfig) and ``results/``;
an experiment folder by ``experiment.yaml`` and ``variants/``. Scores are always recomputed from
the result files with the dataset's official protocol (the curves are needed for plots and
report.json does not hold them), so a folder copied from elsewhere is scored the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError, load_yaml

__all__ = ["BenchmarkRun", "load_run", "find_runs", "evaluate_runs", "read_scores", "flatten"]


@dataclass
class BenchmarkRun:
    """One benchmark folder: its configuration and per-sequence speed and reasoning counts."""

    folder: Path
    label: str
    config: dict[str, Any]
    timings: dict[str, dict] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    @property
    def results_dir(self) -> Path:
        name = self.config.get("result_name") or ""
        return self.folder / "results" / (f"{name}_tracking_result" if name else "")

    def stats(self) -> dict[str, Any]:
        """``{reasoning: {calls, updates, failed}, frames, seconds, fps}`` summed over sequences."""
        calls = sum(int(t.get("reasoning_calls", 0)) for t in self.timings.values())
        updates = sum(int(t.get("updates", 0)) for t in self.timings.values())
        errors = sum(int(t.get("errors", 0)) for t in self.timings.values())
        frames = sum(int(t.get("frames", 0)) for t in self.timings.values())
        seconds = sum(float(t.get("seconds", 0.0)) for t in self.timings.values())
        return {
            "reasoning": {"calls": calls, "updates": updates, "failed": errors},
            "frames": frames,
            "seconds": seconds,
            "fps": frames / seconds if seconds > 0 else 0.0,
        }

    def events(self, sequence: str) -> list[dict]:
        path = self.folder / "reasoning" / f"{sequence}.jsonl"
        if not path.is_file():
            return []
        out = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{path}, line {i}: not a JSON object ({exc.msg})") from None
        return out


def load_run(folder: str | Path, label: str | None = None) -> BenchmarkRun:
    """Read a benchmark folder; a clear error when it is not one."""
    folder = Path(folder)
    config_path = folder / "config.yaml"
    if not config_path.is_file() or not (folder / "results").is_dir():
        raise ConfigError(f"{folder} is not a benchmark folder (expected config.yaml and results/)")
    config = load_yaml(config_path)
    timings = {}
    timing_dir = folder / "timings"
    if timing_dir.is_dir():
        for path in sorted(timing_dir.glob("*.json")):
            try:
                timings[path.stem] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: not valid JSON ({exc.msg})") from None
    failed = []
    failures = folder / "failures.json"
    if failures.is_file():
        failed = [item.get("sequence", "?") for item in json.loads(failures.read_text(encoding="utf-8"))]
    return BenchmarkRun(folder, label or folder.name, config, timings, failed)


def find_runs(folder: str | Path) -> list[BenchmarkRun]:
    """The benchmark runs in a folder: itself, or an experiment's variants (labelled by name)."""
    folder = Path(folder)
    if (folder / "experiment.yaml").is_file():
        variants = folder / "variants"
        names = _variant_order(folder)
        runs = [load_run(variants / n, n) for n in names if (variants / n / "config.yaml").is_file()]
        if not runs:
            raise ConfigError(f"experiment {folder} has no variant with results yet")
        return runs
    return [load_run(folder)]


def _variant_order(folder: Path) -> list[str]:
    """Variant names in the experiment's own order (the file's), falling back to folder order."""
    from . import expand, Experiment

    spec = load_yaml(folder / "experiment.yaml")
    try:
        experiment = Experiment(str(folder / "experiment.yaml"), spec.get("base") or {}, spec.get("grid") or {},
                                spec.get("variants") or [], spec.get("about") or "")
        return [v.name for v in expand(experiment)]
    except ConfigError:
        return sorted(p.name for p in (folder / "variants").iterdir() if p.is_dir())


def _dataset_of(config: dict):
    from ..pipeline.config import BenchmarkConfig
    from ..pipeline.runner import load_dataset

    return load_dataset(BenchmarkConfig.from_dict(config))


def evaluate_runs(runs: list[BenchmarkRun], protocol: str | None = None):
    """Score runs of one dataset split together (only sequences every run finished): a Report
    whose trackers are the runs' labels."""
    from ..evaluation import evaluate_trackers

    if not runs:
        raise ConfigError("no runs to evaluate")
    first = runs[0].config
    for run in runs[1:]:
        for key in ("dataset", "split"):
            if run.config.get(key) != first.get(key):
                raise ConfigError(
                    f"{run.folder} ran on {key}={run.config.get(key)!r}, {runs[0].folder} on {first.get(key)!r}: "
                    "runs compared together must share the dataset and split"
                )
    dataset = _dataset_of(first)
    names = dataset.sequence_names()
    wanted = set(first.get("sequences") or names)
    done = [n for n in names if n in wanted and all((r.results_dir / f"{n}.txt").is_file() for r in runs)]
    if not done:
        raise ConfigError("no sequence has results in every run")
    # runs on another copy of the data (another root) are scored together only if it holds the
    # same ground truth for those sequences
    for root in {r.config.get("root") for r in runs} - {first.get("root")}:
        other = _dataset_of({**first, "root": root})
        for name in done:
            if not np.array_equal(other.load(name).ground_truth, dataset.load(name).ground_truth, equal_nan=True):
                raise ConfigError(f"sequence {name} has another ground truth under {root} than under {first.get('root')}: "
                                  "runs on different data cannot be scored together")
    labels = [r.label for r in runs]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"two runs share a label ({labels}); rename a folder or use --label")
    return evaluate_trackers(dataset.select(done), {r.label: r.results_dir for r in runs}, protocol,
                             benchmark=first.get("dataset"))


def read_scores(run: BenchmarkRun, sequence: str) -> list[float | None] | None:
    """The backbone's per-frame scores (``scores/<seq>.txt``), None where absent."""
    path = run.folder / "scores" / f"{sequence}.txt"
    if not path.is_file():
        return None
    out: list[float | None] = []
    for line in path.read_text(encoding="utf-8").split():
        value = float(line)
        out.append(None if math.isnan(value) else value)
    return out


def flatten(config: dict, prefix: str = "") -> dict[str, Any]:
    """``{"pipeline": {"mode": "sync"}}`` -> ``{"pipeline.mode": "sync"}`` (lists kept whole)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def differing_keys(configs: list[dict]) -> list[str]:
    """Dotted keys whose values are not the same in every configuration (in first-seen order)."""
    flat = [flatten(c) for c in configs]
    keys: list[str] = []
    for f in flat:
        keys += [k for k in f if k not in keys]
    return [k for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flat}) > 1]
