"""A tiny random-weight Qwen2.5-VL checkpoint built offline, for tests and demos.

It is a real ``Qwen2_5_VLForConditionalGeneration`` (a few layers, a small vision tower), a
byte-level BPE tokenizer trained here with the special tokens the chat layout needs, the real
``Qwen2_5_VLProcessor`` (torchvision image processor) and a chat template equivalent to
Qwen2.5-VL's, all saved with ``save_pretrained``: every loader (``from_pretrained``, ``transformers
serve``, PEFT, TRL) treats the folder like a downloaded checkpoint. The outputs are noise; the code
paths, shapes, token accounting and batching are the real ones.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Iterable

__all__ = ["build_tiny_qwen", "SPECIAL_TOKENS", "default_corpus", "chat_template"]

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
"""Qwen2.5-VL's control tokens, in its order (``<|endoftext|>`` first: it pads)."""

_COLOURS = "red blue green black white yellow grey brown orange pink purple silver dark light".split()
_THINGS = (
    "car ship boat person man woman girl boy player dog cat bird horse bicycle motorcycle truck bus "
    "plane drone ball face hand book bottle cup chair kite robot airplane helicopter deer bear"
).split()
_ACTIONS = (
    "moving left|moving right|turning around|behind the tree|near the bridge|on the river|in the sky|"
    "partly occluded|out of view|holding a bag|running on the grass|walking on the street|"
    "at the top of the frame|in the centre|next to the building|under the lamp"
).split("|")


def chat_template() -> str:
    """Our Jinja chat template with Qwen2.5-VL's token layout (system default, vision markers)."""
    return resources.files("reasoningtrack.reasoning").joinpath("qwen2_5_vl_chat_template.jinja").read_text(
        encoding="utf-8"
    )


def default_corpus(n: int = 600, seed: int = 0) -> list[str]:
    """Task-shaped strings (descriptions, tags, the prompts' words) to train the tiny tokenizer on."""
    from .prompts import load_prompt, preset_names

    rng = random.Random(seed)
    texts = []
    for name in preset_names():
        preset = load_prompt(name)
        texts += [preset.system, preset.user]
    for _ in range(n):
        desc = f"the {rng.choice(_COLOURS)} {rng.choice(_THINGS)} {rng.choice(_ACTIONS)}"
        new = f"{rng.choice(_COLOURS)} {rng.choice(_THINGS)} {rng.choice(_ACTIONS)}"
        decision = rng.choice(["yes", "no"])
        texts.append(
            f"<think>Frame 1 shows {desc}. In Frame 2 it is {rng.choice(_ACTIONS)}.</think>"
            f"<d>{decision}</d><answer>{new if decision == 'yes' else desc}</answer>"
        )
    texts += ["You are a helpful assistant.", "0123456789 .,;:!?'\"()[]{}<>/-_"]
    return texts


def _read_corpus(corpus: str | Path | Iterable[str] | None, seed: int) -> list[str]:
    if corpus is None:
        return default_corpus(seed=seed)
    if isinstance(corpus, (str, Path)):
        path = Path(corpus)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read tokenizer corpus {path}: {exc}") from exc
        texts = [line for line in lines if line.strip()]
        if not texts:
            raise ValueError(f"tokenizer corpus {path} has no non-empty line")
        return texts + default_corpus(n=50, seed=seed)
    return list(corpus) + default_corpus(n=50, seed=seed)


