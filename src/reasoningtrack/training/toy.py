"""A toy world of frame pairs whose right answer is knowable, to prove that training learns.

Each pair shows one coloured shape that fills about half of a small frame. Between frame 1 and
frame 2 the shape moves a little and, with probability ``p_change``, changes colour. The
description names frame 1's colour and shape ("the red circle"); the right decision is ``yes``
exactly when the colour changed, and the right answer names frame 2's colour *and* shape.

:class:`ToyBackbone` is a frozen "tracker" of this world that follows the text the way a
vision-language tracker does: it finds the blob of the colour the text names and accepts it only
if its shape is the shape the text names; otherwise it has lost the target (an empty box). So
IoU(text) is 1 for a text that names the target in frame 2 and 0 otherwise, and the release's IoU
and judge rewards (run through this backbone) score the whole answer, colour and shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import Config, ConfigError
from ..trackers.base import Backbone, BackboneError, Prediction
from .config import RewardConfig

__all__ = [
    "COLOURS",
    "SHAPES",
    "ToyConfig",
    "ToyPair",
    "ToyBackbone",
    "make_pairs",
    "render_shape",
    "toy_reward_config",
    "toy_tokenizer_corpus",
    "oracle_completion",
    "toy_prompt",
    "toy_samples",
    "build_toy_backbone",
    "ToyRunConfig",
    "run_toy_demo",
    "write_toy_samples",
    "write_toy_prompt",
]

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 80, 230),
    "yellow": (235, 220, 50),
    "purple": (150, 60, 200),
    "orange": (245, 140, 30),
}
SHAPES = ("square", "circle", "triangle")
#: Fraction of its bounding box each shape fills (how ToyBackbone tells them apart).
_FILL = {"square": 1.0, "circle": np.pi / 4, "triangle": 0.5}
_BACKGROUND = (60, 60, 60)


@dataclass
class ToyConfig(Config):
    """Size of the world. The trial notes that worked on a 2-core CPU: 56 px frames, 6 colours x 3
    shapes, colour change with p = 0.5, targets about half the frame."""

    image_size: int = 56
    colours: list[str] = field(default_factory=lambda: list(COLOURS))
    shapes: list[str] = field(default_factory=lambda: list(SHAPES))
    p_change: float = 0.5
    min_size: float = 0.5
    max_size: float = 0.75
    max_shift: float = 0.12
    noise: int = 6

    def __post_init__(self):
        unknown = [c for c in self.colours if c not in COLOURS] + [s for s in self.shapes if s not in SHAPES]
        if unknown:
            raise ConfigError(f"unknown toy colour/shape {unknown}; available: {list(COLOURS)} and {list(SHAPES)}")
        if len(self.colours) < 2:
            raise ConfigError("the toy world needs at least two colours (a change must be possible)")
        if not 0 < self.min_size <= self.max_size < 1:
            raise ConfigError(f"need 0 < min_size <= max_size < 1, got {self.min_size}, {self.max_size}")


@dataclass(frozen=True)
class ToyPair:
    sample_id: str
    frames: tuple[np.ndarray, np.ndarray]
    boxes: tuple[np.ndarray, np.ndarray]
    colour1: str
    colour2: str
    shape: str

    @property
    def description(self) -> str:
        return f"the {self.colour1} {self.shape}"

    @property
    def changed(self) -> bool:
        return self.colour1 != self.colour2

    @property
    def answer(self) -> str:
        return f"the {self.colour2} {self.shape}"


def render_shape(size: int, shape: str, colour: str, box, rng: np.random.Generator, noise: int = 6) -> np.ndarray:
    """One frame: the shape of ``colour`` filling the integer box ``(x, y, w, h)``."""
    frame = np.empty((size, size, 3), dtype=np.int16)
    frame[:] = _BACKGROUND
    x, y, w, h = (int(v) for v in box)
    yy, xx = np.mgrid[0:h, 0:w]
    if shape == "square":
        mask = np.ones((h, w), dtype=bool)
    elif shape == "circle":
        mask = ((xx + 0.5 - w / 2) / (w / 2)) ** 2 + ((yy + 0.5 - h / 2) / (h / 2)) ** 2 <= 1.0
    elif shape == "triangle":  # apex at the top, base at the bottom
        half = (yy + 0.5) / h * (w / 2)
        mask = np.abs(xx + 0.5 - w / 2) <= half
    else:
        raise ConfigError(f"unknown shape {shape!r}")
    region = frame[y : y + h, x : x + w]
    region[mask] = COLOURS[colour]
    if noise:
        frame += rng.integers(-noise, noise + 1, size=frame.shape, dtype=np.int16)
    return np.clip(frame, 0, 255).astype(np.uint8)


def make_pairs(n: int, seed: int, config: ToyConfig | None = None, prefix: str = "toy") -> list[ToyPair]:
    """``n`` pairs, the same for the same seed."""
    cfg = config or ToyConfig()
    rng = np.random.default_rng(seed)
    size = cfg.image_size
    pairs = []
    for i in range(n):
        shape = cfg.shapes[int(rng.integers(len(cfg.shapes)))]
        colour1 = cfg.colours[int(rng.integers(len(cfg.colours)))]
        colour2 = colour1
        if rng.random() < cfg.p_change:
            others = [c for c in cfg.colours if c != colour1]
            colour2 = others[int(rng.integers(len(others)))]
        side = int(round(size * rng.uniform(cfg.min_size, cfg.max_size)))
        x1, y1 = (int(v) for v in rng.integers(0, size - side + 1, size=2))
        shift = max(1, int(round(cfg.max_shift * size)))
        x2 = int(np.clip(x1 + rng.integers(-shift, shift + 1), 0, size - side))
        y2 = int(np.clip(y1 + rng.integers(-shift, shift + 1), 0, size - side))
        box1 = np.array([x1, y1, side, side], dtype=np.float64)
        box2 = np.array([x2, y2, side, side], dtype=np.float64)
        frames = (
            render_shape(size, shape, colour1, box1, rng, cfg.noise),
            render_shape(size, shape, colour2, box2, rng, cfg.noise),
        )
        pairs.append(ToyPair(f"{prefix}-{seed}-{i:05d}", frames, (box1, box2), colour1, colour2, shape))
    return pairs


def oracle_completion(pair: ToyPair) -> str:
    """The teacher's output for the toy: short, right by construction, and a real chain of
    thought: it names what each frame shows, then decides by comparing the two."""
    think = f"frame 1: {pair.colour1} {pair.shape}. frame 2: {pair.colour2} {pair.shape}."
    return f"<think>{think}</think><d>{'yes' if pair.changed else 'no'}</d><answer>{pair.answer}</answer>"


def toy_tokenizer_corpus(config: ToyConfig | None = None) -> list[str]:
    """Every string the toy's prompts and answers use (to train a small offline tokenizer on)."""
    cfg = config or ToyConfig()
    texts = []
    for shape in cfg.shapes:
        for c1 in cfg.colours:
            for c2 in cfg.colours:
                pair = ToyPair("", (None, None), (None, None), c1, c2, shape)  # type: ignore[arg-type]
                texts += [pair.description, oracle_completion(pair)]
    return texts


