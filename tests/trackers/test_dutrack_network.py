"""The DUTrack network against the reference fixture: key lists, tiny forward parity, config loading."""

from __future__ import annotations

import json

import pytest
import torch

from reasoningtrack.config import ConfigError
from reasoningtrack.trackers.dutrack import PRESETS, build_network, load_net_config
from reasoningtrack.trackers.dutrack.model import DUTrackNet, count_numbers, hann_window

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny_net(ref):
    return build_network(ref / "tiny_config.json", ref / "tiny_state_dict.pt")


def _reference_rows(path):
    lines = path.read_text().splitlines()
    assert lines[0] == "key\tshape\tdtype"
    return [tuple(line.split("\t")) for line in lines[1:]]


@pytest.mark.parametrize("preset", ["dutrack-256", "dutrack-384"])
def test_preset_state_dict_equals_official_key_list(ref, preset):
    with torch.device("meta"):
        net = DUTrackNet(PRESETS[preset])
    ours = [(k, str(list(v.shape)), str(v.dtype).removeprefix("torch.")) for k, v in net.state_dict().items()]
    assert ours == _reference_rows(ref / f"state_dict_keys_{preset[-3:]}_full.tsv")
    if preset == "dutrack-256":
        assert count_numbers(net) == 105_096_529


def test_tiny_config_is_read_from_the_fixture_description(ref):
    cfg = load_net_config(ref / "tiny_config.json")
    assert (cfg.embed_dim, cfg.depth_stage1, cfg.depth_stage2, cfg.depth, cfg.num_heads, cfg.head_channels) == (
        64, 1, 1, 2, 2, 64)
    assert (cfg.template_size, cfg.search_size, cfg.text_tokens, cfg.query_tokens) == (128, 256, 16, 3)
    assert cfg.norm_eps == 1e-6 and cfg.text_norm_eps == 1e-12


def test_config_errors_are_clear(tmp_path, ref):
    with pytest.raises(ConfigError, match="neither a preset"):
        load_net_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("embed_dim: 64\nnum_head: 2\n")
    with pytest.raises(ConfigError, match="num_head"):
        load_net_config(bad)
    official = json.loads((ref / "tiny_config.json").read_text())
    official["backbone_Fast_iTPN_args"]["use_rel_pos_bias"] = True
    path = tmp_path / "rel.json"
    path.write_text(json.dumps(official))
    with pytest.raises(ConfigError, match="use_rel_pos_bias"):
        load_net_config(path)
    broken = tmp_path / "broken.json"
    broken.write_text('{"embed_dim": 64,\n oops}')
    with pytest.raises(ConfigError, match="broken.json:2"):
        load_net_config(broken)


@pytest.fixture(scope="module")
def forward_results(ref, tiny_net):
    inputs = torch.load(ref / "tiny_forward_inputs.pt", weights_only=True)
    results = {}
    with torch.inference_mode():
        for call in ("forward1", "forward2"):
            given = inputs[call]
            results[call] = tiny_net(given["template"], given["search"], inputs["token_ids"],
                                     given["track_query_in"], auxiliary=True)
    return results


@pytest.mark.parametrize("call", ["forward1", "forward2"])
def test_tiny_forward_matches_official_outputs(ref, forward_results, call):
    expected = torch.load(ref / "tiny_forward_outputs.pt", weights_only=True)[call]
    out = forward_results[call]
    for name in ("pred_boxes", "score_map", "size_map", "offset_map", "attn", "attn_l2s", "temproal_token",
                 "backbone_feat"):
        torch.testing.assert_close(getattr(out, name), expected[name], atol=1e-5, rtol=1e-5, msg=name)
    torch.testing.assert_close(out.next_query, expected["track_query_after"], atol=1e-5, rtol=1e-5)
    n_query = 1 if call == "forward1" else 3
    assert out.backbone_feat.shape[1] == n_query + 16 + 64 * (1 if call == "forward1" else 3) + 256


