"""`reasoningtrack track` (one video) and `reasoningtrack benchmark` (a whole dataset split)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._apps import app

_COMPONENT_HELP = "Backbone and reasoner options"
_PIPELINE_HELP = "Reasoning schedule and text policy"


def _fail(message: str, code: int = 2) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input or configuration: shown as one line, not a traceback."""
    from ..config import ConfigError
    from ..datasets.base import DatasetError
    from ..evaluation.results import ResultFormatError
    from ..reasoning.base import ReasonerError
    from ..registry import RegistryError
    from ..sources import SourceError
    from ..trackers.base import BackboneError

    return (ConfigError, DatasetError, ResultFormatError, ReasonerError, RegistryError, SourceError, BackboneError, FileNotFoundError)


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


def _options(named: dict, generic: list[str] | None) -> dict:
    """Component options from the named flags (only those given) and ``--*-opt key=value``."""
    from ..config import parse_overrides

    out = {k: v for k, v in named.items() if v is not None}
    out.update(parse_overrides(generic or []))
    return out


def _merge_run_settings(
    data: dict,
    *,
    tracker: str | None,
    tracker_options: dict,
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
    from ..config import parse_overrides

    if tracker is not None and tracker != data.get("tracker"):
        data["tracker"], data["tracker_options"] = tracker, {}
    if reasoner is not None and reasoner != data.get("reasoner"):
        data["reasoner"], data["reasoner_options"] = reasoner, {}
    data["tracker_options"] = {**data.get("tracker_options", {}), **tracker_options}
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
    prefixed = [item if item.split("=", 1)[0].split(".")[0].strip() in fields else f"pipeline.{item}" for item in (overrides or [])]
    return _deep_merge(data, parse_overrides(prefixed))


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@app.command()
def track(
    input: Optional[str] = typer.Argument(None, help="Video file or image folder (may come from --config)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder for boxes.txt, reasoning.jsonl, config.yaml, video.mp4."),
    box: Optional[str] = typer.Option(None, "--box", help="Initial box x,y,w,h in pixels. Default: row 1 of groundtruth_rect.txt / groundtruth.txt in the folder or its parent."),
    text: Optional[str] = typer.Option(None, "--text", help="Description of the target. Default: language.txt / nlp.txt beside the frames."),
    tracker: Optional[str] = typer.Option(None, "--tracker", help="Backbone: csrt (default), kcf, mil, ..., dutrack.", rich_help_panel=_COMPONENT_HELP),
    reasoner: Optional[str] = typer.Option(None, "--reasoner", help="Reasoner: heuristic (default), static, qwen, openai, none.", rich_help_panel=_COMPONENT_HELP),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Backbone checkpoint (tracker option 'checkpoint').", rich_help_panel=_COMPONENT_HELP),
    tracker_config: Optional[str] = typer.Option(None, "--tracker-config", help="Backbone config file (tracker option 'config').", rich_help_panel=_COMPONENT_HELP),
    model: Optional[str] = typer.Option(None, "--model", help="Reasoner model (reasoner option 'model').", rich_help_panel=_COMPONENT_HELP),
    adapter: Optional[str] = typer.Option(None, "--adapter", help="LoRA adapter folder (reasoner option 'adapter').", rich_help_panel=_COMPONENT_HELP),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server URL (reasoner option 'base_url').", rich_help_panel=_COMPONENT_HELP),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Prompt preset or file (reasoner option 'prompt').", rich_help_panel=_COMPONENT_HELP),
    tracker_opt: Optional[List[str]] = typer.Option(None, "--tracker-opt", help="Any backbone option key=value (repeatable).", rich_help_panel=_COMPONENT_HELP),
    reasoner_opt: Optional[List[str]] = typer.Option(None, "--reasoner-opt", help="Any reasoner option key=value (repeatable).", rich_help_panel=_COMPONENT_HELP),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="Triggers, comma-separated: interval, motion, confidence (or none).", rich_help_panel=_PIPELINE_HELP),
    interval: Optional[int] = typer.Option(None, "--interval", help="Frames between reasoning calls for the interval trigger (paper: 100).", rich_help_panel=_PIPELINE_HELP),
    policy: Optional[str] = typer.Option(None, "--policy", help="Text policy: static, initial (default), cascaded, dynamic+static.", rich_help_panel=_PIPELINE_HELP),
    asynchronous: Optional[bool] = typer.Option(None, "--async/--sync", help="Reason in a worker thread while tracking goes on (default: sync).", rich_help_panel=_PIPELINE_HELP),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds before a reasoner call counts as hung (0: none).", rich_help_panel=_PIPELINE_HELP),
    config: Optional[Path] = typer.Option(None, "--config", help="A config.yaml written by an earlier run (flags given here override it)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override any config key, e.g. schedule.motion.check_every=5 (repeatable)."),
    no_video: bool = typer.Option(False, "--no-video", help="Do not write video.mp4."),
) -> None:
    """Track one video or image folder; write boxes, the reasoning log, the config and an annotated video.

    Example (no model weights needed):
    reasoningtrack track Crossing/img --box 205,151,17,50 --text "a person crossing the road" --tracker csrt --reasoner heuristic -o out/
    """
    from ..config import ConfigError
    from ..pipeline.config import TrackRunConfig
    from ..pipeline.session import find_description, find_groundtruth, first_groundtruth_box

    try:
        data = TrackRunConfig.from_yaml(config).to_dict() if config else TrackRunConfig().to_dict()
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
            data["text"] = found.read_text(encoding="utf-8").strip() if found else ""
        data = _merge_run_settings(
            data,
            tracker=tracker,
            tracker_options=_options({"checkpoint": checkpoint, "config": tracker_config}, tracker_opt),
            reasoner=reasoner,
            reasoner_options=_options({"model": model, "adapter": adapter, "base_url": base_url, "prompt": prompt}, reasoner_opt),
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
        run_config = TrackRunConfig.from_dict(data)
    except _user_errors() as exc:
        _fail(str(exc))
    _track_with_progress(run_config, output)


def _track_with_progress(run_config, output: Path) -> None:
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

        try:
            outputs = track_to_folder(run_config, output, on_frame=on_frame)
        except _user_errors() as exc:
            progress.stop()
            _fail(str(exc))
        progress.update(task, completed=outputs.summary.frames, total=outputs.summary.frames)
    summary = outputs.summary
    console.print(f"[bold green]done:[/] {summary.describe()}", highlight=False)
    written = [outputs.boxes, outputs.reasoning, outputs.config] + ([outputs.video] if outputs.video else [])
    console.print("wrote " + ", ".join(str(p) for p in written), highlight=False, markup=False)


@app.command()
def benchmark(
    output: Path = typer.Option(..., "--output", "-o", help="Run folder: results/, reasoning/, timings/, config.yaml, report.json."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Dataset name: tnllt, tnl2k, lasot, lasot-ext, otb-lang, got10k, folder, synthetic."),
    root: Optional[str] = typer.Option(None, "--root", help="Dataset root folder."),
    split: Optional[str] = typer.Option(None, "--split", help="Split (default test)."),
    sequences: Optional[str] = typer.Option(None, "--sequences", help="Only these sequences (comma-separated)."),
    tracker: Optional[str] = typer.Option(None, "--tracker", help="Backbone (default csrt).", rich_help_panel=_COMPONENT_HELP),
    reasoner: Optional[str] = typer.Option(None, "--reasoner", help="Reasoner (default heuristic; none = backbone alone).", rich_help_panel=_COMPONENT_HELP),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Backbone checkpoint.", rich_help_panel=_COMPONENT_HELP),
    tracker_config: Optional[str] = typer.Option(None, "--tracker-config", help="Backbone config file.", rich_help_panel=_COMPONENT_HELP),
    model: Optional[str] = typer.Option(None, "--model", help="Reasoner model.", rich_help_panel=_COMPONENT_HELP),
    adapter: Optional[str] = typer.Option(None, "--adapter", help="LoRA adapter folder.", rich_help_panel=_COMPONENT_HELP),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server URL.", rich_help_panel=_COMPONENT_HELP),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Prompt preset or file.", rich_help_panel=_COMPONENT_HELP),
    tracker_opt: Optional[List[str]] = typer.Option(None, "--tracker-opt", help="Backbone option key=value (repeatable).", rich_help_panel=_COMPONENT_HELP),
    reasoner_opt: Optional[List[str]] = typer.Option(None, "--reasoner-opt", help="Reasoner option key=value (repeatable).", rich_help_panel=_COMPONENT_HELP),
    dataset_opt: Optional[List[str]] = typer.Option(None, "--dataset-opt", help="Dataset option key=value (repeatable)."),
    schedule: Optional[str] = typer.Option(None, "--schedule", help="Triggers: interval, motion, confidence (comma-separated) or none.", rich_help_panel=_PIPELINE_HELP),
    interval: Optional[int] = typer.Option(None, "--interval", help="Frames between reasoning calls (paper: 100).", rich_help_panel=_PIPELINE_HELP),
    policy: Optional[str] = typer.Option(None, "--policy", help="static, initial, cascaded, dynamic+static.", rich_help_panel=_PIPELINE_HELP),
    asynchronous: Optional[bool] = typer.Option(None, "--async/--sync", help="Async reasoning (not reproducible; default sync).", rich_help_panel=_PIPELINE_HELP),
    timeout: Optional[float] = typer.Option(None, "--timeout", help="Seconds before a reasoner call counts as hung.", rich_help_panel=_PIPELINE_HELP),
    result_name: Optional[str] = typer.Option(None, "--result-name", help="Write results/<NAME>_tracking_result/<seq>.txt (the MATLAB toolkits' folder name)."),
    config: Optional[Path] = typer.Option(None, "--config", help="A benchmark config.yaml (flags given here override it)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override any config key (repeatable)."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (spawned); with GPUs, worker k uses GPU k mod #GPUs."),
    shard: Optional[str] = typer.Option(None, "--shard", help="Run shard i/N only (0-based; positions i, i+N, ... of the official order)."),
    executor: str = typer.Option("local", "--executor", help="local (processes) or ray (needs the [ray] extra)."),
    no_eval: bool = typer.Option(False, "--no-eval", help="Do not evaluate at the end."),
) -> None:
    """Run a tracker configuration over a dataset split (resumable), then evaluate it.

    Example: reasoningtrack benchmark --dataset lasot --root /data/LaSOT --tracker csrt --reasoner heuristic -o runs/csrt
    """
    from ..config import ConfigError
    from ..pipeline.config import BenchmarkConfig
    from ..pipeline.runner import BenchmarkRunner, parse_shard

    try:
        data = BenchmarkConfig.from_yaml(config).to_dict() if config else BenchmarkConfig().to_dict()
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
            tracker=tracker,
            tracker_options=_options({"checkpoint": checkpoint, "config": tracker_config}, tracker_opt),
            reasoner=reasoner,
            reasoner_options=_options({"model": model, "adapter": adapter, "base_url": base_url, "prompt": prompt}, reasoner_opt),
            schedule=schedule,
            interval=interval,
            policy=policy,
            asynchronous=asynchronous,
            timeout=timeout,
            overrides=set_,
            fields=set(BenchmarkConfig().to_dict()),
        )
        bench_config = BenchmarkConfig.from_dict(data)
        if not bench_config.root:
            raise ConfigError("no dataset root: give --root DIR")
        shard_spec = parse_shard(shard)
        runner = BenchmarkRunner(bench_config, output, workers=workers, shard=shard_spec, executor=executor, evaluate=not no_eval)
    except _user_errors() as exc:
        _fail(str(exc))
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
        try:
            outcomes = runner.run()
        except _user_errors() as exc:
            progress.stop()
            _fail(str(exc))
    ran = [o for o in outcomes if o.ok and not o.skipped]
    frames = sum(o.frames for o in ran)
    seconds = sum(o.seconds for o in ran)
    console.print(
        f"[bold]{len(outcomes)} sequences:[/] {len(ran)} run, {sum(o.skipped for o in outcomes)} already complete, "
        f"{len(runner.failures)} failed; {frames} frames at {frames / seconds if seconds else 0:.1f} fps; "
        f"{sum(o.reasoning_calls for o in ran)} reasoning calls, {sum(o.updates for o in ran)} text updates",
        highlight=False,
    )
    if runner.failures:
        for outcome in runner.failures:
            console.print(f"[red]failed[/] {escape(outcome.name)}: {escape(outcome.error or '')}", highlight=False)
        console.print(f"details in {runner.plan.failures_file}; rerun the same command to retry them", highlight=False)
        raise typer.Exit(1)
    if evaluate and not outcomes:
        console.print("nothing to evaluate: no sequence selected")
    elif evaluate:
        from ..evaluation import EvaluationError

        try:
            report = runner.evaluate_results()
        except (EvaluationError, FileNotFoundError) as exc:
            _fail(f"evaluation failed: {exc}", code=1)
        console.print(f"evaluation written to {runner.output / 'report.json'}", highlight=False)
        _print_scores(console, report)


def _print_scores(console, report: dict) -> None:
    protocol = report.get("protocol", "")
    for name, scores in report.get("trackers", {}).items():
        overall = scores.get("overall", {})
        values = ", ".join(f"{k} {v:.2f}" for k, v in overall.items())
        console.print(f"[bold]{name}[/] on {report.get('dataset')} ({protocol}): {values}", highlight=False)