def toy_reward_config(**changes) -> RewardConfig:
    """Rewards for the toy: the release's four rewards through :class:`ToyBackbone`, weighted so
    that the best total is 3 (format 0.5, strict 0.5, IoU 1, judge 1)."""
    base = RewardConfig(format_weight=0.5, strict_weight=0.5, iou_weight=1.0, judge_weight=1.0, backbone="toy")
    return base.replace(**changes) if changes else base


_WORDS = re.compile(r"[a-z]+")


#: Colour words the toy backbone knows: the toy world's, plus the synthetic world's (``data
#: synth``) for the names the toy world lacks, so the same backbone reads both worlds' texts.
def _palette() -> dict[str, tuple[int, int, int]]:
    from ..datasets.synthetic import PALETTE

    return {**PALETTE, **COLOURS}


#: Shapes by the fraction of their bounding box they fill (a diamond fills half, like a triangle).
_SHAPE_FILL = {**_FILL, "diamond": 0.5}
_MIN_PIXELS = 12
#: Overlap with the previous box that counts as the same object when following (frame-to-frame
#: motion is a few pixels; a background patch of some colour rarely overlaps this much).
_FOLLOW_IOU = 0.3


class ToyBackbone(Backbone):
    """Finds the blob of the colour the text names; accepts it only when its shape is the named shape.

    Blobs are the connected regions of pixels within ``tolerance`` of the named colour, holes
    filled (the synthetic world draws an outline and an inner pattern); the shape is the one whose
    fill fraction of the bounding box is nearest. Among several matching blobs the one overlapping
    the previous box most (then the nearest) wins. Score 1 when found, 0 (an empty box) when lost.

    ``follow`` (off by default, so the toy world's labels stay IoU 0 for a stale colour): continuity
    first, like a tracker. A blob of the named colour and shape that overlaps the previous box
    wins (score 1); else a blob of the named shape in another colour that overlaps it (score 0.5:
    the visual half of a vision-language tracker holds on while the text has gone stale, and only
    half of the description, the shape, agrees); else a blob of the named colour and shape
    anywhere (re-detection, score 1). A target that left the view is found again only by the colour
    the text names. An assumption of this toy, chosen so that a reasoner that refreshes the colour
    while the target is in view makes the difference at re-detection and when a look-alike of the
    old colour is around.
    """

    name = "toy"
    uses_text = True

    def __init__(self, tolerance: int = 40, follow: bool = False):
        self.tolerance = int(tolerance)
        self.follow = bool(follow)
        self.palette = _palette()
        self._text: str | None = None
        self._ready = False
        self._last: np.ndarray | None = None

    def initialize(self, frame, box, text=None):
        self._text = text or ""
        self._ready = True
        self._last = np.asarray(box, dtype=np.float64).reshape(4)

    def set_text(self, text):
        self._text = text or ""

    def reset(self):
        self._text, self._ready, self._last = None, False, None

    def _blobs(self, frame, rgb) -> list[tuple[np.ndarray, float]]:
        """(box xywh, fill fraction) of each region of ``rgb``-coloured pixels, holes filled."""
        import cv2

        diff = np.abs(frame.astype(np.int16) - np.array(rgb, dtype=np.int16)).max(axis=2)
        mask = (diff <= self.tolerance).astype(np.uint8)
        if int(mask.sum()) < 4:
            return []
        # closing joins a ring broken by anti-aliasing (solid shapes are unchanged)
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        out = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < _MIN_PIXELS:
                continue
            filled = np.zeros((h, w), dtype=np.uint8)
            cv2.drawContours(filled, [contour - np.array([x, y])], -1, 1, thickness=cv2.FILLED)
            ys, xs = np.nonzero(mask[y : y + h, x : x + w] & filled)  # the box of the pixels themselves
            if len(xs) == 0:
                continue
            box = np.array([x + xs.min(), y + ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1], dtype=np.float64)
            out.append((box, float(filled.sum()) / float(w * h)))
        return out

    def _shape_of(self, fill: float) -> str:
        return min(_SHAPE_FILL, key=lambda s: abs(_SHAPE_FILL[s] - fill))

    def _closest(self, boxes: list[np.ndarray]) -> np.ndarray:
        if self._last is None or len(boxes) == 1:
            return boxes[0]
        from ..geometry import iou

        last = np.repeat(self._last.reshape(1, 4), len(boxes), axis=0)
        overlaps = iou(np.stack(boxes), last)
        centre = self._last[:2] + self._last[2:] / 2
        distance = [float(np.hypot(*(b[:2] + b[2:] / 2 - centre))) for b in boxes]
        return boxes[min(range(len(boxes)), key=lambda i: (-overlaps[i], distance[i]))]

    def _overlaps(self, box: np.ndarray) -> bool:
        from ..geometry import iou

        last = self._last
        if last is None or last[2] <= 0 or last[3] <= 0:
            return False
        return float(iou(box.reshape(1, 4), last.reshape(1, 4))[0]) >= _FOLLOW_IOU

    def _follow_candidates(self, frame, colour, wanted) -> list[np.ndarray]:
        """Blobs of the named shape, any other known colour, overlapping the previous box."""
        if self._last is None:
            return []
        return [box for name, rgb in self.palette.items() if name != colour
                for box, fill in self._blobs(frame, rgb) if wanted(fill) and self._overlaps(box)]

    def track(self, frame) -> Prediction:
        if not self._ready:
            raise BackboneError("ToyBackbone.track called before initialize")
        words = _WORDS.findall((self._text or "").lower())
        colour = next((w for w in words if w in self.palette), None)
        shape = next((w for w in words if w in _SHAPE_FILL), None)
        lost = Prediction(np.zeros(4), 0.0)
        if shape is None:
            return lost
        wanted = lambda fill: _SHAPE_FILL[self._shape_of(fill)] == _SHAPE_FILL[shape]  # noqa: E731
        found = []
        if colour is not None:
            found = [box for box, fill in self._blobs(frame, self.palette[colour]) if wanted(fill)]
        if found and self.follow and self._last is not None:
            near = [b for b in found if self._overlaps(b)]
            found = near or (found if not self._follow_candidates(frame, colour, wanted) else [])
        if found:
            self._last = self._closest(found)
            return Prediction(self._last.copy(), 1.0)
        if self.follow:
            near = self._follow_candidates(frame, colour, wanted)
            if near:
                self._last = self._closest(near)
                return Prediction(self._last.copy(), 0.5)
        return lost  # the previous box is kept: continuity resumes after a colour blend or a gap


