"""The DUTrack test-time tracker against the official traces of the tiny network."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from reasoningtrack.config import ConfigError
from reasoningtrack.datasets.base import read_rgb
from reasoningtrack.trackers import BACKBONES, Backbone, BackboneError
from reasoningtrack.trackers.dutrack.preprocessing import (
    box_to_pixels, clip_box, crop_square, map_box_back, normalise,
)
from reasoningtrack.trackers.dutrack.tracker import select_templates

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXT = "a red car driving on the road"


@pytest.fixture(scope="module")
def params(ref):
    return json.loads((ref / "trace_params.json").read_text())


@pytest.fixture(scope="module")
def tracker(ref):
    return BACKBONES.build(
        "dutrack", checkpoint=str(ref / "tiny_state_dict.pt"), config=str(ref / "tiny_config.json"),
        vocab=str(ref / "vocab-bert-base-uncased.txt"), device="cpu",
    )


def _folder(ref, shared_data, seq):
    return ref / "synthetic_seq" if seq == "synthetic" else shared_data / "sequences" / "Crossing" / "img"


def _frames(ref, shared_data, params, seq):
    info = params["sequences"][seq]
    folder = _folder(ref, shared_data, seq)
    for name, digest in zip(info["frame_files"], info["frame_rgb_sha256"]):
        frame = read_rgb(folder / name)
        assert hashlib.sha256(frame.tobytes()).hexdigest() == digest, f"JPEG decode differs for {seq}/{name}"
        yield frame


def _run(tracker, ref, shared_data, params, seq, limit=None):
    expected = np.loadtxt(ref / f"tiny_trace_{seq}.txt", delimiter=",")
    debug = [json.loads(line) for line in (ref / f"tiny_trace_{seq}_debug.jsonl").read_text().splitlines()]
    frames = _frames(ref, shared_data, params, seq)
    tracker.initialize(next(frames), expected[0], TEXT)
    boxes = [expected[0]]
    for i, frame in enumerate(frames, start=1):
        if limit is not None and i > limit:
            break
        prediction = tracker.track(frame)
        info = tracker.last_debug
        assert info.templates_memory_idx == debug[i - 1]["templates_memory_idx"], f"{seq} frame {i}"
        assert info.n_prefix_tokens == debug[i - 1]["n_prefix_tokens"]
        assert info.search_crop_side == debug[i - 1]["search_crop"]["crop_sz"]
        assert info.hann_response_argmax == debug[i - 1]["hann_response_argmax"], f"{seq} frame {i}"
        boxes.append(prediction.box)
        assert 0 < prediction.score < 1
    return np.asarray(boxes), expected[: len(boxes)]


def test_decoded_frames_and_crops_match_the_official_ones(ref, shared_data, params):
    for seq in ("synthetic", "Crossing"):
        crops = torch.load(ref / f"tiny_trace_{seq}_crops.pt", weights_only=True)
        debug = [json.loads(line) for line in (ref / f"tiny_trace_{seq}_debug.jsonl").read_text().splitlines()[:3]]
        frames = list(zip(range(4), _frames(ref, shared_data, params, seq)))
        init_box = params["sequences"][seq]["init_bbox_xywh"]
        template, geometry = crop_square(frames[0][1], init_box, 2.0, 128)
        assert np.array_equal(template, crops["init_template_uint8"].numpy())
        assert torch.equal(normalise(template, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
                           crops["init_template_norm"])
        for i in (1, 2, 3):
            search, geometry = crop_square(frames[i][1], debug[i - 1]["search_crop"]["box_in"], 4.0, 256)
            assert geometry.side == debug[i - 1]["search_crop"]["crop_sz"]
            assert geometry.resize_factor == debug[i - 1]["search_crop"]["resize_factor"]
            assert np.array_equal(search, crops[f"frame{i}_search_uint8"].numpy()), f"{seq} search {i}"
            new_template, _ = crop_square(frames[i][1], debug[i - 1]["state"], 2.0, 128)
            assert np.array_equal(new_template, crops[f"frame{i}_new_template_uint8"].numpy())


# Box traces: 1e-3 px. The network's float32 error in pred_boxes is e32 ~ 1e-7 (normalised search-crop
# units, measured against float64 as in test_dutrack_network.py); mapped to pixels it is multiplied by
# the crop side (4 x sqrt(w*h), 117 px on Crossing, under 400 px here), i.e. ~4e-5 px a frame, and it
# does not build up because every frame's crop is cut at integer pixels around the new box. A
# wrong rule (crop, window, argmax, carried query) moves boxes by whole pixels; see
# docs/dutrack.md (numerical parity).
BOX_ATOL_PX = 1e-3


@pytest.mark.parametrize("seq", ["synthetic", "Crossing"])
def test_trace_matches_the_official_tracker(tracker, ref, shared_data, params, seq):
    boxes, expected = _run(tracker, ref, shared_data, params, seq)
    assert len(boxes) == params["sequences"][seq]["n_frames"]
    np.testing.assert_allclose(boxes, expected, atol=BOX_ATOL_PX, rtol=0)


def test_reused_tracker_equals_a_fresh_one(tracker, ref, shared_data, params):
    """The official tracker leaks the carried query into the next sequence; ours starts clean."""
    _run(tracker, ref, shared_data, params, "Crossing", limit=6)
    boxes, expected = _run(tracker, ref, shared_data, params, "synthetic", limit=12)
    np.testing.assert_allclose(boxes, expected, atol=BOX_ATOL_PX, rtol=0)
    # The query does matter: carrying a stale one changes the boxes, so the check above can fail.
    frames = list(zip(range(6), _frames(ref, shared_data, params, "synthetic")))
    tracker.initialize(frames[0][1], expected[0], TEXT)
    tracker.track(frames[1][1])
    stale = tracker._query
    tracker.initialize(frames[0][1], expected[0], TEXT)
    tracker._query = stale
    leaked = [tracker.track(f).box for _, f in frames[1:]]
    assert np.abs(np.asarray(leaked) - expected[1:6]).max() > 1e-3


def test_backbone_contract(tracker, ref):
    assert isinstance(tracker, Backbone) and tracker.uses_text
    assert tracker.kept_text(TEXT) == TEXT
    assert tracker.text_tokens(TEXT)[:3] == ["[CLS]", "a", "red"] and len(tracker.text_tokens(TEXT)) == 16
    fresh = BACKBONES.build("dutrack", checkpoint=str(ref / "tiny_state_dict.pt"),
                            config=str(ref / "tiny_config.json"), vocab=str(ref / "vocab-bert-base-uncased.txt"))
    with pytest.raises(BackboneError, match="before initialize"):
        fresh.track(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(BackboneError, match="uint8"):
        fresh.initialize(np.zeros((64, 64, 3), np.float32), [1, 1, 10, 10], "x")
    with pytest.raises(BackboneError, match="positive width"):
        fresh.initialize(np.zeros((64, 64, 3), np.uint8), [1, 1, 0, 10], "x")


def test_set_text_reaches_the_network(tracker, ref, shared_data, params):
    frames = list(zip(range(3), _frames(ref, shared_data, params, "synthetic")))
    init = params["sequences"]["synthetic"]["init_bbox_xywh"]
    tracker.initialize(frames[0][1], init, TEXT)
    tracker.track(frames[1][1])
    same = tracker.track(frames[2][1]).box
    tracker.initialize(frames[0][1], init, TEXT)
    tracker.track(frames[1][1])
    tracker.set_text("a blue boat sailing far away under a cloudy sky")
    changed = tracker.track(frames[2][1]).box
    assert not np.allclose(same, changed)


def test_factory_rejects_unknown_or_missing_options(ref):
    with pytest.raises(ConfigError, match="unknown option") as info:
        BACKBONES.build("dutrack", checkpoint="x", chekpoint="y")
    # every option --backbone-opt accepts is listed: loading and test-time tracker ones
    from dataclasses import fields

    from reasoningtrack.trackers.dutrack import DUTrackOptions, DUTrackTrackerConfig

    for f in (*fields(DUTrackOptions), *fields(DUTrackTrackerConfig)):
        assert repr(f.name) in str(info.value), f.name
    with pytest.raises(ConfigError, match="needs a checkpoint"):
        BACKBONES.build("dutrack", config=str(ref / "tiny_config.json"), vocab=str(ref / "vocab-bert-base-uncased.txt"))
    tiny = dict(config=str(ref / "tiny_config.json"), vocab=str(ref / "vocab-bert-base-uncased.txt"),
                checkpoint=str(ref / "tiny_state_dict.pt"))
    assert BACKBONES.build("dutrack", hanning=False, clip_margin="5", **tiny).config.clip_margin == 5.0
    with pytest.raises(ConfigError, match="must equal the network"):
        BACKBONES.build("dutrack", template_size=64, **tiny)
    with pytest.raises(ConfigError, match="float16"):
        BACKBONES.build("dutrack", random_init=True, config=str(ref / "tiny_config.json"), dtype="float16", device="cpu")


def test_template_selection_rule():
    assert select_templates(1, 1, 3) == [0]
    assert select_templates(3, 3, 3) == [0, 1, 2]
    assert select_templates(4, 4, 3) == [0, 1, 2]  # segment 1: {0} | {0, 1, 2}
    assert select_templates(9, 9, 3) == [0, 1, 4, 7]
    assert select_templates(100, 100, 3) == [0, 16, 49, 82]


def test_crop_accidents_and_exact_variants():
    frame = np.arange(20 * 20 * 3, dtype=np.uint8).reshape(20, 20, 3)
    box = [2.5, 2.5, 4.0, 4.0]  # side ceil(4 * 1) = 4, corner 2.5 + 2 - 2 = 2.5
    _, official = crop_square(frame, box, 1.0, 4)
    _, exact = crop_square(frame, box, 1.0, 4, official_rounding=False)
    assert (official.x1, exact.x1) == (2, 3)  # half to even vs half up
    # A crop ending exactly at the right edge loses the last column officially.
    edge_box = [16.0, 0.0, 4.0, 4.0]
    crop, geometry = crop_square(frame, edge_box, 1.0, 4)
    assert geometry.x1 == 16 and np.all(crop[:, 3] == 0) and np.array_equal(crop[:3, :3], frame[:3, 16:19])
    full, _ = crop_square(frame, edge_box, 1.0, 4, official_border=False)
    assert np.array_equal(full, frame[:4, 16:20])
    outside, _ = crop_square(frame, [-10.0, -10.0, 4.0, 4.0], 1.0, 4)
    assert not outside.any()
    with pytest.raises(ValueError, match="positive"):
        crop_square(frame, [1, 1, 0, 3], 2.0, 8)


def test_box_mapping_and_clipping():
    box = torch.tensor([0.5, 0.25, 0.1, 0.2])
    rf = 256 / 117
    pixels32 = box_to_pixels(box, 256, rf)
    pixels64 = box_to_pixels(box, 256, rf, float32=False)
    assert pixels32 == (box * 256 / rf).tolist()
    # float32 rounding of a value below 128 px: at most 2**-24 * 128 = 7.6e-6 per operation, 3 operations
    assert np.allclose(pixels32, pixels64, atol=3e-5, rtol=0) and pixels32 != pixels64
    back = map_box_back([58.5, 29.25, 11.7, 23.4], [100.0, 50.0, 20.0, 40.0], 256, rf)
    assert np.allclose(back, [100 + 10 - 58.5 + 58.5 - 5.85, 70 - 58.5 + 29.25 - 11.7, 11.7, 23.4])
    assert clip_box([-5.0, -5.0, 20.0, 20.0], 100, 100, 10) == [0, 0, 15.0, 15.0]
    assert clip_box([95.0, 95.0, 20.0, 20.0], 100, 100, 10) == [90, 90, 10, 10]
    assert clip_box([-50.0, 40.0, 5.0, 5.0], 100, 100, 10) == [0, 40.0, 10, 10]


def test_fused_attention_and_bf16_options(ref, shared_data, params):
    common = dict(checkpoint=str(ref / "tiny_state_dict.pt"), config=str(ref / "tiny_config.json"),
                  vocab=str(ref / "vocab-bert-base-uncased.txt"), device="cpu")
    fused = BACKBONES.build("dutrack", attention="sdpa", **common)
    boxes, expected = _run(fused, ref, shared_data, params, "synthetic", limit=20)
    np.testing.assert_allclose(boxes, expected, atol=BOX_ATOL_PX, rtol=0)
    half = BACKBONES.build("dutrack", dtype="bfloat16", **common)
    assert half.net.backbone.norm.weight.dtype == torch.bfloat16
    frames = list(zip(range(3), _frames(ref, shared_data, params, "synthetic")))
    half.initialize(frames[0][1], expected[0], TEXT)
    for _, frame in frames[1:]:
        prediction = half.track(frame)
        assert prediction.box.dtype == np.float64 and np.all(np.isfinite(prediction.box))


def test_box_outside_the_frame_and_a_frame_size_change_are_clear_errors(tracker, ref, shared_data, params):
    """As the OpenCV backbones: the initial box must touch the frame, and every frame of a sequence
    must have the first frame's size (a resized frame would silently shift every box)."""
    from reasoningtrack.trackers.base import BackboneError

    frames = _frames(ref, shared_data, params, "Crossing")
    first, second = next(frames), next(frames)
    height, width = first.shape[:2]
    for box in ([width + 5, 10, 20, 30], [-40, 10, 30, 30], [10, height, 20, 30]):
        with pytest.raises(BackboneError, match=rf"initial box .* lies outside the {width}x{height} frame"):
            tracker.initialize(first, box, TEXT)
    tracker.initialize(first, [-10, -10, 30, 60], TEXT)  # partly outside: kept, as the official crop pads it
    tracker.track(second)
    bigger = np.zeros((height + 16, width, 3), dtype=np.uint8)
    with pytest.raises(BackboneError, match=rf"frame 3 of the sequence is {width}x{height + 16}, but frame 1 was {width}x{height}"):
        tracker.track(bigger)

