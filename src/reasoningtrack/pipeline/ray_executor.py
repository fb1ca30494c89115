"""``benchmark --executor ray``: every sequence is a Ray task, on one machine or a cluster.

Each task builds the backbone, tracks one sequence and writes its files with the same code and the
same completion rule as the local executor (``runner.run_one_sequence``), so a Ray run is resumable
exactly like a local one and ends with the same bytes (sync reasoning). The output folder must be
on a file system every Ray node sees (NFS, Lustre) -- the tasks write there directly.

- GPUs: a task asks for ``gpus_per_task`` (default 1 when the cluster has GPUs, else 0); Ray sets
  ``CUDA_VISIBLE_DEVICES`` for it. Fractions (0.5) put several backbones on one GPU.
- A task whose worker process died (killed, out of memory, node lost) is retried up to
  ``max_retries`` times by Ray; an exception inside tracking is not retried, it is recorded in
  failures.json like in a local run.
- ``--shared-reasoner``: the reasoner lives in one Ray actor holding a batching
  :class:`~reasoningtrack.reasoning.service.ReasoningService` (one copy of the VLM for the whole
  cluster); tasks send it their requests. Without it each task builds its own reasoner.
- Progress: every finished task is reported as soon as it finishes (``ray.wait``).
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Config, ConfigError
from ..reasoning.base import Reasoner, ReasoningRequest
from .session import NO_REASONER

if TYPE_CHECKING:  # pragma: no cover
    from .runner import BenchmarkRunner, RunPlan, SequenceOutcome

__all__ = ["RayOptions", "run_on_ray", "run_sequence_task", "ReasonerActor", "ActorReasoner", "TASK_NAME"]

#: Ray's name of the per-sequence task (shown by ``ray status``/``ray list tasks`` and in the
#: worker's process title, ``ray::run_sequence_task``).
TASK_NAME = "run_sequence_task"


@dataclass
class RayOptions(Config):
    """Options of the Ray executor (CLI: ``--address``, ``--gpus-per-task``, ``--max-retries``)."""

    address: str | None = None
    """Cluster to join (``auto``, ``ray://host:10001``, ``host:6379``); None: $RAY_ADDRESS, else
    a Ray instance started on this machine for the run and stopped after it."""
    gpus_per_task: float | None = None
    """GPUs per sequence task; None: 1 when the cluster has GPUs, else 0."""
    cpus_per_task: float = 1.0
    reasoner_gpus: float | None = None
    """GPUs of the shared reasoner actor; None: 1 when the cluster has GPUs, else 0."""
    max_retries: int = 3
    """Retries of a task whose worker process died (Ray's own default is 3 too)."""

    def __post_init__(self) -> None:
        for name in ("gpus_per_task", "reasoner_gpus"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}")
        if self.cpus_per_task < 0:
            raise ConfigError(f"cpus_per_task must be >= 0, got {self.cpus_per_task}")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0, got {self.max_retries}")


class ReasonerActor:
    """A Ray actor holding one reasoner behind a batching service (threaded: concurrent ``reason``
    calls wait in their own threads while the service batches them)."""

    def __init__(self, reasoner: str, options: dict, service_config=None):
        from ..reasoning import REASONERS
        from ..reasoning.service import ReasoningService

        self.service = ReasoningService(REASONERS.build(reasoner, **dict(options)), service_config)

    def attach(self) -> None:
        self.service.attach()

    def detach(self) -> None:
        self.service.detach()

    def reason(self, request: ReasoningRequest):
        return self.service.submit(request).result()

    def batch_sizes(self) -> list[int]:
        return list(self.service.batch_sizes)

    def close(self) -> None:
        self.service.close()


class ActorReasoner(Reasoner):
    """A task's view of the shared :class:`ReasonerActor`."""

    name = "service"

    def __init__(self, actor):
        self.actor = actor
        self._open = False

    def open(self) -> "ActorReasoner":
        import ray

        if not self._open:
            ray.get(self.actor.attach.remote())
            self._open = True
        return self

    def reason(self, template, current, description, context=None):
        import ray

        return ray.get(self.actor.reason.remote(ReasoningRequest(template, current, description, context)))

    def close(self) -> None:
        import ray

        if self._open:
            self._open = False
            ray.get(self.actor.detach.remote())


def run_sequence_task(plan: "RunPlan", name: str, actor=None) -> "SequenceOutcome":
    """One sequence in a Ray worker: build the backbone (and a client of the shared reasoner),
    track, write the files."""
    from .runner import build_benchmark_tracker, load_dataset, run_one_sequence

    client = ActorReasoner(actor).open() if actor is not None else None
    try:
        dataset = load_dataset(plan.config)
        tracker = build_benchmark_tracker(plan.config, client)
    except BaseException:
        if client is not None:
            client.close()
        raise
    try:
        return run_one_sequence(plan, dataset, tracker, name)
    finally:
        tracker.close()


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            "--executor ray needs Ray, which is not installed: pip install 'reasoningtrack[ray]' "
            "(or use the default --executor local)"
        ) from exc
    return ray


def run_on_ray(runner: "BenchmarkRunner", todo: list[str], total: int) -> None:
    """Run ``todo`` as Ray tasks; hand each outcome to ``runner._collect`` as it arrives."""
    from .runner import SequenceOutcome, _is_configuration_error

    ray = _import_ray()
    options: RayOptions = runner.ray or RayOptions()
    started = False
    if not ray.is_initialized():
        address = options.address or os.environ.get("RAY_ADDRESS") or None
        if address is None:
            ray.init(include_dashboard=False)
        else:
            ray.init(address=address)
        started = True
    actor = None
    try:
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        gpus = options.gpus_per_task if options.gpus_per_task is not None else (1.0 if has_gpus else 0.0)
        config = runner.plan.config
        if runner.shared_reasoner and config.reasoner.lower() != NO_REASONER:
            reasoner_gpus = options.reasoner_gpus if options.reasoner_gpus is not None else (1.0 if has_gpus else 0.0)
            max_batch = runner.service.max_batch if runner.service is not None else 8
            actor_class = ray.remote(ReasonerActor).options(
                num_gpus=reasoner_gpus, num_cpus=0, max_concurrency=max(4, 2 * max_batch + 4),
                max_restarts=options.max_retries, max_task_retries=options.max_retries,
            )
            actor = actor_class.remote(config.reasoner, dict(config.reasoner_options), runner.service)
            try:
                ray.get(actor.batch_sizes.remote())  # the reasoner loaded (or its error, here)
            except ray.exceptions.RayActorError as exc:
                raise _unwrap(exc) from None
        task = ray.remote(run_sequence_task).options(
            name=TASK_NAME, num_gpus=gpus, num_cpus=options.cpus_per_task, max_retries=options.max_retries,
            retry_exceptions=False,
        )
        plan_ref = ray.put(runner.plan)
        pending = {task.remote(plan_ref, name, actor): name for name in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                name = pending.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:
                    cause = _unwrap(exc)
                    if _is_configuration_error(cause):
                        for other in pending:
                            ray.cancel(other, force=True)
                        raise cause from None
                    outcome = SequenceOutcome(name, False, error=f"{type(cause).__name__}: {cause}", traceback=str(exc))
                except ray.exceptions.RayError as exc:  # the worker died more than max_retries times
                    outcome = SequenceOutcome(
                        name, False,
                        error=f"{type(exc).__name__}: the Ray worker died {options.max_retries + 1} time(s): {exc}",
                        traceback=traceback.format_exc(),
                    )
                runner._collect(outcome, total)
    finally:
        if actor is not None:
            try:
                ray.get(actor.close.remote())
            except ray.exceptions.RayError:
                pass
            ray.kill(actor)
        if started:
            ray.shutdown()


def _unwrap(exc: Any) -> BaseException:
    """The exception raised inside a task (``RayTaskError.cause``) or inside an actor's
    ``__init__`` (an ``ActorDiedError`` made from that ``RayTaskError``)."""
    for _ in range(3):
        cause = getattr(exc, "cause", None)
        if not isinstance(cause, BaseException) and exc.args and isinstance(exc.args[0], BaseException):
            cause = exc.args[0]
        if not isinstance(cause, BaseException):
            return exc
        exc = cause
    return exc