def build_toy_backbone(**options) -> ToyBackbone:
    unknown = sorted(set(options) - {"tolerance", "follow"})
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown} for the toy backbone; valid: ['follow', 'tolerance']")
    return ToyBackbone(**options)


def toy_prompt():
    """A short prompt for the toy (long system prompts only slow a tiny CPU model down)."""
    from ..reasoning.prompts import PromptPreset

    return PromptPreset(
        name="toy",
        system="Compare the two frames. Reply <think>...</think><d>yes|no</d><answer>...</answer>.",
        user="{description}",
        about="toy world: say whether the shape changed colour and name it",
    )


def toy_samples(n: int, seed: int, config: ToyConfig | None = None, *, backbone=None, prefix: str = "toy"):
    """``n`` toy pairs as a sample dataset (the schema of :mod:`.samples`), labelled by the toy
    backbone (``iou_old``), with the known answers and the oracle teacher's output."""
    from .conversations import COMPLETION_COLUMN
    from .labels import track_once
    from .samples import rows_to_dataset

    backbone = backbone or ToyBackbone()
    pairs = make_pairs(n, seed, config, prefix=prefix)
    rows = []
    for pair in pairs:
        value, predicted = track_once(backbone, pair.frames, pair.boxes[0], pair.boxes[1], pair.description)
        rows.append(
            dict(
                sample_id=pair.sample_id,
                dataset="toy",
                sequence=pair.sample_id,
                frame1=0,
                frame2=1,
                images=list(pair.frames),
                between_images=[],
                box1=pair.boxes[0],
                box2=pair.boxes[1],
                description=pair.description,
                iou_old=value,
                pred_box_old=predicted,
                label_update="yes" if pair.changed else "no",
                label_answer=pair.answer,
            )
        )
    dataset = rows_to_dataset(rows)
    return dataset.add_column(COMPLETION_COLUMN, [oracle_completion(p) for p in pairs])


