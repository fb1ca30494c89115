"""`reasoningtrack data build|teach|import-release|export-release` and `reasoningtrack train sft|grpo`.

Every command reads an optional YAML config (``--config``), applies ``--set key=value`` overrides,
then the dedicated options; the resolved config is saved beside the output.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._apps import app, data_app, dev_app, train_app  # noqa: F401
from .common import exit_code_for, fail, output_path, parse_options
from . import options as opt
from .options import resolve_alias


def _load(cls, config: Optional[Path], overrides: List[str], direct: dict, profile: Optional[str] = None):
    """Profile section (data/sft/grpo configs), then the YAML file, then --set overrides, then
    the command's own options (those given)."""
    from ..config import ConfigError, load_yaml, parse_overrides
    from ..training.config import GRPOConfig, SampleConfig, SFTConfig, resolve_config

    try:
        if cls in (SampleConfig, SFTConfig, GRPOConfig):
            return resolve_config(
                cls, profile=profile, file_data=load_yaml(config) if config else None,
                overrides=parse_overrides(overrides or []), direct=direct, where=str(config or ""),
            )
        cfg = cls.from_yaml(config, overrides) if config else cls.from_dict(parse_overrides(overrides or []))
        given = {k: v for k, v in direct.items() if v is not None}
        return cfg.replace(**given) if given else cfg
    except ConfigError as err:
        raise typer.BadParameter(str(err)) from None


def _save_config(cfg, out: Path, name: str) -> None:
    from ..fileio import atomic_write_text

    atomic_write_text(out / name, cfg.to_yaml())


def _set_help(example: str) -> str:
    return f"Override any config key, e.g. --set {example} (repeatable; dotted keys for nested ones)."


