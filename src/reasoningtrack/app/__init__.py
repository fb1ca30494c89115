"""Orchestration above the pipeline and the evaluation: what a command does from start to end
(run a benchmark, then score it). The CLI calls these; the layers below never import them."""

from .benchmark import evaluate_run

__all__ = ["evaluate_run"]