@dataclass
class ToyRunConfig(Config):
    """One toy demonstration: a tiny Qwen2.5-VL from scratch, SFT, then GRPO, measured before/after.

    Defaults follow the trial notes that worked on a 2-core CPU (text hidden 64, 4 layers; vision
    depth 2, patch 14; a ~400-token BPE; SFT batch 16 at lr 1e-3; GRPO with 4 generations at
    temperature 1, KL beta 0.04, lr 2e-4, vision tower frozen). GRPO starts from SFT step 150,
    where greedy strict format is 1.0 but sampled colour/decision are unsure: it raised the sampled
    held-out total in every seed 0-4 (+0.05..+0.19); from step 300 (lr 1e-4) seed 2 lost 0.016."""

    seed: int = 0
    world: ToyConfig = field(default_factory=ToyConfig)
    text_hidden: int = 64
    layers: int = 4
    vision_depth: int = 2
    vocab_size: int = 400
    n_train: int = 2000
    n_eval: int = 64
    sft_steps: int = 150
    sft_batch: int = 16
    sft_lr: float = 1e-3
    sft_freeze_vision: bool = False
    grpo_steps: int = 200
    grpo_batch: int = 16
    grpo_generations: int = 4
    grpo_lr: float = 2e-4
    grpo_beta: float = 0.04
    grpo_freeze_vision: bool = True
    max_completion_length: int = 40
    eval_samples: int = 8
    #: Intra-op threads during the run (restored after). 1 is fastest for this tiny model on a
    #: shared CPU: with more, threads spin-wait on each other (7x slower measured under load).
    torch_threads: int = 1


