"""DUTrack's test-time tracker as a :class:`~reasoningtrack.trackers.base.Backbone`.

Per frame: crop the search region (4x the target) around the previous box, feed it with up to four
templates (the first one plus the centres of three equal segments of the history), the 16 text
ids and the carried temporal query; weight the score map with a Hann window, read the box at the
best cell, map it back to the image and clip it; store a template crop around the new box.

Differences from the official tracker, all deliberate:

* the carried query and the template memory belong to the sequence: ``initialize``/``reset``
  clear them (officially the query lives on the network and leaks into the next sequence);
* the memory keeps uint8 crops on the CPU (4x smaller than normalised tensors; the same numbers
  once normalised), so long sequences do not fill the accelerator;
* a stored template's tokens (stem, conv stages, merges) are computed once and reused while the
  template stays chosen, instead of re-running the conv stages on every template every frame;
* ``kernels="fast"`` runs the network through :class:`~.fast.FastDUTrack` (fused kernels,
  channels-last convolutions; the same function up to float32 re-association); the default
  ``kernels="reference"`` runs the plain module; ``kernels="onnxruntime"`` runs the per-frame
  network exported from the plain module in ONNX Runtime (CPU, float32; see onnxrt.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..base import Backbone, BackboneError, Prediction
from .config import DUTrackTrackerConfig
from .fast import FastDUTrack
from .model import DUTrackNet, decode_box, hann_window
from .preprocessing import box_to_pixels, clip_box, crop_square, map_box_back, normalise
from .tokenizer import TextTokenizer

__all__ = ["DUTrackBackbone", "select_templates", "FrameDebug"]


def select_templates(frame_number: int, memory_size: int, template_number: int) -> list[int]:
    """Memory indexes fed on the ``frame_number``-th ``track`` call (1-based): all of them while the
    memory is short, then the first template plus the centre of each of ``template_number`` equal
    segments of the history (duplicates removed, sorted)."""
    if frame_number <= template_number:
        return list(range(memory_size))
    segment = frame_number // template_number
    chosen = {0} | {k * segment + segment // 2 for k in range(template_number)}
    return sorted(i for i in chosen if i < memory_size)


@dataclass
class FrameDebug:
    """Internals of the last ``track`` call (crop geometry, templates fed, argmax), for diagnosis."""

    frame: int
    templates_memory_idx: list[int]
    n_prefix_tokens: int
    search_crop_side: int
    resize_factor: float
    score_max_raw: float
    hann_response_argmax: int
    pred_box_crop_cxcywh_norm: list[float]
    state: list[float]


KERNELS = ("reference", "fast", "onnxruntime")


def _engine(kernels: str, net: DUTrackNet):
    if kernels == "fast":
        return FastDUTrack(net)
    if kernels == "onnxruntime":
        from .onnxrt import OnnxDUTrack  # optional dependency

        return OnnxDUTrack(net)
    return None


class DUTrackBackbone(Backbone):
    """The DUTrack tracker; build it with :func:`reasoningtrack.trackers.dutrack.build_dutrack`."""

    name = "dutrack"
    uses_text = True

    def __init__(self, net: DUTrackNet, tokenizer: TextTokenizer, config: DUTrackTrackerConfig, *,
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32, compile: bool = False,
                 kernels: str = "reference"):
        if tokenizer.vocab_size > net.cfg.vocab_size:
            raise BackboneError(
                f"the tokenizer {tokenizer.source!r} has {tokenizer.vocab_size} entries but the network's text "
                f"embedding only {net.cfg.vocab_size} rows; use a BERT vocabulary that fits (bert-base-uncased/cased)"
            )
        if tokenizer.max_tokens != net.cfg.text_tokens:
            raise BackboneError(f"tokenizer window {tokenizer.max_tokens} != network text tokens {net.cfg.text_tokens}")
        self.device = torch.device(device)
        self.dtype = dtype
        self.config = config
        self.tokenizer = tokenizer
        self.net = net.to(device=self.device, dtype=dtype).eval()
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)
        if kernels not in KERNELS:
            raise BackboneError(f"DUTrack kernels must be one of {', '.join(KERNELS)}, got {kernels!r}")
        if kernels == "onnxruntime" and compile:
            raise BackboneError("DUTrack kernels=onnxruntime cannot be combined with compile=true")
        self.kernels = kernels
        # The fast paths compute the same function (fused kernels, see fast.py; ONNX Runtime, see
        # onnxrt.py); the plain network's forward stays the reference.
        self._engine = _engine(kernels, self.net)
        forward = self._engine.forward_tokens if self._engine is not None else self.net.forward_tokens
        self._forward = torch.compile(forward, dynamic=False) if compile else forward
        self._hann = hann_window(net.cfg.search_grid).to(self.device)
        self._text_ids: torch.Tensor | None = None
        self._text: str | None = None
        self.last_debug: FrameDebug | None = None
        self.reset()

    # -- sequence state ---------------------------------------------------------------------------
    def reset(self) -> None:
        self._memory: list[np.ndarray] = []
        self._template_tokens: dict[int, torch.Tensor] = {}
        self._query: torch.Tensor | None = None
        self._state: list[float] | None = None
        self._frame_number = 0
        self._size: tuple[int, int] | None = None
        self.last_debug = None

    def initialize(self, frame: np.ndarray, box, text: str | None = None) -> None:
        self.reset()
        frame = self._check_frame(frame)
        box = [float(v) for v in np.asarray(box, dtype=np.float64).reshape(-1)]
        if len(box) != 4 or not (box[2] > 0 and box[3] > 0) or not np.all(np.isfinite(box)):
            raise BackboneError(f"initial box must be x,y,w,h with positive width and height, got {box}")
        height, width = frame.shape[:2]
        # As the OpenCV backbones: at least one pixel of the box inside the frame. A box that only
        # partly leaves the frame is kept as given (the official crop pads it).
        if min(box[0] + box[2], width) - max(box[0], 0) < 1 or min(box[1] + box[3], height) - max(box[1], 0) < 1:
            raise BackboneError(f"DUTrack: initial box {box} lies outside the {width}x{height} frame (frame 1)")
        self._size = (height, width)
        self.set_text(text)
        self._memory.append(self._crop_template(frame, box))
        self._state = box

    def set_text(self, text: str | None) -> None:
        text = text or ""
        if text != self._text or self._text_ids is None:
            ids = self.tokenizer.ids(text)
            self._text_ids = torch.tensor([ids], dtype=torch.long, device=self.device)
            self._text = text

    # -- text helpers used by the pipeline and the reasoner's prompt ----------------------------
    def kept_text(self, text: str) -> str:
        return self.tokenizer.kept_text(text)

    def text_tokens(self, text: str) -> list[str]:
        """The 16 word-pieces the network sees, [CLS]/[SEP]/[PAD] included."""
        return self.tokenizer.tokens(text)

    # -- tracking -------------------------------------------------------------------------------
    def _check_frame(self, frame: np.ndarray) -> np.ndarray:
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            shape = getattr(frame, "shape", None)
            dtype = getattr(frame, "dtype", type(frame).__name__)
            raise BackboneError(f"frames must be HxWx3 uint8 RGB arrays, got shape {shape} dtype {dtype}")
        return frame

    def _crop(self, frame: np.ndarray, box, factor: float, size: int):
        return crop_square(
            frame, box, factor, size,
            official_rounding=self.config.official_crop_rounding, official_border=self.config.official_border_pixel,
        )

    def _crop_template(self, frame: np.ndarray, box) -> np.ndarray:
        crop, _ = self._crop(frame, box, self.config.template_factor, self.config.template_size)
        return crop

    def _tensor(self, crop: np.ndarray) -> torch.Tensor:
        return normalise(crop, self.config.mean, self.config.std).to(device=self.device, dtype=self.dtype)

    def _templates(self, chosen: list[int]) -> torch.Tensor:
        """Tokens of the chosen stored templates, [1, T*Nz, C]. A template's tokens do not depend on
        the frame, so each is computed once and kept while it stays chosen."""
        missing = [i for i in chosen if i not in self._template_tokens]
        if missing:
            crops = torch.cat([self._tensor(self._memory[i]) for i in missing])
            encode = self._engine.template_tokens if self._engine is not None else self.net.backbone.template_tokens
            for i, tokens in zip(missing, encode(crops)):
                self._template_tokens[i] = tokens
        self._template_tokens = {i: self._template_tokens[i] for i in chosen}
        return torch.cat([self._template_tokens[i] for i in chosen])[None]

    def track(self, frame: np.ndarray) -> Prediction:
        if self._state is None:
            raise BackboneError("DUTrack: track() called before initialize()")
        frame = self._check_frame(frame)
        cfg = self.config
        height, width = frame.shape[:2]
        self._frame_number += 1
        if (height, width) != self._size:
            raise BackboneError(
                f"DUTrack: frame {self._frame_number + 1} of the sequence is {width}x{height}, but frame 1 was "
                f"{self._size[1]}x{self._size[0]}: every frame of a sequence must have the same size")
        search_crop, geometry = self._crop(frame, self._state, cfg.search_factor, cfg.search_size)
        chosen = select_templates(self._frame_number, len(self._memory), cfg.template_number)
        prefix = 1 if self._query is None else self._query.shape[1]
        with torch.inference_mode():
            out = self._forward(self._templates(chosen), self._tensor(search_crop), self._text_ids, self._query)
            self._query = out.next_query.clone(memory_format=torch.contiguous_format)
            score = out.score_map.float()
            response = score * self._hann if cfg.hanning else score
            box_norm = decode_box(response, out.size_map.float(), out.offset_map.float())[0].cpu()
            best = int(response.flatten().argmax())
            raw_max = float(score.max())
            hann_max = float(response.max())
        crop_box = box_to_pixels(box_norm, cfg.search_size, geometry.resize_factor, cfg.official_float32_box_scaling)
        image_box = map_box_back(crop_box, self._state, cfg.search_size, geometry.resize_factor)
        self._state = clip_box(image_box, height, width, cfg.clip_margin)
        self._memory.append(self._crop_template(frame, self._state))
        self.last_debug = FrameDebug(
            frame=self._frame_number, templates_memory_idx=chosen, n_prefix_tokens=prefix,
            search_crop_side=geometry.side, resize_factor=geometry.resize_factor, score_max_raw=raw_max,
            hann_response_argmax=best, pred_box_crop_cxcywh_norm=box_norm.tolist(), state=list(self._state),
        )
        confidence = raw_max if cfg.score == "raw_max" else hann_max
        return Prediction(np.asarray(self._state, dtype=np.float64), confidence)

    def close(self) -> None:
        self.reset()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
