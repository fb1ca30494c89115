"""Latency of one reasoning call of the real Qwen2.5-VL-3B architecture, single and batched.

    python benchmarks/gpu_qwen_latency.py [--device cuda] [--dtype bfloat16] [--batch 4]
                                          [--image-size 512] [--new-tokens 150] [--repeats 3]
    python benchmarks/gpu_qwen_latency.py --device cpu --tiny --new-tokens 8   # smoke test

The weights are random (compute does not depend on their values; nothing is downloaded): the
model is built from Qwen2.5-VL-3B-Instruct's published configuration, written out below. One
call = two images of ``--image-size`` squared (resized by Qwen's own rule to multiples of 28,
e.g. 512 -> 504 = 36x36 patches -> 324 tokens each), a text prompt of ``--prompt-tokens`` tokens,
and exactly ``--new-tokens`` generated tokens (min_new_tokens = max_new_tokens, greedy). Prints
one JSON object: prefill time, single-call and batched-call latency, per-request time and the
batching speed-up, peak GPU memory. ``--tiny`` keeps the vocabulary and token ids but shrinks every
width/depth so the same code path runs on a CPU in seconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

# Qwen2.5-VL-3B-Instruct's config.json (hub), field by field.
QWEN25_VL_3B = {
    "text_config": {
        "vocab_size": 151936,
        "hidden_size": 2048,
        "intermediate_size": 11008,
        "num_hidden_layers": 36,
        "num_attention_heads": 16,
        "num_key_value_heads": 2,
        "hidden_act": "silu",
        "max_position_embeddings": 128000,
        "rms_norm_eps": 1e-6,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
        "use_sliding_window": False,
        "sliding_window": 32768,
        "max_window_layers": 70,
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "tie_word_embeddings": True,
    },
    "vision_config": {
        "depth": 32,
        "hidden_size": 1280,
        "intermediate_size": 3420,
        "num_heads": 16,
        "in_channels": 3,
        "hidden_act": "silu",
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
        "out_hidden_size": 2048,
        "fullatt_block_indexes": [7, 15, 23, 31],
        "tokens_per_second": 2,
    },
    "image_token_id": 151655,
    "video_token_id": 151656,
    "vision_start_token_id": 151652,
    "vision_end_token_id": 151653,
    "tie_word_embeddings": True,
}

TINY_OVERRIDES = {
    "text_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                    "num_key_value_heads": 2,
                    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2, 3, 3]}},
    "vision_config": {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64,
                      "fullatt_block_indexes": [1]},
}


def build_config(tiny: bool):
    from transformers import Qwen2_5_VLConfig

    values = json.loads(json.dumps(QWEN25_VL_3B))
    if tiny:
        for key, extra in TINY_OVERRIDES.items():
            values[key].update(extra)
    return Qwen2_5_VLConfig(**values)


def make_inputs(config, batch: int, image_size: int, prompt_tokens: int, device, dtype):
    """Token ids, attention mask, modality types, patches and grids exactly as the processor lays
    them out for [system+text, image 1, image 2, description] (random ids for the text)."""
    import torch
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    vision = config.vision_config
    patch, merge, temporal = vision.patch_size, vision.spatial_merge_size, vision.temporal_patch_size
    height, width = smart_resize(image_size, image_size, factor=patch * merge, min_pixels=56 * 56,
                                 max_pixels=max(image_size * image_size, 56 * 56))
    grid = (1, height // patch, width // patch)
    patches = grid[0] * grid[1] * grid[2]
    image_tokens = patches // (merge * merge)
    generator = torch.Generator().manual_seed(0)
    text = torch.randint(0, 151000, (prompt_tokens,), generator=generator)
    head, tail = text[: prompt_tokens - 16], text[prompt_tokens - 16 :]
    pieces, types = [head], [torch.zeros(len(head), dtype=torch.int32)]
    for _ in range(2):
        block = torch.tensor([config.vision_start_token_id] + [config.image_token_id] * image_tokens
                             + [config.vision_end_token_id])
        kinds = torch.zeros(len(block), dtype=torch.int32)
        kinds[1:-1] = 1
        pieces.append(block)
        types.append(kinds)
    pieces.append(tail)
    types.append(torch.zeros(len(tail), dtype=torch.int32))
    ids = torch.cat(pieces).unsqueeze(0).repeat(batch, 1)
    mm_types = torch.cat(types).unsqueeze(0).repeat(batch, 1)
    channels = vision.in_channels * temporal * patch * patch
    pixel_values = torch.randn(2 * batch * patches, channels, generator=generator)
    return {
        "input_ids": ids.to(device),
        "attention_mask": torch.ones_like(ids).to(device),
        "mm_token_type_ids": mm_types.to(device),
        "pixel_values": pixel_values.to(device=device, dtype=dtype),
        "image_grid_thw": torch.tensor([grid] * (2 * batch)).to(device),
    }, {"image_tokens_each": image_tokens, "resized_to": [height, width], "sequence_length": int(ids.shape[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--tiny", action="store_true", help="shrink widths/depths (CPU smoke test)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=512)
    parser.add_argument("--prompt-tokens", type=int, default=200, help="text tokens around the images")
    parser.add_argument("--new-tokens", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--attn", default="sdpa", help="attention implementation (sdpa, eager, flash_attention_2)")
    args = parser.parse_args()

    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    config = build_config(args.tiny)
    config._attn_implementation = args.attn
    torch.manual_seed(0)
    start = time.perf_counter()
    with device:
        model = Qwen2_5_VLForConditionalGeneration._from_config(config, dtype=dtype).eval()
    build_s = time.perf_counter() - start
    generation = GenerationConfig(
        max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, do_sample=False,
        eos_token_id=config.text_config.eos_token_id, pad_token_id=config.text_config.bos_token_id,
    )

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def timed(inputs, new_tokens: int) -> float:
        cfg = generation if new_tokens == args.new_tokens else GenerationConfig(
            **{**generation.to_dict(), "max_new_tokens": new_tokens, "min_new_tokens": new_tokens})
        times = []
        for _ in range(args.repeats):
            sync()
            t0 = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(**inputs, generation_config=cfg)
            sync()
            times.append(time.perf_counter() - t0)
            assert out.shape[1] - inputs["input_ids"].shape[1] == new_tokens
        return statistics.median(times)

    single, shape = make_inputs(config, 1, args.image_size, args.prompt_tokens, device, dtype)
    batched, _ = make_inputs(config, args.batch, args.image_size, args.prompt_tokens, device, dtype)
    with torch.inference_mode():
        model.generate(**single, generation_config=GenerationConfig(**{**generation.to_dict(), "max_new_tokens": 2, "min_new_tokens": 2}))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    prefill_s = timed(single, 1)
    single_s = timed(single, args.new_tokens)
    batch_s = timed(batched, args.new_tokens)
    report = {
        "model": "Qwen2.5-VL-3B architecture, random weights" + (" (tiny widths)" if args.tiny else ""),
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "dtype": args.dtype,
        "attention": args.attn,
        "build_s": round(build_s, 3),
        "image_size": args.image_size,
        **shape,
        "new_tokens": args.new_tokens,
        "repeats": args.repeats,
        "prefill_s": round(prefill_s, 4),
        "single_call_s": round(single_s, 4),
        "single_decode_tokens_per_s": round((args.new_tokens - 1) / max(single_s - prefill_s, 1e-9), 1),
        "batch": args.batch,
        "batched_call_s": round(batch_s, 4),
        "batched_per_request_s": round(batch_s / args.batch, 4),
        "batching_speedup": round(single_s * args.batch / batch_s, 2),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