def write_toy_prompt(path) -> str:
    """Save the toy prompt as a prompt YAML file (``--prompt FILE`` for every command)."""
    import yaml

    preset = toy_prompt()
    path.write_text(
        yaml.safe_dump({"name": preset.name, "about": preset.about, "system": preset.system, "user": preset.user}),
        encoding="utf-8",
    )
    return str(path)


def _evaluate(model_dir, rows, prompt, functions, weights, cfg: ToyRunConfig) -> dict:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from .evaluate import evaluate_model

    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    processor = AutoProcessor.from_pretrained(model_dir)
    greedy = evaluate_model(
        model, processor, rows, prompt, functions, weights, max_new_tokens=cfg.max_completion_length, seed=cfg.seed
    )
    sampled = evaluate_model(
        model, processor, rows, prompt, functions, weights, num_samples=cfg.eval_samples, do_sample=True,
        temperature=1.0, top_p=1.0, max_new_tokens=cfg.max_completion_length, seed=cfg.seed,
    )
    return {"greedy": greedy.to_dict(), "sampled": sampled.to_dict(), "greedy_examples": greedy.examples}


def run_toy_demo(workdir, cfg: ToyRunConfig | None = None, *, progress: bool = False, announce=None) -> dict:
    """Build the model, SFT it, measure, GRPO it, measure; returns figures and per-step curves."""
    from .modeling import torch_threads

    cfg = cfg or ToyRunConfig()
    with torch_threads(cfg.torch_threads):
        return _run_toy_demo(Path(workdir), cfg, progress, announce)


