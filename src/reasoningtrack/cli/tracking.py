"""`reasoningtrack track` (one video) and `reasoningtrack benchmark` (a whole dataset split)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import options as opt
from ._apps import app
from .common import fail, user_errors


def _parse_box(text: str) -> list[float]:
    from ..config import ConfigError

    parts = [p for p in text.replace(" ", ",").split(",") if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ConfigError(f"--box {text!r}: expected four numbers x,y,w,h") from None
    if len(values) != 4:
        raise ConfigError(f"--box {text!r}: expected four numbers x,y,w,h, got {len(values)}")
    if values[2] <= 0 or values[3] <= 0:
        raise ConfigError(f"--box {text!r}: width and height must be positive")
    return values


def _merge_run_settings(
    data: dict,
    *,
    backbone: str | None,
    backbone_options: dict,
    reasoner: str | None,
    reasoner_options: dict,
    schedule: str | None,
    interval: int | None,
    policy: str | None,
    asynchronous: bool | None,
    timeout: float | None,
    overrides: list[str] | None,
    fields: set[str],
) -> dict:
    """Apply CLI flags over a loaded config dict; ``--set`` keys that are not run fields are
    pipeline keys (``--set schedule.interval.every=50``)."""
    from ..config import deep_merge, parse_overrides

    if backbone is not None and backbone != data.get("backbone"):
        data["backbone"], data["backbone_options"] = backbone, {}
    if reasoner is not None and reasoner != data.get("reasoner"):
        data["reasoner"], data["reasoner_options"] = reasoner, {}
    data["backbone_options"] = {**data.get("backbone_options", {}), **backbone_options}
    data["reasoner_options"] = {**data.get("reasoner_options", {}), **reasoner_options}
    pipeline = data.setdefault("pipeline", {})
    if schedule is not None:
        pipeline.setdefault("schedule", {})["triggers"] = [t for t in schedule.replace("+", ",").split(",") if t.strip()] or ["none"]
    if interval is not None:
        pipeline.setdefault("schedule", {}).setdefault("interval", {})["every"] = interval
    if policy is not None:
        pipeline.setdefault("policy", {})["kind"] = policy
    if asynchronous is not None:
        pipeline["mode"] = "async" if asynchronous else "sync"
    if timeout is not None:
        pipeline["timeout_s"] = timeout
    renamed = {"tracker": "backbone", "tracker_options": "backbone_options"}  # deprecated keys
    prefixed = []
    for item in overrides or []:
        key, sep, value = item.partition("=")
        head, dot, rest = key.strip().partition(".")
        head = renamed.get(head, head)
        key = f"{head}{dot}{rest}"
        prefixed.append(f"{key}{sep}{value}" if head in fields else f"pipeline.{key}{sep}{value}")
    return deep_merge(data, parse_overrides(prefixed))


def _user_config(cls, path: Path | None) -> dict:
    """The keys a config file gives (checked, deprecated names renamed), nothing filled in: the
    profile fills what it leaves out (:func:`reasoningtrack.profiles.apply_profile`)."""
    if path is None:
        return {}
    from ..config import load_yaml

    data = cls._rename_deprecated(load_yaml(path), str(path))
    cls.from_dict(dict(data), where=str(path))  # a bad file fails here, naming the file
    return data


def _component_settings(backbone, tracker, backbone_opt, tracker_opt, backbone_config, tracker_config, checkpoint,
                        reasoner, reasoner_opt, model, adapter, base_url, prompt) -> dict:
    """The backbone and reasoner keyword arguments of :func:`_merge_run_settings` from the shared
    flags (deprecated ``--tracker*`` spellings resolved)."""
    backbone = opt.resolve_alias(backbone, tracker, "--backbone", "--tracker")
    backbone_opt = opt.resolve_alias(backbone_opt, tracker_opt, "--backbone-opt", "--tracker-opt")
    backbone_config = opt.resolve_alias(backbone_config, tracker_config, "--backbone-config", "--tracker-config")
    return dict(
        backbone=backbone,
        backbone_options=opt.component_options({"checkpoint": checkpoint, "config": backbone_config}, backbone_opt),
        reasoner=reasoner,
        reasoner_options=opt.component_options({"model": model, "adapter": adapter, "base_url": base_url, "prompt": prompt}, reasoner_opt),
    )


@app.command()
def track(
    input: Optional[str] = typer.Argument(None, help="Video file or image folder (may come from --config)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for boxes.txt, reasoning.jsonl, config.yaml, video.mp4.", show_default=False),
    box: Optional[str] = typer.Option(None, "--box", help="Initial box x,y,w,h in pixels.", show_default="row 1 of groundtruth_rect.txt / groundtruth.txt in the folder or its parent"),
    text: Optional[str] = typer.Option(None, "--text", help="Description of the target.", show_default="language.txt / nlp.txt beside the frames"),
    backbone: opt.Backbone = None,
    reasoner: opt.Reasoner = None,
    checkpoint: opt.Checkpoint = None,
    backbone_config: opt.BackboneConfig = None,
    model: opt.Model = None,
    adapter: opt.Adapter = None,
    base_url: opt.BaseUrl = None,
    prompt: opt.Prompt = None,
    backbone_opt: opt.BackboneOpt = None,
    reasoner_opt: opt.ReasonerOpt = None,
    schedule: opt.Schedule = None,
    interval: opt.Interval = None,
    policy: opt.Policy = None,
    asynchronous: opt.Asynchronous = None,
    timeout: opt.Timeout = None,
    config: opt.ConfigFile = None,
    set_: opt.Overrides = None,
    profile: opt.Profile = None,
    no_video: bool = typer.Option(False, "--no-video", help="Do not write video.mp4."),
    video_panel: bool = typer.Option(False, "--video-panel", help="video.mp4 gets a side panel with the latest think text and a colour legend (small frames enlarged)."),
    show_gt: bool = typer.Option(False, "--show-gt", help="video.mp4 also draws the ground truth found beside the input (green)."),
    strict_decode: bool = typer.Option(
        False, "--strict-decode",
        help="Stop with an error on a video frame that FFmpeg decoded with errors and concealed (default: a warning naming the frames).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier track run in --output (only when the new run completes; a folder holding other files is refused)."),
    tracker: opt.TrackerAlias = None,
    tracker_config: opt.TrackerConfigAlias = None,
    tracker_opt: opt.TrackerOptAlias = None,
) -> None:
    """Track one video or image folder; write boxes, the reasoning log, the config and an annotated video.

    Example (no model weights needed):
    reasoningtrack track Crossing/img --box 205,151,17,50 --text "a person crossing the road" --backbone csrt --reasoner heuristic -o out/
    """
    from ..config import ConfigError
    from ..pipeline.config import TrackRunConfig
    from ..profiles import apply_profile
    from ..pipeline.session import find_description, find_groundtruth, first_groundtruth_box
    from ..datasets.parsing import read_text

    try:
        data = _user_config(TrackRunConfig, config)
        if input is not None:
            data["input"] = str(Path(input).resolve())
        if not data.get("input"):
            raise ConfigError("no input: give a video file or an image folder (or --config with one)")
        if box is not None:
            data["box"] = _parse_box(box)
        elif data.get("box") is None:
            gt = find_groundtruth(data["input"])
            if gt is None:
                raise ConfigError(f"no --box given and no groundtruth_rect.txt / groundtruth.txt beside {data['input']}")
            data["box"] = first_groundtruth_box(gt)
        if text is not None:
            data["text"] = text
        elif config is None:
            found = find_description(data["input"])
            data["text"] = (read_text(found, "description", required=False) or "") if found else ""
        data = _merge_run_settings(
            data,
            **_component_settings(backbone, tracker, backbone_opt, tracker_opt, backbone_config, tracker_config, checkpoint,
                                  reasoner, reasoner_opt, model, adapter, base_url, prompt),
            schedule=schedule,
            interval=interval,
            policy=policy,
            asynchronous=asynchronous,
            timeout=timeout,
            overrides=set_,
            fields=set(TrackRunConfig().to_dict()),
        )
        if no_video:
            data["video"] = False
        if video_panel:
            data["video_panel"] = True
        if show_gt:
            data["show_gt"] = True
        if strict_decode:
            data["strict_decode"] = True
        from ..pipeline.session import absolute_paths, check_output_folder

        check_output_folder(output, overwrite)  # before anything is built or shown
        for key in ("backbone_options", "reasoner_options"):  # the saved config means the same files from anywhere
            data[key] = absolute_paths(data.get(key) or {})
        run_config = TrackRunConfig.from_dict(apply_profile(data, profile, default_reasoner=TrackRunConfig().reasoner))
    except user_errors() as exc:
        fail(str(exc))
    _track_with_progress(run_config, output, overwrite)


def _stopped(exc, console) -> None:
    """SIGTERM/SIGHUP (pipeline.signals.Terminated): say what was kept, exit 128 + signal."""
    from ..pipeline.signals import exit_code

    console.print(f"[bold red]{exc}:[/] {exc.kept}", highlight=False)
    raise typer.Exit(exit_code(exc.signum))


def _report_reasoning_failures(console, summary, log_path: Path) -> None:
    """Name the failed reasoning calls (from the written log); exit 1 when every call failed."""
    import json

    from rich.markup import escape

    from ..pipeline.results import FAILED_STATUSES

    if not summary.errors:
        return
    failed = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("status") in FAILED_STATUSES:
            failed.append(event)
    for event in failed[:5]:
        console.print(f"[red]reasoning failed[/] on frame {event['frame']} ({event['status']}): {escape(str(event.get('error')))}",
                      highlight=False)
    if len(failed) > 5:
        console.print(f"... and {len(failed) - 5} more in {log_path}", highlight=False, markup=False)
    if summary.errors == summary.reasoning_calls:
        console.print(f"[bold red]error:[/] every reasoning call failed ({summary.errors} of {summary.reasoning_calls}): "
                      "these boxes are the backbone's alone", highlight=False)
        raise typer.Exit(1)


def _track_with_progress(run_config, output: Path, overwrite: bool = False) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from ..pipeline.session import track_to_folder

    console = Console(stderr=True, soft_wrap=True)
    progress = Progress(
        TextColumn("[bold]tracking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False,
    )
    calls = {"n": 0}
    with progress:
        task = progress.add_task("track", total=None, info="")

        def on_frame(result, total):
            if result.event is not None:
                calls["n"] += 1
            if result.index % 5 == 0 or result.event is not None:
                progress.update(task, completed=result.index + 1, total=total, info=f"{calls['n']} reasoning calls")

        from ..pipeline.signals import Terminated, terminate_on_signals

        import warnings

        from ..sources import SkippedFrameWarning
        from ..sources.video import ConcealedFrameWarning

        try:
            with terminate_on_signals(), warnings.catch_warnings(record=True) as caught:
                # frames the decoder concealed or skipped: shown as one warning line each, below
                warnings.simplefilter("always", ConcealedFrameWarning)
                warnings.simplefilter("always", SkippedFrameWarning)
                outputs = track_to_folder(run_config, output, on_frame=on_frame, overwrite=overwrite)
        except user_errors() as exc:
            progress.stop()
            fail(str(exc))
        except Terminated as exc:
            progress.stop()
            exc.kept = f"nothing written; {output} is as it was"
            _stopped(exc, console)
        progress.update(task, completed=outputs.summary.frames, total=outputs.summary.frames)
    for item in caught:
        if issubclass(item.category, (ConcealedFrameWarning, SkippedFrameWarning)):
            console.print(f"warning: {item.message}", highlight=False, markup=False)
        else:
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)
    summary = outputs.summary
    console.print(f"[bold green]done:[/] {summary.describe()}", highlight=False)
    written = [outputs.boxes, outputs.reasoning, outputs.config] + ([outputs.video] if outputs.video else [])
    console.print("wrote " + ", ".join(str(p) for p in written), highlight=False, markup=False)
    _report_reasoning_failures(console, summary, outputs.reasoning)


_SCALE_HELP = "Scaling out (docs/cluster.md)"


@app.command()
def benchmark(
    output: Path = typer.Option(..., "--output", "-o", help="Run folder: results/, reasoning/, timings/, config.yaml, report.json.", show_default=False),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Dataset name: tnllt, tnl2k, lasot, lasot-ext, otb-lang, got10k, folder, synthetic.", show_default="synthetic"),
    root: Optional[str] = typer.Option(None, "--root", "-r", help="Dataset root folder.", show_default="none"),
    split: Optional[str] = typer.Option(None, "--split", help="Split.", show_default="test"),
    sequences: Optional[str] = typer.Option(None, "--sequences", help="Only these sequences (comma-separated names).", show_default="all"),
    backbone: opt.Backbone = None,
    reasoner: opt.Reasoner = None,
    checkpoint: opt.Checkpoint = None,
    backbone_config: opt.BackboneConfig = None,
    model: opt.Model = None,
    adapter: opt.Adapter = None,
    base_url: opt.BaseUrl = None,
    prompt: opt.Prompt = None,
    backbone_opt: opt.BackboneOpt = None,
    reasoner_opt: opt.ReasonerOpt = None,
    dataset_opt: Optional[List[str]] = typer.Option(None, "--dataset-opt", help="Dataset option key=value (repeatable).", show_default=False),
    schedule: opt.Schedule = None,
    interval: opt.Interval = None,
    policy: opt.Policy = None,
    asynchronous: opt.Asynchronous = None,
    timeout: opt.Timeout = None,
    result_name: Optional[str] = typer.Option(None, "--result-name", help="Write results/<NAME>_tracking_result/<seq>.txt (the MATLAB toolkits' folder name).", show_default="BACKBONE+REASONER"),
    config: opt.ConfigFile = None,
    set_: opt.Overrides = None,
    profile: opt.Profile = None,
    workers: int = typer.Option(1, "--workers", help="Worker processes (spawned); with GPUs, worker k uses GPU k mod #GPUs."),
    shard: Optional[str] = typer.Option(None, "--shard", help="Run shard i/N only (0-based; positions i, i+N, ... of the official order).", show_default="all"),
    executor: str = typer.Option("local", "--executor", help="local (processes) or ray (each sequence a Ray task; docs/cluster.md)."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster to join (auto, host:6379, ray://host:10001); default $RAY_ADDRESS, else a local Ray.", rich_help_panel=_SCALE_HELP),
    gpus_per_task: Optional[float] = typer.Option(None, "--gpus-per-task", help="Ray: GPUs per sequence task (0.5 shares a GPU).", show_default="1 if the cluster has GPUs, else 0", rich_help_panel=_SCALE_HELP),
    max_retries: int = typer.Option(3, "--max-retries", help="Ray: retries of a task whose worker process died.", rich_help_panel=_SCALE_HELP),
    shared_reasoner: bool = typer.Option(False, "--shared-reasoner", help="Load the reasoner once and batch the calls of all workers (local processes or one Ray actor).", rich_help_panel=_SCALE_HELP),
    max_batch: int = typer.Option(8, "--max-batch", help="Shared reasoner: most requests in one model call.", rich_help_panel=_SCALE_HELP),
    max_wait: float = typer.Option(0.5, "--max-wait", help="Shared reasoner: seconds a batch waits for more requests.", rich_help_panel=_SCALE_HELP),
    no_eval: bool = typer.Option(False, "--no-eval", help="Do not evaluate at the end."),
    videos: Optional[str] = typer.Option(None, "--videos", help="Also write videos/<seq>.mp4 (annotated, think panel, ground truth) for these sequences (comma-separated) or all."),
    on_reasoner_error: str = typer.Option("fail", "--on-reasoner-error", help="fail: a sequence with a failed reasoning call (error, timeout, unusable answer) fails and is redone by the next run; continue: keep its results, only count the failures."),
    shared: bool = typer.Option(False, "--shared", help="Share --output with other benchmark processes (other machines): each sequence is claimed by one of them.", rich_help_panel=_SCALE_HELP),
    tracker: opt.TrackerAlias = None,
    tracker_config: opt.TrackerConfigAlias = None,
    tracker_opt: opt.TrackerOptAlias = None,
) -> None:
    """Run a backbone + reasoner configuration over a dataset split (resumable), then evaluate it.

    Example: reasoningtrack benchmark --dataset lasot --root /data/LaSOT --backbone csrt --reasoner heuristic -o runs/csrt
    """
    from ..config import ConfigError
    from ..pipeline.config import BenchmarkConfig
    from ..profiles import apply_profile
    from ..pipeline.runner import BenchmarkRunner, parse_shard

    try:
        data = _user_config(BenchmarkConfig, config)
        for key, value in (("dataset", dataset), ("root", root), ("split", split), ("result_name", result_name)):
            if value is not None:
                data[key] = value
        if sequences is not None:
            data["sequences"] = [s.strip() for s in sequences.split(",") if s.strip()]
        if dataset_opt:
            from ..config import parse_overrides

            data["dataset_options"] = {**data.get("dataset_options", {}), **parse_overrides(dataset_opt)}
        data = _merge_run_settings(
            data,
            **_component_settings(backbone, tracker, backbone_opt, tracker_opt, backbone_config, tracker_config, checkpoint,
                                  reasoner, reasoner_opt, model, adapter, base_url, prompt),
            schedule=schedule,
            interval=interval,
            policy=policy,
            asynchronous=asynchronous,
            timeout=timeout,
            overrides=set_,
            fields=set(BenchmarkConfig().to_dict()),
        )
        bench_config = BenchmarkConfig.from_dict(apply_profile(data, profile, default_reasoner=BenchmarkConfig().reasoner))
        if not bench_config.root:
            raise ConfigError("no dataset root: give --root DIR")
        shard_spec = parse_shard(shard)
        from ..pipeline.ray_executor import RayOptions
        from ..reasoning.service import ServiceConfig

        runner = BenchmarkRunner(bench_config, output, workers=workers, shard=shard_spec, executor=executor, evaluate=not no_eval,
                                 shared_reasoner=shared_reasoner, service=ServiceConfig(max_batch=max_batch, max_wait_s=max_wait),
                                 on_reasoner_error=on_reasoner_error, shared=shared,
                                 videos=tuple(v.strip() for v in (videos or "").split(",") if v.strip()),
                                 ray=RayOptions(address=address, gpus_per_task=gpus_per_task, max_retries=max_retries))
    except user_errors() as exc:
        fail(str(exc))
    _benchmark_with_progress(runner, evaluate=not no_eval and shard_spec is None)


def _benchmark_with_progress(runner, evaluate: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, soft_wrap=True)
    progress = Progress(TextColumn("[bold]sequences"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                        TimeElapsedColumn(), console=console)
    if runner.config.pipeline.mode == "async":
        console.print("note: async reasoning depends on timing; results of two runs may differ (use --sync to reproduce)")
    with progress:
        task = progress.add_task("benchmark", total=None, info="")

        def on_outcome(outcome, done, total):
            state = "skipped (complete)" if outcome.skipped else ("ok" if outcome.ok else "[red]FAILED[/]")
            fps = f", {outcome.frames / outcome.seconds:.1f} fps" if outcome.ok and not outcome.skipped and outcome.seconds > 0 else ""
            progress.update(task, completed=done, total=total, info=f"{outcome.name}: {state}{fps}")

        runner.on_outcome = on_outcome
        from ..pipeline.signals import Terminated

        try:
            outcomes = runner.run()
        except user_errors() as exc:
            progress.stop()
            fail(str(exc))
        except Terminated as exc:
            progress.stop()
            done = sum(1 for o in runner.outcomes if o.ok and not o.skipped)
            exc.kept = (f"{done} sequence(s) finished in this run are kept in {runner.output}; "
                        "rerun the same command to resume")
            _stopped(exc, console)
    ran = [o for o in outcomes if not o.skipped and o.frames]
    elsewhere = [o for o in outcomes if o.elsewhere]
    frames = sum(o.frames for o in ran)
    seconds = sum(o.seconds for o in ran)
    failed_calls = sum(sum(o.reasoning_failures.values()) for o in ran)
    console.print(
        f"[bold]{len(outcomes)} sequences:[/] {len(ran)} run, {sum(o.skipped and not o.elsewhere for o in outcomes)} already complete, "
        + (f"{len(elsewhere)} being run by other processes, " if elsewhere else "")
        + f"{len(runner.failures)} failed; {frames} frames at {frames / seconds if seconds else 0:.1f} fps; "
        f"{sum(o.reasoning_calls for o in ran)} reasoning calls: {sum(o.updates + o.reverts for o in ran)} text changes "
        f"({sum(o.updates for o in ran)} updates, {sum(o.reverts for o in ran)} reverts), "
        f"{sum(o.reapplied for o in ran)} re-applied the text in use, {failed_calls} failed",
        highlight=False,
    )
    if runner.on_reasoner_error == "continue":  # also those kept from an earlier run (their records say)
        kept = [o.name for o in outcomes if o.ok and not o.elsewhere]
        names = list(runner.reasoning_counts(kept)["sequences_with_failures"])
    if runner.on_reasoner_error == "continue" and names:
        console.print(f"[yellow]warning:[/] reasoning calls failed on {len(names)} sequence(s) ({', '.join(map(escape, names[:10]))}"
                      f"{', ...' if len(names) > 10 else ''}); kept under --on-reasoner-error continue, counted in report.json",
                      highlight=False)
    if runner.failures:
        for outcome in runner.failures:
            console.print(f"[red]failed[/] {escape(outcome.name)}: {escape(outcome.error or '')}", highlight=False)
        console.print(f"details in {runner.plan.failures_file}; rerun the same command to retry them", highlight=False)
        raise typer.Exit(1)
    if elsewhere:
        console.print(f"not evaluated: {len(elsewhere)} sequence(s) are still being run by other processes "
                      f"({escape(elsewhere[0].name)}: {escape(elsewhere[0].elsewhere or '')}); the last process to finish evaluates",
                      highlight=False)
        return
    if evaluate and not outcomes:
        console.print("nothing to evaluate: no sequence selected")
    elif evaluate:
        from ..app import evaluate_run
        from ..evaluation import EvaluationError

        try:
            report = evaluate_run(runner)
        except (EvaluationError, FileNotFoundError) as exc:
            fail(f"evaluation failed: {exc}", code=1)
        console.print(f"evaluation written to {runner.output / 'report.json'}", highlight=False)
        _print_scores(console, report)


def _print_scores(console, report: dict) -> None:
    protocol = report.get("protocol", "")
    for name, scores in report.get("trackers", {}).items():
        overall = scores.get("overall", {})
        values = ", ".join(f"{k} {v:.2f}" for k, v in overall.items())
        console.print(f"[bold]{name}[/] on {report.get('dataset')} ({protocol}): {values}", highlight=False)
    for line in report.get("notes", []):  # what the protocol dropped, cut, padded or carried forward
        console.print(f"note: {line}", highlight=False, markup=False)
