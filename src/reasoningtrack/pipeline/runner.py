"""Benchmark runs: every sequence of a dataset split through a ReasoningTracker, resumable,
parallel, shardable.

Output folder::

    DIR/config.yaml                 the BenchmarkConfig with the absolute root and the dataset's
                                    fingerprint (a resumed run must match it)
    DIR/results/<seq>.txt           boxes, one x,y,w,h row per frame (toolkit layout);
                                    DIR/results/<NAME>_tracking_result/<seq>.txt with result_name
    DIR/reasoning/<seq>.jsonl       the reasoning events (no wall-clock fields: reproducible)
    DIR/timings/<seq>.json          the sequence's record: speed (the only values that differ between
                                    runs), frames, reasoning counts and failed calls by kind
    DIR/scores/<seq>.txt            the backbone's score per frame (``nan`` when it gives none)
    DIR/failures.json               sequences that failed, with the error (only when some did);
                                    failures-shard-<i>-of-<N>.json for a shard, failures-HOST-PID.json
                                    for a --shared process
    DIR/report.json                 the official-protocol evaluation (not for shards / --no-eval)
    DIR/.lock, DIR/.claims/         who runs here (pipeline/locks.py); gone when the runs end

A sequence is complete when its results, reasoning log and record exist, the results have as many
rows as the record has frames, and (``on_reasoner_error="fail"``) no reasoning call failed. Files
are written atomically (temporary file + ``os.replace``, reasoning first, boxes last), so a run
killed at any moment and restarted
skips complete sequences, redoes the rest and ends with the same bytes as an uninterrupted run
(synchronous reasoning; async mode depends on timing and is not reproducible).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import ConfigError
from .config import BenchmarkConfig
from .writers import events_to_jsonl

__all__ = ["BenchmarkRunner", "RunPlan", "SequenceOutcome", "parse_shard", "shard_names", "detect_gpus", "BenchmarkError"]


class BenchmarkError(RuntimeError):
    """Some sequences failed (listed in failures.json); raised after all others were run."""


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"i/N"`` with ``0 <= i < N`` (0-based, like ``$SLURM_ARRAY_TASK_ID`` arrays from 0)."""
    if text is None or text == "":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match:
        raise ConfigError(f"--shard {text!r}: expected i/N, e.g. 0/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard {text!r}: need 0 <= i < N (shards are numbered from 0)")
    return index, count


def shard_names(names: list[str], shard: tuple[int, int] | None) -> list[str]:
    """Shard i of N takes positions i, i+N, i+2N, ... of the dataset's official order: a fixed
    partition, balanced in count, that does not depend on what is already on disk."""
    if shard is None:
        return list(names)
    index, count = shard
    return list(names[index::count])


def detect_gpus() -> list[str]:
    """GPU ids for one worker each: ``CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [v.strip() for v in visible.split(",") if v.strip() and v.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(l for l in listing.splitlines() if l.startswith("GPU "))]


@dataclass
class SequenceOutcome:
    name: str
    ok: bool
    frames: int = 0
    seconds: float = 0.0
    reasoning_calls: int = 0
    updates: int = 0
    reverts: int = 0
    reapplied: int = 0
    reasoning_failures: dict[str, int] = field(default_factory=dict)
    """Failed reasoning calls by kind (error, timeout, unusable); empty when none failed."""
    error: str | None = None
    traceback: str | None = None
    skipped: bool = False
    elsewhere: str | None = None
    """Not run here: claimed by another process sharing the folder (who holds it)."""


@dataclass
class RunPlan:
    """Where one run writes; shared by the parent and the worker processes (picklable)."""

    config: BenchmarkConfig
    output: Path
    shard: tuple[int, int] | None = None
    on_reasoner_error: str = "fail"
    """``fail``: a sequence with a failed reasoning call is a failed sequence (not complete, redone
    by the next run); ``continue``: it counts as complete, its failures only reported."""
    shared: bool = False
    """Other processes (other machines) work in the same folder (``--shared``)."""
    videos: tuple[str, ...] = ()
    """Sequences that also get ``videos/<seq>.mp4`` (annotated, with the think panel and the ground
    truth); ``("all",)`` for every one. Not part of the results: a video is rewritten when its
    sequence is run again."""

    def wants_video(self, name: str) -> bool:
        return "all" in self.videos or name in self.videos

    @property
    def results_root(self) -> Path:
        return self.output / "results"

    def result_file(self, name: str) -> Path:
        from ..evaluation.results import result_path

        return result_path(self.results_root, name, "toolkit", self.config.result_name or None)

    def reasoning_file(self, name: str) -> Path:
        return self.output / "reasoning" / f"{name}.jsonl"

    def timing_file(self, name: str) -> Path:
        return self.output / "timings" / f"{name}.json"

    def complete(self, name: str) -> bool:
        """Results, reasoning log and record present, as many result rows as the record's frames
        (an empty or cut result file is never complete), and, under ``on_reasoner_error=fail``, no
        failed reasoning call in the record."""
        result = self.result_file(name)
        if not (result.is_file() and self.reasoning_file(name).is_file()):
            return False
        record = read_record(self.timing_file(name))
        if record is None:
            return False
        frames = record.get("frames")
        if not isinstance(frames, int) or frames < 1 or count_rows(result) != frames:
            return False
        return self.on_reasoner_error == "continue" or record_failures(record) == 0

    @property
    def failures_file(self) -> Path:
        if self.shared:
            import socket

            return self.output / f"failures-{socket.gethostname()}-{os.getpid()}.json"
        if self.shard is None:
            return self.output / "failures.json"
        return self.output / f"failures-shard-{self.shard[0]}-of-{self.shard[1]}.json"


def read_record(path: Path) -> dict | None:
    """A sequence's record (``timings/<seq>.json``), None when missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def record_failures(record: dict) -> int:
    """Failed reasoning calls of a record (``errors``: every failed call, of any kind)."""
    value = record.get("errors", 0)
    return value if isinstance(value, int) else 1


