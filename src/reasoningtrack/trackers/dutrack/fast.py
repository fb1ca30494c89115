"""A faster forward pass of :class:`~.model.DUTrackNet` that computes the same function.

Why: DUTrack runs at about 1 fps on a 2-core CPU and the reasoning pipeline calls it on every
frame. A profile of the plain eager forward (full size, fp32, 531 tokens) spends about a sixth of
its time copying tensors (head splits, NCHW<->NHWC permutes around every channel LayerNorm),
another sixth in the explicit attention (two batched matmuls and a softmax) and a tenth in
separate elementwise multiplies. This path removes that work without changing the arithmetic of
any dot product beyond float32 re-association:

* q, k and v come from one GEMM over concatenated weights (k's missing bias is zero), the two
  SwiGLU input projections from another; the original parameters become views into the fused
  tensors, so no weight is stored twice and a state dict saves as before;
* the attention is PyTorch's fused ``scaled_dot_product_attention`` on strided head views (no
  copies); the 1/sqrt(d) scale is folded into the q rows of the fused weight when it is a power
  of two (exact, e.g. head dim 64), else applied to q as the plain path does;
* layer-scaled residuals are one ``addcmul`` each, SiLU(a)*b is computed in place;
* the conv stages and the head run in channels-last memory, where the channel LayerNorm is a
  plain LayerNorm over contiguous rows (no permute copies) and oneDNN's 1x1 convolutions are
  fastest;
* the text tokens (embedding + the DUTrack position table) are computed when the text changes,
  not on every frame.

Outputs agree with the plain path within float32 rounding of re-associated sums (tested: max
abs difference of features and boxes; the Crossing trace within 1e-4 px). The plain path stays
the reference (``kernels="reference"``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .model import AttentionBlock, ChannelLayerNorm, DUTrackNet, NetOutput, decode_box

__all__ = ["FastDUTrack"]


def _power_of_two(value: float) -> bool:
    mantissa, _ = math.frexp(value)
    return mantissa == 0.5


class _FastBlock:
    """One attention block's fused weights (views keep the original parameters in sync)."""

    def __init__(self, block: AttentionBlock):
        attn = block.attn
        self.block = block
        self.heads, self.head_dim = attn.num_heads, attn.head_dim
        dim = attn.q_proj.weight.shape[1]
        self.fold_scale = _power_of_two(attn.scale)
        with torch.no_grad():
            zeros = torch.zeros(dim, dtype=attn.q_bias.dtype, device=attn.q_bias.device)
            self.qkv_weight = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]).contiguous()
            self.qkv_bias = torch.cat([attn.q_bias, zeros, attn.v_bias]).contiguous()
            if self.fold_scale:  # exact: multiplying by a power of two only changes exponents
                self.qkv_weight[:dim] *= attn.scale
                self.qkv_bias[:dim] *= attn.scale
            mlp = block.mlp
            self.w12 = torch.cat([mlp.w1.weight, mlp.w2.weight]).contiguous()
            self.b12 = torch.cat([mlp.w1.bias, mlp.w2.bias]).contiguous()
        self.scale = attn.scale

    def __call__(self, x: Tensor) -> Tensor:
        block, attn, mlp = self.block, self.block.attn, self.block.mlp
        b, n, c = x.shape
        h = F.layer_norm(x, (c,), block.norm1.weight, block.norm1.bias, block.norm1.eps)
        qkv = F.linear(h, self.qkv_weight, self.qkv_bias).view(b, n, 3, self.heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if not self.fold_scale:
            q = q * self.scale
        out = F.scaled_dot_product_attention(q, k, v, scale=1.0)
        out = F.linear(out.transpose(1, 2).reshape(b, n, c), attn.proj.weight, attn.proj.bias)
        x = torch.addcmul(x, block.gamma_1, out)
        h = F.layer_norm(x, (c,), block.norm2.weight, block.norm2.bias, block.norm2.eps)
        a, g = F.linear(h, self.w12, self.b12).chunk(2, dim=-1)
        hidden = F.silu(a).mul_(g)
        hidden = F.layer_norm(hidden, (hidden.shape[-1],), mlp.ffn_ln.weight, mlp.ffn_ln.bias, mlp.ffn_ln.eps)
        return torch.addcmul(x, block.gamma_2, F.linear(hidden, mlp.w3.weight, mlp.w3.bias))


class _ChannelsLastNorm(nn.Module):
    """ChannelLayerNorm for channels-last tensors: LayerNorm over contiguous NHWC rows."""

    def __init__(self, norm: ChannelLayerNorm):
        super().__init__()
        self.norm = norm

    def forward(self, x: Tensor) -> Tensor:
        nhwc = x.permute(0, 2, 3, 1)  # a view of contiguous memory for channels-last input
        out = F.layer_norm(nhwc, self.norm.normalized_shape, self.norm.weight, self.norm.bias, self.norm.eps)
        return out.permute(0, 3, 1, 2)


class FastDUTrack:
    """The fast forward of a :class:`DUTrackNet` (same parameters, see the module docstring).

    Offers what :class:`~.tracker.DUTrackBackbone` calls: :meth:`template_tokens` and
    :meth:`forward_tokens`. Inference only (no autograd graph is built through fused views).
    """

    def __init__(self, net: DUTrackNet):
        self.net = net
        self.cfg = net.cfg
        backbone = net.backbone
        # Convolutions and their norms in channels-last memory (weights too, as oneDNN prefers).
        net.to(memory_format=torch.channels_last)
        self._norms: dict[int, _ChannelsLastNorm] = {}
        for module in list(backbone.blocks)[: backbone.num_conv_blocks]:
            for name, child in module.named_modules():
                if isinstance(child, ChannelLayerNorm):
                    self._norms[id(child)] = _ChannelsLastNorm(child)
        self.blocks = [_FastBlock(block) for block in backbone.attention_blocks]
        for block in backbone.attention_blocks:  # originals become views of the fused tensors
            fast = self.blocks[backbone.attention_blocks.index(block)]
            dim = fast.qkv_weight.shape[1]
            if not fast.fold_scale:
                block.attn.q_proj.weight.data = fast.qkv_weight[:dim]
                block.attn.q_bias.data = fast.qkv_bias[:dim]
            block.attn.k_proj.weight.data = fast.qkv_weight[dim : 2 * dim]
            block.attn.v_proj.weight.data = fast.qkv_weight[2 * dim :]
            block.attn.v_bias.data = fast.qkv_bias[2 * dim :]
            hidden = block.mlp.w1.weight.shape[0]
            block.mlp.w1.weight.data, block.mlp.w2.weight.data = fast.w12[:hidden], fast.w12[hidden:]
            block.mlp.w1.bias.data, block.mlp.w2.bias.data = fast.b12[:hidden], fast.b12[hidden:]
        self._text_key: tuple | None = None
        self._text: Tensor | None = None

    # -- conv stages ------------------------------------------------------------------------------
    def _conv_stages(self, images: Tensor) -> Tensor:
        backbone = self.net.backbone
        x = backbone.patch_embed(images.contiguous(memory_format=torch.channels_last))
        for block in list(backbone.blocks)[: backbone.num_conv_blocks]:
            x = self._conv_block(block, x)
        return x.flatten(2).transpose(1, 2)  # a view: [N, HW, C] rows are contiguous channels

    def _norm(self, norm: ChannelLayerNorm, x: Tensor) -> Tensor:
        return self._norms[id(norm)](x)

    def _conv_block(self, block: nn.Module, x: Tensor) -> Tensor:
        if hasattr(block, "reduction"):  # PatchMerge
            return block.reduction(self._norm(block.norm, x))
        mlp = block.mlp
        h = mlp.fc1(self._norm(block.norm2, x))
        h = mlp.fc2(self._norm(mlp.ffn_ln, mlp.act(h)))
        return x + h

    def template_tokens(self, templates: Tensor) -> Tensor:
        return self._conv_stages(templates) + self.net.backbone.pos_embed_z

    def _text_tokens(self, ids: Tensor) -> Tensor:
        key = (ids.device, tuple(ids.flatten().tolist()))
        if key != self._text_key:
            self._text = self.net.backbone.text_tokens(ids)
            self._text_key = key
        return self._text

    # -- attention stage and head -----------------------------------------------------------------
    def forward_tokens(
        self, template_tokens: Tensor, search: Tensor, text_ids: Tensor, query: Tensor | None = None,
        auxiliary: bool = False,
    ) -> NetOutput:
        if auxiliary:  # the attention map is not computed by the fused kernel
            return self.net.forward_tokens(template_tokens, search, text_ids, query, auxiliary=True)
        backbone, cfg = self.net.backbone, self.cfg
        batch = search.shape[0]
        x = self._conv_stages(search) + backbone.pos_embed_x
        text = self._text_tokens(text_ids)
        if text.shape[0] != batch:
            text = text.expand(batch, -1, -1)
        if query is None:
            query = (backbone.temporal_token + backbone.temporal_pos_embed).expand(batch, -1, -1)
        tokens = torch.cat([query.to(x.dtype), text.to(x.dtype), template_tokens, x], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        features = backbone.norm(tokens)
        n = cfg.search_grid ** 2
        search_tokens = features[:, -n:]
        fused = search_tokens * (search_tokens @ features[:, :1].transpose(1, 2))
        grid = cfg.search_grid
        head_in = fused.reshape(batch, grid, grid, -1).permute(0, 3, 1, 2)  # channels-last view
        score, size, offset = self.net.box_head(head_in)
        return NetOutput(
            pred_boxes=decode_box(score, size, offset)[:, None],
            score_map=score, size_map=size, offset_map=offset, backbone_feat=features,
            next_query=features[:, : cfg.query_tokens],
        )

    def forward(self, templates, search: Tensor, text_ids: Tensor, query: Tensor | None = None) -> NetOutput:
        """As :meth:`DUTrackNet.forward`: templates through the conv stages, then the rest."""
        batch = templates[0].shape[0]
        z = self.template_tokens(torch.cat(list(templates), dim=0))
        z = z.reshape(len(templates), batch, z.shape[1], z.shape[2]).transpose(0, 1).reshape(batch, -1, z.shape[2])
        return self.forward_tokens(z, search, text_ids, query)
