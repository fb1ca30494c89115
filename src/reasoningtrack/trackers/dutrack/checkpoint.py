"""Loading official DUTrack checkpoints (``DUTrack_ep0001.pth.tar``: weights under ``net``).

Always ``torch.load(weights_only=True)``: no code from the file runs. Training checkpoints of the
official trainer also pickle a settings object and the like; such non-tensor objects are replaced
by inert placeholders (registered as safe for this one load), so they load without trusting the
file. Loading is strict: a missing, unexpected or mis-shaped key is an error that lists them.
Only keys that carry no learned information are ignored, by rule (:data:`IGNORED_KEYS`).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from ..base import BackboneError

__all__ = ["IGNORED_KEYS", "read_state_dict", "load_checkpoint", "check_state_dict"]

#: Buffers of ``transformers.BertEmbeddings`` that older transformers saved: constant 0..N-1 and
#: zeros, no learned information.
IGNORED_KEYS = frozenset({
    "backbone.descript_embedding.position_ids",
    "backbone.descript_embedding.token_type_ids",
})

_LIST_LIMIT = 12


def _placeholder(qualified: str) -> type:
    """An inert class standing for a pickled object we do not need (e.g. training settings)."""
    module, _, name = qualified.rpartition(".")

    def init(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def setstate(self, state):
        self.state = state

    cls = type(name or "Placeholder", (), {"__init__": init, "__setstate__": setstate, "__module__": module})
    return cls


def _verify_archive(path: Path) -> None:
    """torch.load does not check the CRC of tensor data: a flipped byte would load silently."""
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
    if bad is not None:
        raise ValueError(f"CRC mismatch in archive member {bad!r}")


def _torch_load(path: Path):
    _verify_archive(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc) and "not an allowed global" not in str(exc):
            raise
    names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    with torch.serialization.safe_globals([(_placeholder(n), n) for n in names]):
        return torch.load(path, map_location="cpu", weights_only=True)


def read_state_dict(path: str | os.PathLike) -> dict[str, Tensor]:
    """The network weights of a checkpoint file: its ``net`` entry, or the file itself when it is a
    bare state dict. A ``module.`` prefix (saved from DistributedDataParallel) is removed."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BackboneError(f"DUTrack checkpoint {path} does not exist")
    try:
        data = _torch_load(path)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, zipfile.BadZipFile,
            AttributeError, TypeError, KeyError, IndexError) as exc:
        size = path.stat().st_size
        raise BackboneError(
            f"cannot read DUTrack checkpoint {path} ({size} bytes): corrupted, truncated or not a PyTorch "
            f"file ({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    if isinstance(data, Mapping) and "net" in data:
        state = data["net"]
    elif isinstance(data, Mapping) and data and all(isinstance(v, Tensor) for v in data.values()):
        state = data
    else:
        keys = list(data)[:_LIST_LIMIT] if isinstance(data, Mapping) else type(data).__name__
        raise BackboneError(
            f"{path}: expected an official DUTrack checkpoint (a dict with 'net') or a bare state dict; found {keys}"
        )
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise BackboneError(f"{path}: the 'net' entry is not a state dict of tensors")
    state = dict(state)
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _listing(title: str, items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    more = f" ... and {len(items) - _LIST_LIMIT} more" if len(items) > _LIST_LIMIT else ""
    return f"{len(items)} {title}: {shown}{more}"


def _architecture_hint(state: Mapping[str, Tensor]) -> str:
    norm = state.get("backbone.norm.weight")
    search = state.get("backbone.pos_embed_x")
    if norm is None or search is None or search.dim() != 3:
        return ""
    blocks = {int(k.split(".")[2]) for k in state if k.startswith("backbone.blocks.")}
    grid = round(search.shape[1] ** 0.5)
    return (f" The checkpoint looks like embed_dim={norm.shape[0]}, {len(blocks)} backbone blocks, "
            f"search grid {grid}x{grid} (search size {grid * 16}); choose the matching --backbone-config "
            f"(dutrack-256, dutrack-384 or a JSON/YAML architecture file).")


def check_state_dict(model: nn.Module, state: Mapping[str, Tensor], source: str) -> dict[str, Tensor]:
    """The entries of ``state`` the model takes; raises with the full list of differences."""
    expected = model.state_dict()
    given = {k: v for k, v in state.items() if k not in IGNORED_KEYS}
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected]
    mismatched = [
        f"{k} {list(given[k].shape)} (model {list(expected[k].shape)})"
        for k in expected if k in given and given[k].shape != expected[k].shape
    ]
    wrong_kind = [
        f"{k} {given[k].dtype} (model {expected[k].dtype})"
        for k in expected if k in given and given[k].is_floating_point() != expected[k].is_floating_point()
    ]
    problems = [
        _listing(title, items) for title, items in (
            ("missing keys", missing), ("unexpected keys", unexpected),
            ("keys with a different shape", mismatched), ("keys with a different kind of dtype", wrong_kind),
        ) if items
    ]
    if problems:
        raise BackboneError(
            f"DUTrack checkpoint {source} does not fit the network: " + "; ".join(problems) + "."
            + _architecture_hint(given)
        )
    return given


def load_checkpoint(model: nn.Module, path: str | os.PathLike, strict: bool = True) -> list[str]:
    """Load ``path`` into ``model``; returns the keys that were ignored by rule.

    ``strict=False`` still refuses mis-shaped keys but tolerates missing/unexpected ones (they are
    returned and logged by the caller); it exists for experiments, never as the default.
    """
    state = read_state_dict(path)
    ignored = sorted(k for k in state if k in IGNORED_KEYS)
    if strict:
        given = check_state_dict(model, state, str(path))
        model.load_state_dict(given, strict=True)
        return ignored
    expected = model.state_dict()
    bad_shape = [k for k, v in state.items() if k in expected and v.shape != expected[k].shape]
    if bad_shape:
        raise BackboneError(f"DUTrack checkpoint {path}: " + _listing("keys with a different shape", bad_shape))
    result = model.load_state_dict({k: v for k, v in state.items() if k not in IGNORED_KEYS}, strict=False)
    return ignored + [f"missing:{k}" for k in result.missing_keys] + [f"unexpected:{k}" for k in result.unexpected_keys]
