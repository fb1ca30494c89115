"""The per-frame part of :class:`~.model.DUTrackNet` (search conv stages, attention stage, head) run
by ONNX Runtime on the CPU: ``kernels="onnxruntime"`` (optional extra ``reasoningtrack[onnx]``).

Why: on a 2-core avx2 CPU the plain eager forward's GEMMs already run at 60-70% of the cores'
measured fp32 peak, so fused PyTorch kernels gain little (docs/dutrack.md, "Speed"). ONNX Runtime
runs the same graph with its own arena allocator (no page faults for the ~500 MB of temporaries a
forward allocates), fused LayerNorms and a lighter thread pool, and measured faster than both
PyTorch paths in the same runs. The graph is exported from the plain module itself (TorchScript
exporter, opset 17), so it computes the reference function; outputs agree within float32
re-association (tested: full-size forward and the official Crossing trace).

The template conv stages stay in PyTorch: they run once per stored template, not per frame.
"""

from __future__ import annotations

import io
import warnings

import torch
from torch import Tensor, nn

from ..base import BackboneError
from .model import DUTrackNet, NetOutput, decode_box

__all__ = ["OnnxDUTrack", "export_forward"]

_INPUTS = ["template_tokens", "search", "text_ids", "query"]
_OUTPUTS = ["score_map", "size_map", "offset_map", "features"]


class _PerFrame(nn.Module):
    """``forward_tokens`` with tensor outputs only (what the exporter traces)."""

    def __init__(self, net: DUTrackNet):
        super().__init__()
        self.net = net

    def forward(self, template_tokens: Tensor, search: Tensor, text_ids: Tensor, query: Tensor):
        out = self.net.forward_tokens(template_tokens, search, text_ids, query)
        return out.score_map, out.size_map, out.offset_map, out.backbone_feat


def export_forward(net: DUTrackNet) -> bytes:
    """The ONNX model (bytes) of ``net.forward_tokens``; the number of template tokens and of query
    tokens are dynamic, so one model serves 1-4 templates and the first frame's single query token."""
    cfg = net.cfg
    gen = torch.Generator().manual_seed(0)
    param = next(net.parameters())
    example = (
        torch.randn(1, 2 * cfg.template_grid ** 2, cfg.embed_dim, generator=gen),
        torch.randn(1, 3, cfg.search_size, cfg.search_size, generator=gen),
        torch.zeros(1, cfg.text_tokens, dtype=torch.long),
        torch.randn(1, cfg.query_tokens, cfg.embed_dim, generator=gen),
    )
    example = tuple(t.to(param.device) for t in example)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notices
        torch.onnx.export(
            _PerFrame(net).eval(), example, buffer, dynamo=False, opset_version=17,
            input_names=_INPUTS, output_names=_OUTPUTS,
            dynamic_axes={"template_tokens": {1: "template_tokens"}, "query": {1: "query_tokens"}},
        )
    return buffer.getvalue()


class OnnxDUTrack:
    """What :class:`~.tracker.DUTrackBackbone` calls (:meth:`template_tokens`, :meth:`forward_tokens`),
    with the per-frame network in an ONNX Runtime session on ``threads`` threads (default: torch's).
    ``spin``: let idle worker threads spin (ONNX Runtime's default) rather than sleep."""

    def __init__(self, net: DUTrackNet, threads: int | None = None, spin: bool = False):
        try:
            import onnx  # noqa: F401  (torch's exporter writes the graph with it)
            import onnxruntime
        except ImportError as exc:
            raise BackboneError(
                "DUTrack kernels=onnxruntime needs ONNX Runtime: pip install 'reasoningtrack[onnx]'") from exc
        param = next(net.parameters())
        if param.device.type != "cpu" or param.dtype != torch.float32:
            raise BackboneError(
                f"DUTrack kernels=onnxruntime runs float32 on the CPU, got {param.dtype} on {param.device}")
        self.net = net
        self.cfg = net.cfg
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle workers sleep instead of spinning: in track() the crops, normalisation and template
        # conv stages run between two session calls and spinning workers compete for the cores.
        # Measured on the shared 2-core machine: track() 1.85x the plain path without spinning and
        # 1.63x with it (one run, load 2.2-3.6); within noise of each other at load 2-3
        # (benchmarks/bench_dutrack.py --variants fp32,fp32-ort,fp32-ort-spin). An assumption
        # for idle machines, where the difference was not measured.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        self.session = onnxruntime.InferenceSession(export_forward(net), options, providers=["CPUExecutionProvider"])

    def template_tokens(self, templates: Tensor) -> Tensor:
        return self.net.backbone.template_tokens(templates)

    def forward_tokens(
        self, template_tokens: Tensor, search: Tensor, text_ids: Tensor, query: Tensor | None = None,
        auxiliary: bool = False,
    ) -> NetOutput:
        if auxiliary:  # the attention map is not an output of the exported graph
            return self.net.forward_tokens(template_tokens, search, text_ids, query, auxiliary=True)
        backbone = self.net.backbone
        batch = search.shape[0]
        if query is None:  # the first frame's learned temporal token, as backbone.forward forms it
            query = (backbone.temporal_token + backbone.temporal_pos_embed).expand(batch, -1, -1)
        feeds = {
            "template_tokens": template_tokens.contiguous().numpy(),
            "search": search.contiguous().numpy(),
            "text_ids": text_ids.to(torch.long).contiguous().numpy(),
            "query": query.to(search.dtype).contiguous().numpy(),
        }
        score, size, offset, features = (torch.from_numpy(a) for a in self.session.run(_OUTPUTS, feeds))
        return NetOutput(
            pred_boxes=decode_box(score, size, offset)[:, None],
            score_map=score, size_map=size, offset_map=offset, backbone_feat=features,
            next_query=features[:, : self.cfg.query_tokens],
        )

    def forward(self, templates, search: Tensor, text_ids: Tensor, query: Tensor | None = None) -> NetOutput:
        """As :meth:`DUTrackNet.forward`: templates through the conv stages (PyTorch), then the rest."""
        return self.forward_tokens(self.net.stack_templates(templates), search, text_ids, query)