def _train_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE with Qwen2's pre-tokenisation, wrapped as the real ``Qwen2Tokenizer``."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers import AddedToken, Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS[:1]),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(
        vocab=model["vocab"],
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tokenizer.add_special_tokens({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"})
    tokenizer.padding_side = "left"
    return tokenizer


def build_tiny_qwen(
    out_dir: str | Path,
    *,
    seed: int = 0,
    text_hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate: int = 128,
    vision_depth: int = 1,
    vision_hidden: int = 32,
    vision_heads: int = 2,
    vision_intermediate: int = 64,
    patch_size: int = 14,
    vocab_size: int = 1024,
    tokenizer_corpus: str | Path | Iterable[str] | None = None,
    min_pixels: int = 56 * 56,
    max_pixels: int = 224 * 224,
    tie_word_embeddings: bool = True,
    init_std: float = 0.25,
) -> Path:
    """Build and save a tiny Qwen2.5-VL folder; returns its path (written atomically).

    Sizes follow the real architecture's constraints: the text head size is even and its half is
    split into the three M-RoPE sections, the vision tower's output size equals the text hidden
    size, and the config's image/video/vision-marker ids are the tokenizer's. ``init_std`` is larger
    than the real 0.02 so that a random model's greedy output depends on its input (with 0.02 it
    repeats one token whatever it sees). ``tokenizer_corpus``: a text file (one text per line) or
    strings, added to a built-in corpus of task strings; ``min_pixels``/``max_pixels`` are the saved
    processor's defaults (small, for CPU speed)."""
    out = Path(out_dir)
    if out.is_dir() and any(out.iterdir()) and not (out / "tiny_model.json").is_file():
        # the folder is replaced whole: never delete what an earlier tiny build did not write
        raise ValueError(f"{out} is not empty and holds no tiny model (tiny_model.json); choose another folder")
    mrope_section = _mrope_section(text_hidden, heads, kv_heads, vision_hidden, vision_heads)
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    tokenizer = _train_tokenizer(_read_corpus(tokenizer_corpus, seed), vocab_size)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = _model_config(
        ids,
        len(tokenizer),
        text=dict(
            hidden_size=text_hidden,
            intermediate_size=intermediate,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=kv_heads,
        ),
        vision=dict(
            depth=vision_depth,
            hidden_size=vision_hidden,
            intermediate_size=vision_intermediate,
            num_heads=vision_heads,
            patch_size=patch_size,
        ),
        mrope_section=mrope_section,
        tie_word_embeddings=tie_word_embeddings,
        init_std=init_std,
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    model.generation_config = _generation_config(ids)
    processor = _processor(tokenizer, patch_size, min_pixels, max_pixels)
    record = {
        "built_by": "reasoningtrack.reasoning.tiny.build_tiny_qwen",
        "seed": seed,
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab": len(tokenizer),
    }
    return _save(Path(out_dir), model, processor, record)


_MERGE_SIZE = 2  # Qwen2.5-VL merges 2x2 patches into one token


def _mrope_section(text_hidden: int, heads: int, kv_heads: int, vision_hidden: int, vision_heads: int) -> list[int]:
    """Check the sizes against the architecture's constraints; the M-RoPE split of the head."""
    if text_hidden % heads:
        raise ValueError(f"text_hidden {text_hidden} must be divisible by heads {heads}")
    head_dim = text_hidden // heads
    if head_dim % 2 or head_dim < 6:
        raise ValueError(f"text head size {head_dim} must be even and at least 6 (M-RoPE needs 3 sections)")
    if heads % kv_heads:
        raise ValueError(f"heads {heads} must be a multiple of kv_heads {kv_heads}")
    if vision_hidden % vision_heads or (vision_hidden // vision_heads) % 4:
        raise ValueError("vision head size (vision_hidden / vision_heads) must be a multiple of 4")
    half = head_dim // 2
    spatial = 3 * half // 8  # Qwen2.5-VL splits its 64 rotary pairs 16/24/24 (time/height/width)
    return [half - 2 * spatial, spatial, spatial]


def _model_config(ids: dict, vocab: int, *, text: dict, vision: dict, mrope_section: list[int],
                  tie_word_embeddings: bool, init_std: float):
    """A ``Qwen2_5_VLConfig`` whose special-token ids are the tokenizer's."""
    from transformers import Qwen2_5_VLConfig

    patch_size = vision["patch_size"]
    return Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=vocab,
            **text,
            max_position_embeddings=4096,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": mrope_section},
            bos_token_id=ids["<|endoftext|>"],
            eos_token_id=ids["<|im_end|>"],
            pad_token_id=ids["<|endoftext|>"],
            tie_word_embeddings=tie_word_embeddings,
            initializer_range=init_std,
        ),
        vision_config=dict(
            initializer_range=init_std,
            **vision,
            spatial_merge_size=_MERGE_SIZE,
            temporal_patch_size=2,
            window_size=patch_size * _MERGE_SIZE * 4,
            out_hidden_size=text["hidden_size"],
            fullatt_block_indexes=[vision["depth"] - 1],
        ),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=tie_word_embeddings,
    )


def _generation_config(ids: dict):
    from transformers import GenerationConfig

    return GenerationConfig(
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=True,
        temperature=1.0,
        top_p=1.0,
    )


def _processor(tokenizer, patch_size: int, min_pixels: int, max_pixels: int):
    """The real Qwen2.5-VL processor around the tiny tokenizer (small image bounds for CPU speed)."""
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    sizes = dict(patch_size=patch_size, merge_size=_MERGE_SIZE, temporal_patch_size=2, min_pixels=min_pixels, max_pixels=max_pixels)
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(**sizes),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(**sizes),
        chat_template=chat_template(),
    )


def _save(out_dir: Path, model, processor, record: dict) -> Path:
    """Save into a staging folder beside ``out_dir`` that replaces it at the end."""
    from ..fileio import replace_folder

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
        (staging / "tiny_model.json").write_text(json.dumps(record, indent=2))
        staging.chmod(0o755)
        replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
