"""The in-process Qwen2.5-VL reasoner on a tiny offline checkpoint and the release's real frames."""

from __future__ import annotations

import json

import pytest

from reasoningtrack.config import ConfigError
from reasoningtrack.reasoning import REASONERS, Reasoning, ReasonerError, ReasoningRequest
from reasoningtrack.reasoning.qwen import QwenConfig, QwenReasoner
from reasoningtrack.reasoning.tiny import SPECIAL_TOKENS

OPTIONS = dict(max_new_tokens=12, max_pixels=112 * 112, min_pixels=56 * 56)


@pytest.fixture(scope="module")
def offline():
    """The hub is unreachable: offline mode and an endpoint nothing listens on."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
        yield


@pytest.fixture(scope="module")
def reasoner(tiny_qwen_dir, offline):
    r = REASONERS.build("qwen", model=str(tiny_qwen_dir), **OPTIONS)
    yield r
    r.close()


def test_tiny_checkpoint_is_consistent(tiny_qwen_dir):
    from transformers import AutoConfig, AutoProcessor

    config = AutoConfig.from_pretrained(tiny_qwen_dir)
    processor = AutoProcessor.from_pretrained(tiny_qwen_dir)
    tok = processor.tokenizer
    assert type(processor).__name__ == "Qwen2_5_VLProcessor" and hasattr(processor, "image_processor")
    assert config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    assert config.video_token_id == tok.convert_tokens_to_ids("<|video_pad|>")
    assert config.vision_start_token_id == tok.convert_tokens_to_ids("<|vision_start|>")
    assert config.vision_end_token_id == tok.convert_tokens_to_ids("<|vision_end|>")
    text = config.text_config
    assert sum(text.rope_parameters["mrope_section"]) * 2 == text.hidden_size // text.num_attention_heads
    assert config.vision_config.out_hidden_size == text.hidden_size
    assert len({tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}) == len(SPECIAL_TOKENS)
    # Special tokens are single tokens; the tags are plain text that round-trips.
    assert tok.encode("<|im_start|>", add_special_tokens=False) == [tok.convert_tokens_to_ids("<|im_start|>")]
    tagged = "<think>a</think><d>yes</d><answer>red car</answer>"
    assert tok.decode(tok.encode(tagged, add_special_tokens=False)) == tagged
    rendered = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "hi"}]}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert rendered == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        + "<|vision_start|><|image_pad|><|vision_end|>" * 2
        + "hi<|im_end|>\n<|im_start|>assistant\n"
    )
    meta = json.loads((tiny_qwen_dir / "tiny_model.json").read_text())
    assert meta["seed"] == 0 and meta["parameters"] > 0


def test_reason_on_real_frames(reasoner, sample_pair):
    template, current, description = sample_pair
    result = reasoner.reason(template, current, description)
    assert isinstance(result, Reasoning)
    assert result.raw.strip()  # a random model writes noise, never nothing
    assert reasoner.last_generated_tokens > 0
    # 2 images of 640x360 within 112x112 pixels: 4x2 merged tokens each, plus the prompt text.
    assert reasoner.last_prompt_tokens > 2 * 8
    # Noise has no tags: the parser keeps the old description.
    assert not result.update and result.answer == description
    assert reasoner.reason(template, current, description) == result  # greedy is deterministic


def test_batched_equals_single(reasoner, sample_pair):
    template, current, description = sample_pair
    requests = [
        ReasoningRequest(template, current, description),
        ReasoningRequest(current, template, "a boat"),
        ReasoningRequest(template[:, :320], current[::2, ::2], "the wooden ship moving left on the wide river"),
    ]
    batched = reasoner.reason_batch(requests)
    single = [reasoner.reason(r.template, r.current, r.description) for r in requests]
    assert [b.raw for b in batched] == [s.raw for s in single]
    assert len({s.raw for s in single}) > 1  # the output depends on the input


def test_image_bounds_change_token_count(tiny_qwen_dir, offline, sample_pair):
    template, current, description = sample_pair
    small = QwenReasoner(QwenConfig(model=str(tiny_qwen_dir), max_new_tokens=2, max_pixels=56 * 56))
    small.reason(template, current, description)
    large = QwenReasoner(QwenConfig(model=str(tiny_qwen_dir), max_new_tokens=2, max_pixels=224 * 224))
    large.reason(template, current, description)
    assert large.last_prompt_tokens > small.last_prompt_tokens


def test_sampling_is_seeded(tiny_qwen_dir, offline, sample_pair):
    template, current, description = sample_pair
    options = dict(model=str(tiny_qwen_dir), **OPTIONS, temperature=1.5, top_p=1.0, seed=3)
    first = REASONERS.build("qwen", **options).reason(template, current, description).raw
    again = REASONERS.build("qwen", **options).reason(template, current, description).raw
    assert first == again


def test_lora_adapter_loads_and_changes_output(tiny_qwen_dir, offline, reasoner, sample_pair, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2_5_VLForConditionalGeneration

    base = Qwen2_5_VLForConditionalGeneration.from_pretrained(tiny_qwen_dir)
    torch.manual_seed(1)
    lora = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, lora)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)
    adapter_dir = tmp_path / "adapter"
    peft_model.save_pretrained(adapter_dir)
    from safetensors.torch import load_file

    weights = load_file(adapter_dir / "adapter_model.safetensors")
    assert weights and all(t.abs().sum() > 0 for t in weights.values())

    template, current, description = sample_pair
    plain = reasoner.reason(template, current, description).raw
    for merge in (True, False):
        adapted = REASONERS.build(
            "qwen", model=str(tiny_qwen_dir), adapter=str(adapter_dir), merge_adapter=merge, **OPTIONS
        )
        assert adapted.reason(template, current, description).raw != plain


def test_missing_weights_say_how_to_get_them(tmp_path, offline):
    with pytest.raises(ReasonerError, match="hf download Qwen/Qwen2.5-VL-3B-Instruct --local-dir") as info:
        QwenReasoner(QwenConfig(model="Qwen/Qwen2.5-VL-3B-Instruct"))
    assert "--model" in str(info.value) and "tiny-vlm" in str(info.value)
    with pytest.raises(ReasonerError, match="hf download my-org/my-model"):
        QwenReasoner(QwenConfig(model="my-org/my-model"))
    with pytest.raises(ReasonerError, match="no config.json"):
        QwenReasoner(QwenConfig(model=str(tmp_path)))


def test_unreachable_hub_fails_at_once_with_the_same_help(monkeypatch):
    """Without HF_HUB_OFFLINE, transformers retries an unreachable hub for minutes; one TCP probe
    (before torch is even imported) makes it fail at once. Local folders never probe."""
    import socket
    import time

    from reasoningtrack.reasoning.qwen import hub_unreachable

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with socket.socket() as s:  # a port nothing listens on: bind, then close
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    assert f"127.0.0.1:{port}" in hub_unreachable(2.0)
    start = time.perf_counter()
    with pytest.raises(ReasonerError, match=rf"hub http://127.0.0.1:{port} is unreachable .*Connection refused") as info:
        QwenReasoner(QwenConfig(model="my-org/never-cached-model"))
    assert time.perf_counter() - start < 10
    assert "hf download my-org/never-cached-model --local-dir" in str(info.value) and "tiny-vlm" in str(info.value)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")  # the proxy is what must answer
    assert "through the proxy" in hub_unreachable(2.0)
    with pytest.raises(ConfigError, match="hub_probe_timeout_s"):
        QwenConfig(hub_probe_timeout_s=-1)


def test_offline_without_a_cached_copy_fails_before_loading_anything(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ReasonerError, match=r"HF_HUB_OFFLINE is set and 'my-org/never-cached-model' is neither a local"):
        QwenReasoner(QwenConfig(model="my-org/never-cached-model"))


def test_bad_adapter_folder(tiny_qwen_dir, offline, tmp_path):
    with pytest.raises(ReasonerError, match="adapter_config.json"):
        QwenReasoner(QwenConfig(model=str(tiny_qwen_dir), adapter=str(tmp_path)))


def test_options_are_validated():
    with pytest.raises(ConfigError, match="base_url"):
        REASONERS.build("qwen", base_url="http://x")
    with pytest.raises(ConfigError, match="temperature"):
        QwenConfig.from_dict({"temperature": -1})
    with pytest.raises(ConfigError, match="min_pixels"):
        QwenConfig.from_dict({"min_pixels": 1000, "max_pixels": 10})
    with pytest.raises(ConfigError, match="dtype"):
        QwenConfig.from_dict({"dtype": "int8"})
    cfg = QwenConfig.from_dict({"max_new_tokens": "7", "adapter": "a", "prompt": "release"})
    assert cfg.max_new_tokens == 7 and cfg.adapter == "a"


def test_cpu_defaults_to_float32(reasoner):
    import torch

    assert reasoner.device.type == "cpu" and reasoner.dtype == torch.float32
    assert next(reasoner.model.parameters()).dtype == torch.float32


def test_tiny_builder_rejects_bad_sizes(tmp_path):
    from typer.testing import CliRunner

    from reasoningtrack.cli import app

    result = CliRunner().invoke(app, ["dev", "tiny-vlm", str(tmp_path / "m"), "--text-hidden", "66"])
    assert result.exit_code == 2 and "divisible by heads" in result.output
    assert not (tmp_path / "m").exists()


def test_tokenizer_corpus_shapes_the_vocabulary(tmp_path):
    from reasoningtrack.reasoning.tiny import _read_corpus, _train_tokenizer

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["the zygomorphic quokka hops"] * 200) + "\n\n")
    with_corpus = _train_tokenizer(_read_corpus(corpus, seed=0), vocab_size=600)
    without = _train_tokenizer(_read_corpus(None, seed=0), vocab_size=600)
    word = " zygomorphic quokka"
    assert len(with_corpus.encode(word, add_special_tokens=False)) < len(without.encode(word, add_special_tokens=False))
    assert with_corpus.decode(with_corpus.encode(word, add_special_tokens=False)) == word
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(ValueError, match="no non-empty line"):
        _read_corpus(empty, seed=0)


def test_release_prompt_through_the_chat_template(tiny_qwen_dir, shared_data):
    """What the model reads with --prompt release: system = the release text, then 2 images, then
    the description (the layout the released checkpoints were served with)."""
    from transformers import AutoProcessor

    from reasoningtrack.reasoning import build_messages

    system = (shared_data / "prompts" / "release-system-prompt.txt").read_text(encoding="utf-8")
    processor = AutoProcessor.from_pretrained(tiny_qwen_dir)
    text = processor.apply_chat_template(
        build_messages("release", "the wooden ship on the river", [None, None]),
        tokenize=False,
        add_generation_prompt=True,
    )
    assert text == (
        f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n"
        + "<|vision_start|><|image_pad|><|vision_end|>" * 2
        + "the wooden ship on the river<|im_end|>\n<|im_start|>assistant\n"
    )


def test_tiny_builder_never_replaces_a_folder_it_did_not_write(tmp_path):
    """The checkpoint folder is replaced whole: `dev tiny-vlm .` must not delete a project."""
    from typer.testing import CliRunner

    from reasoningtrack.cli import app

    (tmp_path / "notes.txt").write_text("keep me\n")
    result = CliRunner().invoke(app, ["dev", "tiny-vlm", str(tmp_path)])
    assert result.exit_code == 2 and "holds no tiny model" in " ".join(result.output.split())
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"] and (tmp_path / "notes.txt").read_text() == "keep me\n"
