"""Loading DUTrack checkpoints: strict, weights-only, and clear errors for every bad file."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch

from reasoningtrack.trackers.base import BackboneError
from reasoningtrack.trackers.dutrack import PRESETS, build_network, load_net_config
from reasoningtrack.trackers.dutrack.checkpoint import check_state_dict, load_checkpoint, read_state_dict
from reasoningtrack.trackers.dutrack.model import DUTrackNet


class TrainerSettings:
    """Stands for the settings object the official trainer pickles beside the weights."""

    def __init__(self):
        self.workspace_dir = "/somewhere"
        self.batch_size = 32


@pytest.fixture(scope="module")
def tiny_state(ref):
    return torch.load(ref / "tiny_state_dict.pt", weights_only=True)["net"]


@pytest.fixture(scope="module")
def tiny_cfg(ref):
    return load_net_config(ref / "tiny_config.json")


def _same_weights(net, state):
    ours = net.state_dict()
    return all(torch.equal(ours[k], v) for k, v in state.items() if k in ours)


def test_official_layout_with_extra_keys_and_pickled_objects(tmp_path, tiny_state, tiny_cfg):
    state = OrderedDict(tiny_state)
    state["backbone.descript_embedding.position_ids"] = torch.arange(40)[None]
    path = tmp_path / "DUTrack_ep0001.pth.tar"
    torch.save({"net": state, "epoch": 1, "net_type": "DUTrack", "settings": TrainerSettings()}, path)
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)  # a plain weights-only load refuses the settings object
    net = build_network(tiny_cfg, str(path))
    assert _same_weights(net, tiny_state)


def test_bare_and_prefixed_state_dicts(tmp_path, tiny_state, tiny_cfg):
    bare = tmp_path / "bare.pt"
    torch.save(dict(tiny_state), bare)
    assert _same_weights(build_network(tiny_cfg, str(bare)), tiny_state)
    prefixed = tmp_path / "ddp.pt"
    torch.save({"net": {f"module.{k}": v for k, v in tiny_state.items()}}, prefixed)
    assert read_state_dict(prefixed).keys() == tiny_state.keys()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_files_name_the_file(tmp_path, ref, tiny_cfg, damage):
    data = (ref / "tiny_state_dict.pt").read_bytes()
    path = tmp_path / f"{damage}.pth.tar"
    path.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"\x80\x04not a checkpoint" * 50,
                      "empty": b""}[damage])
    with pytest.raises(BackboneError, match=f"cannot read DUTrack checkpoint .*{damage}.pth.tar"):
        build_network(tiny_cfg, str(path))


def test_flipped_bytes_inside_the_archive(tmp_path, ref, tiny_cfg):
    data = bytearray((ref / "tiny_state_dict.pt").read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64
    path = tmp_path / "flipped.pt"
    path.write_bytes(bytes(data))
    with pytest.raises(BackboneError, match="flipped.pt"):
        build_network(tiny_cfg, str(path))


def test_missing_file_and_wrong_content(tmp_path, tiny_cfg):
    with pytest.raises(BackboneError, match="does not exist"):
        build_network(tiny_cfg, str(tmp_path / "nope.pth.tar"))
    odd = tmp_path / "odd.pt"
    torch.save({"epoch": 3, "stats": [1, 2]}, odd)
    with pytest.raises(BackboneError, match="expected an official DUTrack checkpoint"):
        build_network(tiny_cfg, str(odd))


def test_wrong_architecture_lists_the_differences(tmp_path, ref, tiny_state, tiny_cfg):
    deeper = tiny_cfg.replace(depth=3)
    with pytest.raises(BackboneError, match=r"missing keys: backbone\.blocks\.6\.gamma_1"):
        build_network(deeper, str(ref / "tiny_state_dict.pt"))
    shallower = tiny_cfg.replace(depth=1)
    with pytest.raises(BackboneError, match=r"unexpected keys: backbone\.blocks\.5\.gamma_1"):
        build_network(shallower, str(ref / "tiny_state_dict.pt"))
    with torch.device("meta"):
        full = DUTrackNet(PRESETS["dutrack-256"])
    with pytest.raises(BackboneError) as info:
        check_state_dict(full, tiny_state, "tiny_state_dict.pt")
    message = str(info.value)
    assert "keys with a different shape: backbone.pos_embed [1, 196, 64] (model [1, 196, 512])" in message
    assert "embed_dim=64" in message and "--backbone-config" in message
    assert "... and" in message  # long lists are shortened, with the count


def test_non_strict_mode_reports_but_refuses_shapes(ref, tiny_state, tiny_cfg):
    net = DUTrackNet(tiny_cfg.replace(depth=3))
    notes = load_checkpoint(net, ref / "tiny_state_dict.pt", strict=False)
    assert any(n.startswith("missing:backbone.blocks.6.") for n in notes)
    wide = DUTrackNet(tiny_cfg.replace(head_channels=32))
    with pytest.raises(BackboneError, match="different shape"):
        load_checkpoint(wide, ref / "tiny_state_dict.pt", strict=False)