def _run_toy_demo(workdir, cfg: "ToyRunConfig", progress: bool, announce) -> dict:
    import time

    from ..reasoning.tiny import build_tiny_qwen
    from .config import GRPOConfig, SFTConfig
    from .conversations import to_grpo_dataset, to_sft_dataset
    from .grpo import build_grpo_trainer
    from .modeling import save_output
    from .rewards import build_reward_functions
    from .sft import build_sft_trainer

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    prompt = write_toy_prompt(workdir / "toy-prompt.yaml")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    base = build_tiny_qwen(
        workdir / "base",
        seed=cfg.seed,
        text_hidden=cfg.text_hidden,
        layers=cfg.layers,
        vision_depth=cfg.vision_depth,
        vocab_size=cfg.vocab_size,
        tokenizer_corpus=toy_tokenizer_corpus(cfg.world) + [toy_prompt().system],
        min_pixels=cfg.world.image_size**2,
        max_pixels=cfg.world.image_size**2,
    )
    train = toy_samples(cfg.n_train, cfg.seed, cfg.world, prefix="train")
    held_out = toy_samples(cfg.n_eval, cfg.seed + 100_003, cfg.world, prefix="eval")
    rows = [held_out[i] for i in range(len(held_out))]
    rewards = toy_reward_config()
    functions, weights = build_reward_functions(rewards, ToyBackbone())
    timings["setup_s"] = time.perf_counter() - t0
    common = dict(
        prompt=prompt, max_pixels=cfg.world.image_size**2, logging_steps=10, seed=cfg.seed, precision="auto",
        trl_options={"disable_tqdm": not progress},
    )

    t0 = time.perf_counter()
    sft_cfg = SFTConfig(
        model=str(base), output_dir=str(workdir / "sft"), max_steps=cfg.sft_steps, learning_rate=cfg.sft_lr,
        lr_scheduler_type="constant", per_device_train_batch_size=cfg.sft_batch, gradient_accumulation_steps=1,
        freeze_vision=cfg.sft_freeze_vision, max_length=None, **common,
    )
    trainer, processor = build_sft_trainer(sft_cfg, to_sft_dataset(train, prompt), announce=announce or (lambda m: None))
    trainer.train()
    sft_dir = save_output(trainer, processor, sft_cfg, "sft")
    sft_log = list(trainer.state.log_history)
    timings["sft_s"] = time.perf_counter() - t0
    after_sft = _evaluate(sft_dir, rows, prompt, functions, weights, cfg)

    t0 = time.perf_counter()
    grpo_cfg = GRPOConfig(
        model=str(sft_dir), output_dir=str(workdir / "grpo"), max_steps=cfg.grpo_steps, learning_rate=cfg.grpo_lr,
        lr_scheduler_type="constant", per_device_train_batch_size=cfg.grpo_batch,
        prompts_per_step=cfg.grpo_batch // cfg.grpo_generations, prompts_per_rollout=cfg.grpo_batch // cfg.grpo_generations,
        num_generations=cfg.grpo_generations, beta=cfg.grpo_beta, temperature=1.0, top_p=1.0, min_pixels=0,
        max_prompt_length=None, prompt_layout="inference",
        max_completion_length=cfg.max_completion_length, freeze_vision=cfg.grpo_freeze_vision, rewards=rewards, **common,
    )
    trainer, processor = build_grpo_trainer(
        grpo_cfg, to_grpo_dataset(train, prompt), backbone=ToyBackbone(), announce=announce or (lambda m: None)
    )
    trainer.train()
    grpo_dir = save_output(trainer, processor, grpo_cfg, "grpo")
    grpo_log = list(trainer.state.log_history)
    timings["grpo_s"] = time.perf_counter() - t0
    after_grpo = _evaluate(grpo_dir, rows, prompt, functions, weights, cfg)
    return {
        "seed": cfg.seed,
        "after_sft": after_sft,
        "after_grpo": after_grpo,
        "sampled_total_gain": after_grpo["sampled"]["total"] - after_sft["sampled"]["total"],
        "sft_log": sft_log,
        "grpo_log": grpo_log,
        "timings": timings,
        "dirs": {"base": str(base), "sft": str(sft_dir), "grpo": str(grpo_dir), "prompt": prompt},
        "config": cfg.to_dict(),
    }


def write_toy_samples(out, n: int, seed: int, config: ToyConfig | None = None, *, shard_size: int = 256) -> Path:
    """The toy pairs as a sample folder (resumable shards), usable by every `reasoningtrack` command."""
    from .samples import write_shards

    dataset = toy_samples(n, seed, config)
    features = dataset.features

    def make_rows(start: int, stop: int) -> list[dict]:
        return [dataset[i] for i in range(start, stop)]

    manifest = {"config": {"toy": (config or ToyConfig()).to_dict(), "n": n, "seed": seed}, "features": features.to_dict()}
    from .samples import rows_to_dataset

    return write_shards(
        out, n, make_rows, shard_size, manifest, progress=False, description="toy",
        to_dataset=lambda rows: rows_to_dataset(rows, features),
    )