@pytest.mark.parametrize("call", ["forward1", "forward2"])
def test_tiny_intermediates_match(ref, tiny_net, call):
    inputs = torch.load(ref / "tiny_forward_inputs.pt", weights_only=True)
    given = inputs[call]
    mid = torch.load(ref / "tiny_forward_intermediates.pt", weights_only=True)[call]
    backbone = tiny_net.backbone
    with torch.inference_mode():
        templates = torch.cat(given["template"])
        captures = {"patch_embed_out": [], **{f"blocks.{i}_out": [] for i in range(backbone.num_conv_blocks)}}
        for images in (templates, given["search"]):
            x = backbone.patch_embed(images)
            captures["patch_embed_out"].append(x)
            for i, block in enumerate(list(backbone.blocks)[: backbone.num_conv_blocks]):
                x = block(x)
                captures[f"blocks.{i}_out"].append(x)
        compared = 0
        for name, tensors in captures.items():
            for ours, theirs in zip(tensors, mid.get(name, [])):
                torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5, msg=name)
                compared += 1
        assert compared == (10 if call == "forward1" else 2)  # stage captures: all in call 1, blocks.3 in call 2
        text = backbone.text_tokens(inputs["token_ids"])
        torch.testing.assert_close(backbone.descript_embedding(inputs["token_ids"]), mid["descript_embedding_out"][0])
        torch.testing.assert_close(text, mid["l_feat"], atol=1e-5, rtol=1e-5)
        z = backbone.image_tokens(templates) + backbone.pos_embed_z
        torch.testing.assert_close(z.reshape(1, -1, z.shape[-1]), mid["z_feat"], atol=1e-5, rtol=1e-5)
        x = backbone.image_tokens(given["search"]) + backbone.pos_embed_x
        torch.testing.assert_close(x, mid["x_feat"], atol=1e-5, rtol=1e-5)
        query = given["track_query_in"]
        if query is None:
            query = backbone.temporal_token + backbone.temporal_pos_embed
        tokens = torch.cat([query, text, z.reshape(1, -1, z.shape[-1]), x], dim=1)
        torch.testing.assert_close(tokens, mid["main_blocks_in"][0], atol=1e-5, rtol=1e-5)
        for i, block in enumerate(backbone.attention_blocks):
            tokens, _ = block(tokens)
            name = f"blocks.{backbone.num_conv_blocks + i}_out"
            torch.testing.assert_close(tokens, mid[name][0], atol=1e-5, rtol=1e-5, msg=name)
        features = backbone.norm(tokens)
        torch.testing.assert_close(features, mid["norm_out"][0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(tiny_net.head_input(features), mid["box_head_in"][0], atol=1e-5, rtol=1e-5)


def test_fused_attention_stays_within_tolerance(ref, tiny_net):
    inputs = torch.load(ref / "tiny_forward_inputs.pt", weights_only=True)
    expected = torch.load(ref / "tiny_forward_outputs.pt", weights_only=True)
    tiny_net.set_attention_mode("sdpa")
    try:
        with torch.inference_mode():
            for call in ("forward1", "forward2"):
                given = inputs[call]
                out = tiny_net(given["template"], given["search"], inputs["token_ids"], given["track_query_in"])
                for name in ("pred_boxes", "score_map", "size_map", "offset_map", "backbone_feat"):
                    torch.testing.assert_close(getattr(out, name), expected[call][name], atol=1e-5, rtol=1e-5)
    finally:
        tiny_net.set_attention_mode("explicit")


def test_hann_window_is_the_official_one(ref):
    crops = torch.load(ref / "tiny_trace_Crossing_crops.pt", weights_only=True)
    assert torch.equal(hann_window(16), crops["hann_window"])


def test_network_is_stateless_between_calls(ref, tiny_net):
    inputs = torch.load(ref / "tiny_forward_inputs.pt", weights_only=True)
    given = inputs["forward1"]
    with torch.inference_mode():
        first = tiny_net(given["template"], given["search"], inputs["token_ids"], None)
        tiny_net(given["template"], given["search"], inputs["token_ids"], first.next_query)
        again = tiny_net(given["template"], given["search"], inputs["token_ids"], None)
    assert torch.equal(first.pred_boxes, again.pred_boxes)


def test_own_yaml_format_and_384_preset(tmp_path, ref):
    from reasoningtrack.trackers.dutrack.config import tracker_config_for

    tiny = load_net_config(ref / "tiny_config.json")
    flat = tmp_path / "tiny.yaml"
    flat.write_text(tiny.to_yaml())
    assert load_net_config(flat) == tiny
    big = load_net_config("dutrack-384")
    assert (big.template_grid, big.search_grid) == (12, 24)
    tracker_cfg = tracker_config_for(big)
    assert (tracker_cfg.template_size, tracker_cfg.search_size, tracker_cfg.template_factor,
            tracker_cfg.search_factor) == (192, 384, 2.0, 4.0)
    with pytest.raises(ConfigError, match="must equal the network"):
        tracker_config_for(big, {"search_size": 256})