def count_rows(path: Path) -> int:
    """Non-blank lines of a result file (one box per frame)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return 0
    return sum(1 for line in data.splitlines() if line.strip())


# ---------------------------------------------------------------------------------------------
# Work done for one sequence (in a worker process, a Ray actor or in-process)
# ---------------------------------------------------------------------------------------------


def load_dataset(config: BenchmarkConfig):
    from ..datasets import DATASETS

    return DATASETS.build(config.dataset, root=config.root, split=config.split, **dict(config.dataset_options))


def build_benchmark_tracker(config: BenchmarkConfig, shared_reasoner=None):
    from ..specs import BackboneSpec, ReasonerSpec
    from .session import build_tracker

    return build_tracker(BackboneSpec.of(config), ReasonerSpec.of(config), config.pipeline, shared_reasoner=shared_reasoner)


def run_one_sequence(plan: RunPlan, dataset, tracker, name: str) -> SequenceOutcome:
    """Track one sequence and write its files (reasoning log first, boxes last = complete)."""
    from ..boxfiles import write_boxes
    from ..fileio import atomic_write_text
    from ..sources import open_source

    start = time.perf_counter()
    try:
        sequence = dataset.load(name)
        source = open_source(sequence)
        try:
            run = tracker.run(source.frames(), sequence.init_box, sequence.description or "")
            video = None
            if plan.wants_video(name):
                from .writers import AnnotatedVideoWriter

                video = AnnotatedVideoWriter(plan.output / "videos" / f"{name}.mp4", fps=source.fps, total_frames=len(sequence),
                                             panel=True, ground_truth=sequence.ground_truth, min_height=360)
            boxes, events, scores = [], [], []
            try:
                for result in run:
                    boxes.append(result.box)
                    scores.append(result.score)
                    if result.event is not None:
                        events.append(result.event)
                    if video is not None:
                        video.write(run.last_frame, result)
            except BaseException:
                if video is not None:
                    video.abort()
                raise
            if video is not None:
                video.close()
            events.extend(run.closing_events)
        finally:
            source.close()
        if not boxes:
            raise ValueError(f"sequence {name!r} has no frames")
        summary = run.summary
        atomic_write_text(plan.reasoning_file(name), events_to_jsonl(events, timings=False))
        timing = summary.to_dict()
        timing["reasoning_latency_s"] = [e.latency_s for e in events if e.latency_s is not None]
        timing["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
        timing["worker_pid"] = os.getpid()
        atomic_write_text(plan.timing_file(name), json.dumps(timing, indent=1) + "\n")
        # the backbone's score per frame (reports plot it; not part of the completion rule)
        atomic_write_text(plan.output / "scores" / f"{name}.txt", "".join("nan\n" if v is None else f"{v:.6g}\n" for v in scores))
        write_boxes(plan.result_file(name), np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
        return _finished_outcome(plan, name, summary, events, time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 -- recorded per sequence, reported at the end
        return SequenceOutcome(name, False, seconds=time.perf_counter() - start,
                               error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())


def _finished_outcome(plan: RunPlan, name: str, summary, events, seconds: float) -> SequenceOutcome:
    """A tracked sequence: ok, or failed because reasoning calls failed (``on_reasoner_error``)."""
    failures = {k: n for k, n in summary.failure_counts().items() if n}
    outcome = SequenceOutcome(name, True, frames=summary.frames, seconds=seconds, reasoning_calls=summary.reasoning_calls,
                              updates=summary.updates, reverts=summary.reverts, reapplied=summary.reapplied,
                              reasoning_failures=failures)
    if failures and plan.on_reasoner_error == "fail":
        from .results import FAILED_STATUSES

        first = next((e for e in events if e.status in FAILED_STATUSES), None)
        kinds = ", ".join(f"{n} {k}" for k, n in failures.items())
        outcome.ok = False
        outcome.error = (f"the reasoner failed on {summary.errors} of {summary.reasoning_calls} calls ({kinds})"
                         + (f"; frame {first.frame}: {first.error}" if first is not None else ""))
    return outcome


def worker_main(plan: RunPlan, names: Any, outcomes: Any, device: str | None = None, shared_reasoner=None) -> int:
    """Take sequence names from ``names`` (a queue) until it is empty; put a SequenceOutcome per
    sequence into ``outcomes`` (a queue, or anything with ``put``).

    The backbone and the reasoner are built once per worker. ``device`` pins the worker to one GPU
    (``CUDA_VISIBLE_DEVICES``, set before anything imports torch in this process).
    ``shared_reasoner``: a client of a reasoning service (``--shared-reasoner``) instead of a
    reasoner of this worker's own.
    """
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(device)
    if shared_reasoner is not None and hasattr(shared_reasoner, "open"):
        shared_reasoner.open()
    dataset = load_dataset(plan.config)
    tracker = build_benchmark_tracker(plan.config, shared_reasoner)
    done = 0
    try:
        while True:
            try:
                name = names.get_nowait()
            except queue.Empty:
                break
            outcomes.put(run_claimed(plan, dataset, tracker, name))
            done += 1
    finally:
        tracker.close()
    return done


def run_claimed(plan: RunPlan, dataset, tracker, name: str) -> SequenceOutcome:
    """Run ``name`` when this process can claim it (locks.SequenceClaims) and it is not complete
    by then (another process sharing the folder may have finished it); the claim is dropped after."""
    from .locks import SequenceClaims

    claims = SequenceClaims(plan.output)
    if not claims.try_claim(name):
        holder = claims.holder(name) or {}
        return SequenceOutcome(name, True, skipped=True, elsewhere=f"pid {holder.get('pid')} on {holder.get('host')}")
    try:
        if plan.complete(name):
            return SequenceOutcome(name, True, skipped=True)
        remove_stale_temporaries(plan, [name])
        return run_one_sequence(plan, dataset, tracker, name)
    finally:
        claims.release(name)


def remove_stale_temporaries(plan: RunPlan, names: list[str], run_files: bool = False) -> None:
    """Temporary files of a killed run for ``names`` (claimed by this process, or the whole run
    under an exclusive lock); ``run_files`` adds config/report/failures of the folder itself."""
    folders = {plan.result_file("x").parent, plan.output / "reasoning", plan.output / "timings", plan.output / "scores"}
    own = set()
    for name in names:
        own.update({f"{name}.txt", f"{name}.jsonl", f"{name}.json", f"{name}_time.txt"})
    if run_files:
        own.update({"config.yaml", "report.json", "failures.json"})
        folders.add(plan.output)
    pattern = re.compile(r"^\.(.+?)\.\d+(?:\.\d+)?\.tmp$")  # fileio.temporary_sibling: .NAME.PID.THREAD.tmp
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = pattern.match(path.name)
            if match and match.group(1) in own and path.is_file():
                path.unlink()


# ---------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------


@dataclass
class BenchmarkRunner:
    """Plan, run (local processes or Ray), record failures (scoring a finished run is
    :func:`reasoningtrack.app.evaluate_run`)."""

    config: BenchmarkConfig
    output: Path
    workers: int = 1
    shard: tuple[int, int] | None = None
    executor: str = "local"
    evaluate: bool = True
    shared_reasoner: bool = False
    """One reasoner for all workers (reasoning/service.py): loaded once, calls batched."""
    service: Any = None
    """ServiceConfig of the shared reasoner (None: defaults)."""
    ray: Any = None
    """RayOptions of ``executor="ray"`` (None: defaults; pipeline/ray_executor.py)."""
    on_reasoner_error: str = "fail"
    """``fail`` (default) or ``continue``: see :attr:`RunPlan.on_reasoner_error`."""
    shared: bool = False
    """Share the folder with other processes (other machines): per-sequence claims, shared lock."""
    videos: tuple[str, ...] = ()
    """Sequence names (or ``all``) that also get an annotated ``videos/<seq>.mp4``."""
    on_outcome: Callable[[SequenceOutcome, int, int], None] | None = None
    outcomes: list[SequenceOutcome] = field(default_factory=list)

    def __post_init__(self):
        self.output = Path(self.output).expanduser().resolve()
        if self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}")
        if self.executor not in ("local", "ray"):
            raise ConfigError(f"--executor must be local or ray, got {self.executor!r}")
        if self.on_reasoner_error not in ("fail", "continue"):
            raise ConfigError(f"--on-reasoner-error must be fail or continue, got {self.on_reasoner_error!r}")
        from .session import check_output_path

        check_output_path(self.output)  # a file, or a file on the way to it: one-line error
        if self.config.root:  # absolute: the same config names the same data and files from any folder
            import dataclasses

            from .session import absolute_paths

            self.config = dataclasses.replace(
                self.config, root=str(Path(self.config.root).expanduser().resolve()),
                dataset_options=absolute_paths(self.config.dataset_options),
                backbone_options=absolute_paths(self.config.backbone_options),
                reasoner_options=absolute_paths(self.config.reasoner_options))
        self.plan = RunPlan(self.config, self.output, self.shard, self.on_reasoner_error, self.shared, tuple(self.videos))

    # -- planning -----------------------------------------------------------------------------
    def sequence_names(self) -> list[str]:
        dataset = load_dataset(self.config)
        names = dataset.sequence_names()
        if self.config.sequences:
            known = set(names)
            missing = [n for n in self.config.sequences if n not in known]
            if missing:
                raise ConfigError(f"{self.config.dataset} ({self.config.split}) under {self.config.root} has no sequence(s) {missing}")
            wanted = set(self.config.sequences)
            names = [n for n in names if n in wanted]
        self._dataset, self._selected = dataset, list(names)
        return shard_names(names, self.shard)

    def fingerprint_dataset(self) -> None:
        """Put the selected sequences' fingerprint into the config (call after sequence_names);
        a config that already holds another fingerprint was made from other data: refused."""
        import dataclasses

        from ..datasets.fingerprint import dataset_fingerprint

        found = dataset_fingerprint(self._dataset, self._selected)
        given = self.config.dataset_fingerprint
        if given and given != found:
            raise ConfigError(
                f"the configuration was made from other data than {self.config.dataset} ({self.config.split}) under "
                f"{self.config.root} now holds (dataset fingerprint {given[:19]} != {found[:19]}); "
                "remove dataset_fingerprint from the config to run it on this data"
            )
        self.config = dataclasses.replace(self.config, dataset_fingerprint=found)
        self.plan.config = self.config

    def prepare_output(self, exclusive: bool = False) -> None:
        """Check that the folder holds this configuration's results (or none) and save the config.
        ``exclusive`` (the folder's lock is ours alone): a saved config without any sequence file
        (a run that stopped before its first sequence, e.g. on a bad option) is replaced."""
        from ..config import load_yaml
        from ..fileio import atomic_write_text

        self.output.mkdir(parents=True, exist_ok=True)
        saved_path = self.output / "config.yaml"
        mine = self.config.to_dict()
        if saved_path.is_file():
            saved = load_yaml(saved_path)
            if saved != mine and exclusive and not self._has_sequence_files():
                atomic_write_text(saved_path, self.config.to_yaml())
            elif saved != mine:
                keys = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
                if keys == ["dataset_fingerprint"]:
                    raise ConfigError(
                        f"{self.output} holds results of other data: {self.config.root} no longer holds the sequences, "
                        f"ground truth and descriptions these results were made from (dataset fingerprint {str(saved.get(keys[0]))[:19]} "
                        f"!= {mine[keys[0]][:19]}); use another --output"
                    )
                raise ConfigError(
                    f"{saved_path} holds results of another configuration (differs in {keys}); "
                    "use another --output or remove that folder"
                )
        else:
            atomic_write_text(saved_path, self.config.to_yaml())

    def _has_sequence_files(self) -> bool:
        folders = (self.plan.results_root, self.output / "reasoning", self.output / "timings")
        return any(path.is_file() for folder in folders if folder.is_dir() for path in folder.rglob("*"))

    def check_component_names(self) -> None:
        """Unknown backbone/reasoner names fail before the folder is touched (registries only;
        options are checked when the components are built)."""
        from ..reasoning import REASONERS
        from ..trackers import BACKBONES
        from .session import NO_REASONER

        BACKBONES.module_of(self.config.backbone)
        if self.config.reasoner.lower() != NO_REASONER:
            REASONERS.module_of(self.config.reasoner)

    def remove_stale_temporaries(self, names: list[str]) -> None:
        """Temporary files of a killed run (its own sequences only: other shards may be writing)."""
        remove_stale_temporaries(self.plan, names, run_files=self.shard is None)

    # -- running ------------------------------------------------------------------------------
    def run(self) -> list[SequenceOutcome]:
        """Run what is not complete, under the folder's lock; SIGTERM/SIGHUP stop the run with
        :class:`~.signals.Terminated` (workers stopped, claims dropped, finished sequences kept)."""
        from .locks import FolderLock, SequenceClaims
        from .signals import terminate_on_signals

        self.check_component_names()
        names = self.sequence_names()
        self.fingerprint_dataset()
        exclusive = not self.shared and self.shard is None
        self.output.mkdir(parents=True, exist_ok=True)
        with terminate_on_signals(), FolderLock(self.output, shared=not exclusive):
            self.prepare_output(exclusive)
            if exclusive:  # no one else can be working here: every claim and temporary is stale
                SequenceClaims(self.output).clear()
            if not self.shared:
                self.remove_stale_temporaries(names)
            return self._run_names(names)

    def _run_names(self, names: list[str]) -> list[SequenceOutcome]:
        todo = [n for n in names if not self.plan.complete(n)]
        pending = set(todo)
        total = len(names)
        self.outcomes = []
        for name in names:
            if name not in pending:
                self._collect(SequenceOutcome(name, True, skipped=True), total)
        if todo:
            if self.executor == "ray":
                self._run_ray(todo, total)
            elif self.workers == 1:
                self._run_inline(todo, total)
            else:
                self._run_processes(todo, total)
        # A sequence another process held when we reached it may be finished by now: looked at
        # again, so that the last process sharing the folder to end sees it complete and evaluates.
        self.outcomes = [SequenceOutcome(o.name, True, skipped=True) if o.elsewhere and self.plan.complete(o.name) else o
                         for o in self.outcomes]
        order = {n: i for i, n in enumerate(names)}
        self.outcomes.sort(key=lambda o: order.get(o.name, len(order)))
        self._write_failures()
        return self.outcomes

    def _collect(self, outcome: SequenceOutcome, total: int) -> None:
        self.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome, len(self.outcomes), total)

    def _run_inline(self, todo: list[str], total: int) -> None:
        names: queue.Queue = queue.Queue()
        for name in todo:
            names.put(name)
        outcomes = _Forward(lambda o: self._collect(o, total))
        try:
            worker_main(self.plan, names, outcomes)
        except Exception as exc:  # noqa: BLE001 -- building the tracker failed: every sequence failed
            if _is_configuration_error(exc):
                raise
            self._fail_rest(todo, exc, total)

    def _run_processes(self, todo: list[str], total: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from multiprocessing.managers import SyncManager

        from .signals import die_with_parent

        context = multiprocessing.get_context("spawn")
        gpus = detect_gpus()
        count = min(self.workers, len(todo))
        manager = SyncManager(ctx=context)
        manager.start(die_with_parent, (os.getpid(),))  # the manager process too dies with us
        with manager, contextlib.ExitStack() as stack:
            names = manager.Queue()
            outcomes = manager.Queue()
            for name in todo:
                names.put(name)
            clients = [None] * count
            if self.shared_reasoner:
                from .shared import shared_reasoner_clients

                clients = stack.enter_context(shared_reasoner_clients(self.config, manager, count, self.service))
            with ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=die_with_parent,
                                     initargs=(os.getpid(),)) as pool:
                try:
                    futures = [pool.submit(worker_main, self.plan, names, outcomes, gpus[k % len(gpus)] if gpus else None, clients[k])
                               for k in range(count)]
                    received = 0
                    while received < len(todo):
                        try:
                            self._collect(outcomes.get(timeout=0.2), total)
                            received += 1
                            continue
                        except queue.Empty:
                            pass
                        if all(f.done() for f in futures) and outcomes.empty():
                            break
                    errors = [f.exception() for f in futures if f.exception() is not None]
                except BaseException:  # SIGTERM (Terminated), Ctrl-C: stop the workers now, not after their sequence
                    _stop_workers(pool, self.output)
                    raise
            seen = {o.name for o in self.outcomes}
            missing = [n for n in todo if n not in seen]
            if missing and errors and _is_configuration_error(errors[0]):
                raise errors[0]
            if missing:
                cause = errors[0] if errors else RuntimeError("a worker process ended without finishing its sequences")
                self._fail_rest(missing, cause, total)

    def _run_ray(self, todo: list[str], total: int) -> None:
        from .ray_executor import run_on_ray

        run_on_ray(self, todo, total)

    def _fail_rest(self, names: list[str], exc: BaseException, total: int) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        for name in names:
            if name not in {o.name for o in self.outcomes}:
                self._collect(SequenceOutcome(name, False, error=f"{type(exc).__name__}: {exc}", traceback=text), total)

    # -- failures and evaluation --------------------------------------------------------------
    @property
    def failures(self) -> list[SequenceOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def _write_failures(self) -> None:
        from ..fileio import atomic_write_text

        path = self.plan.failures_file
        self._drop_settled_failure_files(path)
        if not self.failures:
            if path.exists():
                path.unlink()
            return
        data = [{"sequence": o.name, "error": o.error, "traceback": o.traceback, "reasoning_failures": o.reasoning_failures}
                for o in self.failures]
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")

    def _drop_settled_failure_files(self, own: Path) -> None:
        """Failure files of other (ended) ``--shared`` processes whose sequences are all complete
        now: they would otherwise pile up, one per process."""
        for path in self.output.glob("failures-*.json"):
            if path == own or path.name.startswith("failures-shard-"):
                continue
            try:
                listed = [entry["sequence"] for entry in json.loads(path.read_text(encoding="utf-8"))]
            except (OSError, ValueError, TypeError, KeyError):
                continue
            if all(self.plan.complete(name) for name in listed):
                path.unlink(missing_ok=True)

    def reasoning_counts(self, names: list[str]) -> dict:
        """What the reasoner did, from the sequences' records: totals and, per sequence with a
        failed call, its failures by kind (report.json ``reasoning``)."""
        keys = ("reasoning_calls", "text_changes", "updates", "reverts", "reapplied", "errors", "timeouts", "unusable")
        totals = dict.fromkeys(keys, 0)
        failed = {}
        for name in names:
            record = read_record(self.plan.timing_file(name)) or {}
            for key in keys:
                value = record.get(key, 0)
                totals[key] += value if isinstance(value, int) else 0
            if record_failures(record):
                errors, timeouts, unusable = (int(record.get(k, 0) or 0) for k in ("errors", "timeouts", "unusable"))
                failed[name] = {"error": errors - timeouts - unusable, "timeout": timeouts, "unusable": unusable,
                                "calls": int(record.get("reasoning_calls", 0) or 0)}
        return {**totals, "on_reasoner_error": self.on_reasoner_error, "sequences_with_failures": failed}

    @property
    def tracker_label(self) -> str:
        return self.config.result_name or f"{self.config.backbone}+{self.config.reasoner}"


def _stop_workers(pool, output: Path) -> None:
    """Terminate a ProcessPoolExecutor's processes at once and drop their sequence claims (the
    executor has no public way to stop running calls; its ``_processes`` map is stable since 3.2)."""
    from .locks import SequenceClaims

    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
    pool.shutdown(wait=False, cancel_futures=True)
    SequenceClaims(output).release_dead({p.pid for p in processes if p.pid is not None})


def _is_configuration_error(exc: BaseException) -> bool:
    """Errors that no sequence can get past (bad options, unknown names, missing weights): they
    stop the run with their message instead of being recorded against every sequence."""
    from ..datasets.base import DatasetError
    from ..reasoning.base import ReasonerError
    from ..registry import RegistryError
    from ..trackers.base import BackboneError

    return isinstance(exc, (ConfigError, RegistryError, BackboneError, ReasonerError, DatasetError))


class _Forward:
    """A queue-like sink that hands each outcome straight to a callback (in-process runs)."""

    def __init__(self, callback: Callable[[SequenceOutcome], None]):
        self.callback = callback

    def put(self, item: SequenceOutcome) -> None:
        self.callback(item)