@data_app.command("build")
def build(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the samples (Parquet shards; rerun the command to resume).", show_default=False),
    out_arg: Optional[Path] = typer.Argument(None, hidden=True, metavar="[OUT]", help="Deprecated: -o/--output."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML with SampleConfig keys.", show_default="none"),
    profile: opt.Profile = None,
    dataset: List[str] = typer.Option([], "--dataset", "-d", help="Dataset name (tnllt, tnl2k, lasot, got10k, otb-lang, synthetic...); repeat with --root for several."),
    root: List[Path] = typer.Option([], "--root", "-r", help="Dataset root folder (one per --dataset, in the same order)."),
    split: Optional[str] = typer.Option(None, "--split", help="Split to draw from (default train).", show_default="the config's"),
    backbone: Optional[str] = typer.Option(None, "--backbone", "-b", help="Frozen backbone that labels IoU(old text) (default dutrack; csrt is weight-free).", show_default="the config's"),
    backbone_opt: List[str] = typer.Option([], "--backbone-opt", help="Backbone option key=value (e.g. checkpoint=DUTrack.pth.tar)."),
    pairs: Optional[int] = typer.Option(None, "--pairs-per-sequence", help="Frame pairs per sequence (default 4).", show_default="the config's"),
    min_gap: Optional[int] = typer.Option(None, "--min-gap", help="Smallest frame gap of a pair (default 100).", show_default="the config's"),
    max_gap: Optional[int] = typer.Option(None, "--max-gap", help="Largest frame gap of a pair (default 500).", show_default="the config's"),
    track_steps: Optional[int] = typer.Option(None, "--track-steps", help="1 = the release's one-step rule; k > 1 tracks through k-1 frames in between.", show_default="the config's"),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the pair sampling (same seed, same pairs).", show_default="the config's"),
    overrides: List[str] = typer.Option([], "--set", help=_set_help("min_gap=200")),
) -> None:
    """Draw frame pairs from datasets' training splits and label them with the frozen backbone.

    Each sample holds the template frame and a later frame at full resolution (the VLM's processor resizes them; labels are computed on the full frames), both ground-truth boxes, the description, and IoU(old text): the backbone initialised on frame 1 with its box and the description, tracking once on frame 2. With several --dataset/--root pairs each dataset goes to OUT/<dataset>/ and `train sft|grpo OUT` reads them all (the paper mixes TNLLT, OTB, TNL2K, LaSOT and GOT-10k). The output is a Hugging Face dataset (`reasoningtrack.training.samples.load_samples(OUT)`).
    """
    from ..training.config import SampleConfig
    from ..training.samples import SampleBuildError, build_samples, load_samples, yes_share

    out = output_path(output, out_arg, "the OUT argument")
    if len(dataset) > 1 and len(root) != len(dataset):
        fail(f"give one --root per --dataset: {len(dataset)} dataset(s), {len(root)} root(s)")
    if len(root) > 1 and len(dataset) != len(root):
        fail(f"give one --dataset per --root: {len(dataset)} dataset(s), {len(root)} root(s)")
    jobs = list(zip(dataset, root)) if len(dataset) > 1 else [(dataset[0] if dataset else None, root[0] if root else None)]
    built = []
    for index, (name, folder) in enumerate(jobs):
        direct = dict(
            dataset=name, root=str(folder) if folder else None, split=split, backbone=backbone,
            pairs_per_sequence=pairs, min_gap=min_gap, max_gap=max_gap, track_steps=track_steps, seed=seed,
        )
        if backbone_opt:
            direct["backbone_options"] = parse_options(backbone_opt, "--backbone-opt")
        cfg = _load(SampleConfig, config, overrides, direct, profile)
        # One sub-folder per dataset (numbered when a dataset name comes twice, e.g. two synthetic worlds).
        sub = cfg.dataset if dataset.count(cfg.dataset) <= 1 else f"{cfg.dataset}-{index + 1}"
        if len(jobs) > 1 and cfg.name is None:
            cfg = cfg.replace(name=sub)
        target = out / sub if len(jobs) > 1 else out
        try:
            path = build_samples(cfg, target)
        except (SampleBuildError, ValueError, OSError) as err:
            fail(str(err), exit_code_for(err))
        _save_config(cfg, target, "sample_config.yaml")
        built.append((cfg.dataset, path))
    samples = load_samples(out)
    for name, path in built:
        part = load_samples(path)
        typer.echo(f"{name}: {len(part)} samples in {path} (mean IoU of the old text {sum(part['iou_old']) / max(1, len(part)):.3f})")
    share = yes_share(samples)
    known = "unknown until a teacher answers (`data teach`)" if share is None else f"{share:.1%}"
    typer.echo(f"{len(samples)} samples in all; d=yes share {known}")


@data_app.command("teach")
def teach_command(
    samples: Path = typer.Argument(..., help="Sample folder from `reasoningtrack data build`."),
    out_arg: Optional[Path] = typer.Argument(None, hidden=True, metavar="[OUT]", help="Deprecated: -o/--output."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the taught samples (resumable shards).", show_default=False),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML with TeacherConfig keys.", show_default="none"),
    reasoner: Optional[str] = typer.Option(None, "--reasoner", help="Teacher backend (default openai; qwen, heuristic...).", show_default="the config's"),
    model: Optional[str] = typer.Option(None, "--model", help="Teacher model (reasoner option model).", show_default="the config's"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server URL (reasoner option base_url).", show_default="the config's"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Prompt preset name or YAML file.", show_default="the config's"),
    reasoner_opt: List[str] = typer.Option([], "--reasoner-opt", help="Reasoner option key=value."),
    backbone: Optional[str] = typer.Option(None, "--backbone", "-b", help="Backbone for IoU(new text): use the one that built the samples.", show_default="the config's"),
    backbone_opt: List[str] = typer.Option([], "--backbone-opt", help="Backbone option key=value."),
    keep_non_strict: Optional[bool] = typer.Option(None, "--keep-non-strict/--strict-only", help="Keep answers that fail the strict format (default: strict only).", show_default="the config's"),
    overrides: List[str] = typer.Option([], "--set", help=_set_help("shard_size=64")),
) -> None:
    """Ask a teacher reasoner for <think>/<d>/<answer> on every sample; keep strict answers.

    Each kept answer is labelled with IoU(new text) by the same one-step backbone rule and with whether the teacher's yes/no agrees with the IoU comparison. The `completion_text` column is the SFT target. Example with a vLLM server: `reasoningtrack data teach samples/ taught/ --reasoner openai --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-VL-72B-Instruct --backbone dutrack --backbone-opt checkpoint=DUTrack.pth.tar`
    """
    from ..training.config import TeacherConfig
    from ..training.teacher import agreement_summary, teach

    out = output_path(output, out_arg, "the OUT argument")
    options = parse_options(reasoner_opt, "--reasoner-opt")
    if model:
        options["model"] = model
    if base_url:
        options["base_url"] = base_url
    direct = dict(reasoner=reasoner, prompt=prompt, backbone=backbone, keep_non_strict=keep_non_strict)
    if options:
        direct["reasoner_options"] = options
    if backbone_opt:
        direct["backbone_options"] = parse_options(backbone_opt, "--backbone-opt")
    cfg = _load(TeacherConfig, config, overrides, direct)
    try:
        path = teach(samples, out, cfg)
    except (ValueError, OSError, RuntimeError) as err:
        fail(str(err), exit_code_for(err))
    _save_config(cfg, out, "teacher_config.yaml")
    typer.echo(f"taught samples in {path}: {agreement_summary(path)}")


@data_app.command("import-release")
def import_release(
    files: List[Path] = typer.Argument(..., help="LLaMA-Factory alpaca JSON files (e.g. the release's sft_dataset_*.json)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the SFT dataset (datasets.save_to_disk).", show_default=False),
    out_old: Optional[Path] = typer.Option(None, "--out", hidden=True, help="Deprecated: -o/--output."),
    image_root: Optional[Path] = typer.Option(None, "--image-root", help="Folder that replaces the release's /your_root_path prefix of frame paths.", show_default="none"),
) -> None:
    """Read the release's LLaMA-Factory SFT JSON into an SFT dataset for `reasoningtrack train sft`.

    Columns: description, completion_text (the teacher output), instruction, image_paths (as written in the file) and images (the paths under --image-root, opened when training reads them).
    """
    import datasets

    from ..training.llamafactory import LlamaFactoryError, read_llamafactory, samples_to_dataset

    out = output_path(output, out_old, "--out")
    parts = []
    try:
        for path in files:
            parts.append(samples_to_dataset(read_llamafactory(path), image_root, source=path.name))
    except LlamaFactoryError as err:
        fail(str(err), exit_code_for(err))
    merged = datasets.concatenate_datasets(parts)
    merged.save_to_disk(str(out))
    typer.echo(f"{len(merged)} samples from {len(files)} file(s) saved to {out}")


@data_app.command("export-release")
def export_release(
    data: Path = typer.Argument(..., help="Taught sample folder (`data teach`) or an imported SFT dataset (`data import-release`)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="JSON file to write (LLaMA-Factory alpaca layout).", show_default=False),
    out_arg: Optional[Path] = typer.Argument(None, hidden=True, metavar="[OUT]", help="Deprecated: -o/--output."),
    image_dir: Optional[Path] = typer.Option(None, "--image-dir", help="Where to write the frames (sampleNNNN/img1.jpg, img2.jpg) when rows carry images, not paths.", show_default="none"),
    instruction: str = typer.Option("release-sft", "--instruction", help="Instruction of rows without their own: release-sft (the release's, with the d tag), release-sft-no-d, or a text file."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Instead of --instruction: the system text of this prompt preset, rendered.", show_default="none"),
) -> None:
    """Write SFT data in the release's LLaMA-Factory JSON (instruction, input, output, images).

    Rows keep their own instruction (an imported release file exported again is identical byte for byte); other rows get the release's SFT instruction text exactly (or --instruction / --prompt).
    """
    from ..config import ConfigError
    from ..reasoning.prompts import load_prompt
    from ..training.instructions import load_instruction
    from ..training.llamafactory import LlamaFactoryError, dataset_to_samples, write_llamafactory

    out = output_path(output, out_arg, "the OUT argument")
    try:
        text = load_prompt(prompt).render("")[0] if prompt else load_instruction(instruction)
        dataset = _open_sft_source(data, None)
        samples = dataset_to_samples(dataset, instruction=text, image_dir=image_dir)
    except (LlamaFactoryError, ConfigError) as err:
        fail(str(err), exit_code_for(err))
    write_llamafactory(samples, out)
    typer.echo(f"{len(samples)} records written to {out}")


def _open_sft_source(data: Path, image_root: Optional[Path]):
    """A taught shard folder, a `save_to_disk` folder, or an alpaca JSON file."""
    import datasets

    from ..training.llamafactory import read_llamafactory, samples_to_dataset
    from ..training.samples import load_samples

    if data.is_file() and data.suffix == ".json":
        return samples_to_dataset(read_llamafactory(data), image_root, source=data.name)
    if (data / "shards").is_dir():
        return load_samples(data)
    if (data / "dataset_info.json").exists() or (data / "state.json").exists():
        return datasets.load_from_disk(str(data))
    raise typer.BadParameter(f"{data} is neither a sample folder, a saved dataset nor an alpaca .json file")


def _decode_images(dataset):
    """Imported release rows hold frame paths: read them as images when training."""
    from ..training.llamafactory import with_images

    return with_images(dataset)


_TRAIN_COMMON = dict(
    model="Model to start from: a hub id or a folder (for GRPO, the SFT output folder).",
    output_dir="Output folder; loads in the qwen reasoner (see docs/training.md).",
)


def _print_config(cfg) -> None:
    from ..training.config import print_config

    typer.echo(print_config(cfg), nl=False)


def _require_data(data: Optional[List[Path]]) -> List[Path]:
    if not data:
        fail("missing DATA: give one or more data folders (or --print-config to see the configuration)")
    return list(data)


@train_app.command("sft")
def train_sft(
    data: Optional[List[Path]] = typer.Argument(None, help="Taught sample folders, imported release datasets or alpaca .json files (several are concatenated)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML with SFTConfig keys.", show_default="none"),
    profile: opt.Profile = None,
    print_config: bool = typer.Option(False, "--print-config", help="Print the resolved configuration as YAML and exit (no data needed)."),
    model: Optional[str] = typer.Option(None, "--model", help=_TRAIN_COMMON["model"], show_default="the config's"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help=_TRAIN_COMMON["output_dir"], show_default="the config's output_dir"),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", hidden=True, help="Deprecated: -o/--output."),
    lora: Optional[bool] = typer.Option(None, "--lora/--full", help="LoRA through PEFT, or full fine-tuning (the release's).", show_default="the config's"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Train in the reasoner's inference layout with this prompt preset or YAML file (sets conversation: inference; default: the release's LLaMA-Factory layout).", show_default="the config's"),
    image_root: Optional[Path] = typer.Option(None, "--image-root", help="For alpaca JSON input: folder that replaces /your_root_path.", show_default="none"),
    yes_share: Optional[float] = typer.Option(None, "--yes-share", help="Balance the rows to this share of d=yes (the release's SFT data: 0.7).", show_default="the config's"),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after this many optimiser steps (overrides epochs).", show_default="the config's"),
    overrides: List[str] = typer.Option([], "--set", help=_set_help("max_pixels=262144")),
) -> None:
    """Supervised fine-tuning of the reasoner on teacher chain-of-thought (TRL SFTTrainer).

    Defaults are the release's LLaMA-Factory run: full fine-tune, lr 5e-5 cosine, no warm-up, 3 epochs, batch 1 x accumulation 8, cutoff 4096 tokens, the qwen2_vl layout with each sample's own instruction, vision tower frozen (LLaMA-Factory's default), images 32x32..768x768. Without a GPU it trains on the CPU in fp32 and says so. Multi-GPU: `accelerate launch --config_file $(python -m reasoningtrack.training.configs ddp) -m reasoningtrack.cli train sft ...`.
    """
    import datasets

    from ..config import ConfigError
    from ..training.config import SFTConfig
    from ..training.conversations import to_sft_dataset
    from ..training.samples import balance_yes_share
    from ..training.samples import yes_share as share_of
    from ..training.sft import train_sft as run

    output_dir = resolve_alias(output, output_dir, "--output", "--output-dir")
    direct = dict(model=model, output_dir=str(output_dir) if output_dir else None, prompt=prompt, max_steps=max_steps)
    if prompt is not None:  # a prompt given here means: train in the layout the reasoner will be asked in
        direct["conversation"] = "inference"
    if lora is not None:
        direct["lora"] = {"enabled": lora}
    cfg = _load(SFTConfig, config, overrides, direct, profile)
    if print_config:
        _print_config(cfg)
        return
    try:
        parts = [_decode_images(_open_sft_source(d, image_root)) for d in _require_data(data)]
        dataset = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
        if yes_share is not None:
            dataset, report = balance_yes_share(dataset, yes_share, seed=cfg.seed)
            typer.echo(f"balanced to {yes_share:.0%} d=yes: {report}", err=True)
        share = share_of(dataset)
        typer.echo(f"{len(dataset)} SFT samples, d=yes share {'unknown' if share is None else f'{share:.1%}'}", err=True)
        rows = to_sft_dataset(dataset, cfg.prompt, conversation=cfg.conversation, instruction=cfg.instruction)
        out = run(cfg, rows, announce=lambda m: typer.echo(m, err=True))
    except (ConfigError, KeyError, ValueError, FileNotFoundError) as err:
        fail(str(err), exit_code_for(err))
    _save_config(cfg, Path(out), "sft_config.yaml")
    typer.echo(f"SFT model saved to {out}")


@train_app.command("grpo")
def train_grpo(
    data: Optional[List[Path]] = typer.Argument(None, help="Sample folders from `reasoningtrack data build` (several are concatenated)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML with GRPOConfig keys (or one printed by --print-config).", show_default="none"),
    profile: opt.Profile = None,
    print_config: bool = typer.Option(False, "--print-config", help="Print the resolved configuration as YAML (TRL's key names) and exit (no data needed)."),
    model: Optional[str] = typer.Option(None, "--model", help=_TRAIN_COMMON["model"], show_default="the config's"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help=_TRAIN_COMMON["output_dir"], show_default="the config's output_dir"),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", hidden=True, help="Deprecated: -o/--output."),
    lora: Optional[bool] = typer.Option(None, "--lora/--full", help="LoRA through PEFT, or full fine-tuning (the release's).", show_default="the config's"),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Prompt preset or YAML file (its system text goes into the release's GRPO prompt).", show_default="the config's"),
    backbone: Optional[str] = typer.Option(None, "--backbone", "-b", help="Frozen backbone of the IoU/judge rewards (the one that built the samples).", show_default="the config's"),
    backbone_opt: List[str] = typer.Option([], "--backbone-opt", help="Backbone option key=value."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop after this many optimiser steps (overrides epochs).", show_default="the config's"),
    overrides: List[str] = typer.Option([], "--set", help=_set_help("beta=0.02")),
) -> None:
    """GRPO of the reasoner with format / strict / IoU / judge rewards (TRL GRPOTrainer).

    Rewards as the release computes them: total = 0.1 format + 0.1 strict + w IoU + 0.15 judge, the IoU and judge from two runs of the frozen backbone (the answer, the original description); w = 0 with --profile release (as shipped), the paper profile's w is an assumption (docs/training.md); set them with --set reward_weights=[0.1,0.1,w,0.15]. Release values: group 5, lr 1e-6 constant, weight decay 1e-2, KL beta 1e-2, clip 0.2/0.3, temperature 1.0, top-p 0.99, 256 prompts per rollout and 128 per step, completions up to 2048 tokens, images 59536..262144 pixels, 2 epochs, vision tower trained. Start from the SFT output folder (TRL builds the KL reference from it). Optional vLLM generation on GPUs: --set use_vllm=true (see docs/training.md).
    """
    from ..config import ConfigError
    from ..training.config import GRPOConfig
    from ..training.conversations import to_grpo_dataset
    from ..training.grpo import train_grpo as run
    from ..training.samples import load_samples

    output_dir = resolve_alias(output, output_dir, "--output", "--output-dir")
    direct = dict(model=model, output_dir=str(output_dir) if output_dir else None, prompt=prompt, max_steps=max_steps)
    if lora is not None:
        direct["lora"] = {"enabled": lora}
    rewards = {}
    if backbone:
        rewards["backbone"] = backbone
    if backbone_opt:
        rewards["backbone_options"] = parse_options(backbone_opt, "--backbone-opt")
    if rewards:
        direct["rewards"] = rewards
    cfg = _load(GRPOConfig, config, overrides, direct, profile)
    if print_config:
        _print_config(cfg)
        return
    try:
        dataset = to_grpo_dataset(load_samples(_require_data(data)), cfg.prompt, layout=cfg.prompt_layout)
        out = run(cfg, dataset, announce=lambda m: typer.echo(m, err=True))
    except (ConfigError, KeyError, ValueError, FileNotFoundError) as err:
        fail(str(err), exit_code_for(err))
    _save_config(cfg, Path(out), "grpo_config.yaml")
    typer.echo(f"GRPO model saved to {out}")


@dev_app.command("toy-samples")
def toy_samples_command(
    out: Path = typer.Argument(..., help="Folder for the toy samples (same layout as `data build`)."),
    n: int = typer.Option(200, "--n", min=1, help="Number of frame pairs."),
    seed: int = typer.Option(0, "--seed", help="Seed (same seed, same pairs)."),
    prompt_file: Optional[Path] = typer.Option(None, "--prompt-file", help="Also write the toy's short prompt (YAML) here.", show_default="none"),
) -> None:
    """Write toy-world pairs whose right answer is known (the shape changed colour or not), labelled by the toy backbone, with the oracle teacher's output in completion_text: ready for `train sft` and `train grpo --backbone toy`.
    """
    from ..training.toy import write_toy_prompt, write_toy_samples

    path = write_toy_samples(out, n, seed)
    if prompt_file is not None:
        prompt_file.parent.mkdir(parents=True, exist_ok=True)
        write_toy_prompt(prompt_file)
    typer.echo(f"{n} toy samples in {path}")


@dev_app.command("toy-run")
def toy_run_command(
    workdir: Path = typer.Argument(..., help="Folder for the models and the report (report.json)."),
    # None = not given: the config's value (after --set) stands; the defaults shown are ToyRunConfig's.
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the model, the data and the training.", show_default="0"),
    sft_steps: Optional[int] = typer.Option(None, "--sft-steps", help="SFT optimiser steps.", show_default="150"),
    grpo_steps: Optional[int] = typer.Option(None, "--grpo-steps", help="GRPO optimiser steps.", show_default="200"),
    overrides: List[str] = typer.Option([], "--set", help="Override any ToyRunConfig key, e.g. --set grpo_lr=1e-4."),
) -> None:
    """Prove the training learns: a tiny Qwen2.5-VL from scratch, SFT on the toy world, then GRPO; prints strict-format rates and the held-out reward (greedy and sampled, 8 per prompt) after each.
    """
    from ..fileio import atomic_write_json
    from ..training.toy import ToyRunConfig, run_toy_demo

    cfg = _load(ToyRunConfig, None, overrides, dict(seed=seed, sft_steps=sft_steps, grpo_steps=grpo_steps))
    report = run_toy_demo(workdir, cfg, progress=True, announce=lambda m: typer.echo(m, err=True))
    atomic_write_json(workdir / "report.json", report, default=str)
    for stage in ("after_sft", "after_grpo"):
        g, s = report[stage]["greedy"], report[stage]["sampled"]
        typer.echo(f"{stage}: greedy strict {g['strict_rate']:.2f} total {g['total']:.3f}; sampled total {s['total']:.3f}")
    typer.echo(f"sampled reward gain from GRPO: {report['sampled_total_gain']:+.3f} (of 3)")


@dev_app.command("toy-ablation")
def toy_ablation_command(
    out: Path = typer.Option(..., "--output", "-o", help="Folder for the models and summary.json / summary.csv (rerun to resume).", show_default=False),
    seeds: List[int] = typer.Option([0], "--seed", help="Seeds to run (repeatable)."),
    variants: List[str] = typer.Option([], "--variant", help="Variants to run (repeatable; default all): sft, format, strict, iou, judge, format+strict, iou+judge, release(iou=0), iou=0.1, iou=0.25, iou=0.5, iou=1.0."),
    grpo_steps: Optional[int] = typer.Option(None, "--grpo-steps", help="GRPO optimiser steps per variant (default 60).", show_default="the config's"),
    overrides: List[str] = typer.Option([], "--set", help="Override any AblationConfig key, e.g. --set toy.n_eval=64."),
) -> None:
    """Reward ablation and SFT vs SFT+GRPO on the toy world: one SFT checkpoint, then GRPO with each reward alone, subsets, the release's weights and several IoU weights; each measured on held-out toy pairs (reward components, one total under fixed weights, the toy backbone's tracking IoU and success, decision and answer accuracy). Writes summary.json and summary.csv.
    """
    from ..config import ConfigError
    from ..training.ablation import AblationConfig, run_ablation

    direct: dict = {"seeds": list(seeds)}
    if variants:
        direct["variants"] = list(variants)
    cfg = _load(AblationConfig, None, overrides, direct)
    if grpo_steps is not None:
        cfg = cfg.replace(toy={"grpo_steps": grpo_steps})
    try:
        summary = run_ablation(out, cfg, announce=lambda m: typer.echo(m, err=True))
    except ConfigError as err:
        fail(str(err), exit_code_for(err))
    typer.echo(f"{'variant':<16} {'total':>7} {'gain':>7} {'track IoU':>9} {'decision':>8} {'answer':>7} {'strict':>6}")
    for row in summary["table"]:
        fmt = lambda v: "   -  " if v is None else f"{v:.3f}"  # noqa: E731
        typer.echo(
            f"{row['variant']:<16} {fmt(row['total_yardstick']):>7} {fmt(row.get('gain_over_sft')):>7} "
            f"{fmt(row['tracking_iou']):>9} {fmt(row['decision_accuracy']):>8} {fmt(row['answer_accuracy']):>7} {fmt(row['strict_rate']):>6}"
        )
    typer.echo(f"summary: {out / 'summary.json'}, {out / 'summary.csv'}")
