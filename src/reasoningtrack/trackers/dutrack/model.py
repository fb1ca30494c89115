"""The DUTrack network: a Fast-iTPN backbone that reads text, templates and a search region as one
token sequence, and a centre head that turns the search tokens into a box.

Token layout of one call: ``[query (1 or 3), text (16), template 1 (Nz) ... template T (Nz),
search (Nx)]``. The query is the learned temporal token (first frame of a sequence) or the first
``query_tokens`` output tokens of the previous frame (the carried temporal query). The network
itself is stateless: :meth:`DUTrackNet.forward` returns the next query and the caller carries it,
so that nothing leaks from one sequence to the next.

Module and parameter names follow the official checkpoints (``backbone.blocks.N...``,
``box_head.convK_ctr...``) so that their state dicts load without renaming.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import DUTrackNetConfig

__all__ = ["DUTrackNet", "NetOutput", "decode_box", "AttentionMode"]

AttentionMode = Literal["explicit", "sdpa"]


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map (the conv stages' norm)."""

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class PatchStem(nn.Module):
    """4x4 / stride-4 convolution: the first of the three downsamplings to the 16-pixel patch grid."""

    def __init__(self, out_channels: int):
        super().__init__()
        self.proj = nn.Conv2d(3, out_channels, kernel_size=4, stride=4)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x)


class ConvMlp(nn.Module):
    """1x1 conv -> GELU -> channel LayerNorm (sub-LN) -> 1x1 conv."""

    def __init__(self, dim: int, hidden: int, eps: float):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.act = nn.GELU()
        self.ffn_ln = ChannelLayerNorm(hidden, eps=eps)
        self.fc2 = nn.Conv2d(hidden, dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.ffn_ln(self.act(self.fc1(x))))


class ConvMlpBlock(nn.Module):
    """A block of the conv stages: pre-norm residual conv-MLP (no attention, no layer scale)."""

    def __init__(self, dim: int, mlp_ratio: float, eps: float):
        super().__init__()
        self.norm2 = ChannelLayerNorm(dim, eps=eps)
        self.mlp = ConvMlp(dim, int(dim * mlp_ratio), eps)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.mlp(self.norm2(x))


class PatchMerge(nn.Module):
    """Channel LayerNorm then a 2x2 / stride-2 convolution that doubles the width."""

    def __init__(self, dim: int, out_dim: int, eps: float):
        super().__init__()
        self.norm = ChannelLayerNorm(dim, eps=eps)
        self.reduction = nn.Conv2d(dim, out_dim, kernel_size=2, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        return self.reduction(self.norm(x))


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v projections, bias on q and v only."""

    def __init__(self, dim: int, num_heads: int, mode: AttentionMode = "explicit"):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.mode: AttentionMode = mode
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim)

    def _heads(self, x: Tensor) -> Tensor:
        b, n, _ = x.shape
        return x.reshape(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: Tensor, return_attention: bool = False) -> tuple[Tensor, Tensor | None]:
        b, n, c = x.shape
        q = self._heads(F.linear(x, self.q_proj.weight, self.q_bias))
        k = self._heads(self.k_proj(x))
        v = self._heads(F.linear(x, self.v_proj.weight, self.v_bias))
        weights = None
        if self.mode == "sdpa" and not return_attention:
            out = F.scaled_dot_product_attention(q * self.scale, k, v, scale=1.0)
        else:
            logits = (q * self.scale) @ k.transpose(-2, -1)
            weights = logits.float().softmax(dim=-1).to(v.dtype)
            out = weights @ v
        out = out.transpose(1, 2).reshape(b, n, c)
        return self.proj(out), weights


class SwiGLU(nn.Module):
    """SiLU(w1 x) * (w2 x) -> LayerNorm (sub-LN) -> w3."""

    def __init__(self, dim: int, hidden: int, eps: float):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden)
        self.w2 = nn.Linear(dim, hidden)
        self.act = nn.SiLU()
        self.ffn_ln = nn.LayerNorm(hidden, eps=eps)
        self.w3 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.w3(self.ffn_ln(self.act(self.w1(x)) * self.w2(x)))


class AttentionBlock(nn.Module):
    """Pre-norm transformer block with layer scale on both residual branches."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, eps: float, layer_scale: float):
        super().__init__()
        self.gamma_1 = nn.Parameter(torch.full((dim,), layer_scale))
        self.gamma_2 = nn.Parameter(torch.full((dim,), layer_scale))
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = SelfAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = SwiGLU(dim, int(dim * mlp_ratio), eps)

    def forward(self, x: Tensor, return_attention: bool = False) -> tuple[Tensor, Tensor | None]:
        attended, weights = self.attn(self.norm1(x), return_attention)
        x = x + self.gamma_1 * attended
        x = x + self.gamma_2 * self.mlp(self.norm2(x))
        return x, weights


class TextEmbedding(nn.Module):
    """BERT-style embedding of word-piece ids (word + position + token type, LayerNorm); no encoder."""

    def __init__(self, cfg: DUTrackNetConfig):
        super().__init__()
        dim = cfg.embed_dim
        self.word_embeddings = nn.Embedding(cfg.vocab_size, dim, padding_idx=0)
        self.position_embeddings = nn.Embedding(cfg.text_max_positions, dim)
        self.token_type_embeddings = nn.Embedding(cfg.text_type_vocab_size, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=cfg.text_norm_eps)

    def forward(self, ids: Tensor) -> Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        types = torch.zeros_like(ids)
        x = self.word_embeddings(ids) + self.token_type_embeddings(types)
        x = x + self.position_embeddings(positions)[None]
        return self.LayerNorm(x)


class TextPositionTable(nn.Module):
    """The second, DUTrack-specific position table added to the text tokens (first rows used)."""

    def __init__(self, rows: int, dim: int):
        super().__init__()
        self.embed = nn.Embedding(rows, dim)

    def forward(self, n: int) -> Tensor:
        return self.embed.weight[:n][None]


class FastITPNBackbone(nn.Module):
    """Fast-iTPN: two conv-MLP stages with patch merges, then attention over all tokens."""

    def __init__(self, cfg: DUTrackNetConfig, attention: AttentionMode = "explicit"):
        super().__init__()
        dim, eps = cfg.embed_dim, cfg.norm_eps
        self.cfg = cfg
        grid = cfg.pretrain_img_size // cfg.patch_size
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid, dim))
        self.temporal_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.temporal_pos_embed = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed_z = nn.Parameter(torch.zeros(1, cfg.template_grid ** 2, dim))
        self.pos_embed_x = nn.Parameter(torch.zeros(1, cfg.search_grid ** 2, dim))
        self.descript_embedding = TextEmbedding(cfg)
        self.description_patch_pos_embed = TextPositionTable(dim, dim)
        self.patch_embed = PatchStem(dim // 4)
        stage1 = [ConvMlpBlock(dim // 4, cfg.bridge_mlp_ratio, eps) for _ in range(cfg.depth_stage1)]
        stage2 = [ConvMlpBlock(dim // 2, cfg.bridge_mlp_ratio, eps) for _ in range(cfg.depth_stage2)]
        attention_blocks = [
            AttentionBlock(dim, cfg.num_heads, cfg.mlp_ratio, eps, cfg.layer_scale_init) for _ in range(cfg.depth)
        ]
        self.blocks = nn.ModuleList(
            [*stage1, PatchMerge(dim // 4, dim // 2, eps), *stage2, PatchMerge(dim // 2, dim, eps), *attention_blocks]
        )
        self.num_conv_blocks = cfg.depth_stage1 + cfg.depth_stage2 + 2
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.set_attention_mode(attention)

    def set_attention_mode(self, mode: AttentionMode) -> None:
        if mode not in ("explicit", "sdpa"):
            raise ValueError(f"attention mode must be 'explicit' or 'sdpa', got {mode!r}")
        for block in self.attention_blocks:
            block.attn.mode = mode

    @property
    def attention_blocks(self) -> Sequence[AttentionBlock]:
        return list(self.blocks)[self.num_conv_blocks:]

    def image_tokens(self, images: Tensor) -> Tensor:
        """NCHW images -> [N, tokens, C] through the stem, the conv stages and the merges."""
        x = self.patch_embed(images)
        for block in list(self.blocks)[: self.num_conv_blocks]:
            x = block(x)
        return x.flatten(2).transpose(1, 2)

    def text_tokens(self, ids: Tensor) -> Tensor:
        return self.descript_embedding(ids) + self.description_patch_pos_embed(ids.shape[1])

    def template_tokens(self, templates: Tensor) -> Tensor:
        """[T,3,H,W] template crops -> [T, Nz, C] tokens with their (shared) position embedding.

        Each template passes the conv stages on its own, so its tokens can be computed once and
        reused on later frames."""
        return self.image_tokens(templates) + self.pos_embed_z

    def forward(
        self, template_tokens: Tensor, search: Tensor, text_ids: Tensor, query: Tensor | None,
        return_attention: bool = False,
    ) -> tuple[Tensor, Tensor | None, Tensor]:
        """``template_tokens`` [B, T*Nz, C] (templates concatenated in order). Returns the output
        tokens after the final norm, the last block's attention (when asked) and the search tokens
        as they entered the attention blocks."""
        batch = search.shape[0]
        z = template_tokens
        x = self.image_tokens(search) + self.pos_embed_x
        text = self.text_tokens(text_ids)
        if query is None:
            query = (self.temporal_token + self.temporal_pos_embed).expand(batch, -1, -1)
        tokens = torch.cat([query.to(x.dtype), text.to(x.dtype), z, x], dim=1)
        weights = None
        blocks = self.attention_blocks
        for i, block in enumerate(blocks):
            tokens, weights = block(tokens, return_attention and i == len(blocks) - 1)
        return self.norm(tokens), weights, x


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CenterHead(nn.Module):
    """Three conv branches over the search grid: target-centre score, sub-cell offset, box size."""

    BRANCHES = (("ctr", 1), ("offset", 2), ("size", 2))

    def __init__(self, in_channels: int, channels: int, grid: int):
        super().__init__()
        self.grid = grid
        widths = [in_channels, channels, channels // 2, channels // 4, channels // 8]
        for branch, out in self.BRANCHES:
            for i in range(4):
                setattr(self, f"conv{i + 1}_{branch}", _conv_bn_relu(widths[i], widths[i + 1]))
            setattr(self, f"conv5_{branch}", nn.Conv2d(widths[4], out, 1))

    def _branch(self, name: str, x: Tensor) -> Tensor:
        for i in range(1, 6):
            x = getattr(self, f"conv{i}_{name}")(x)
        return x

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        score = torch.sigmoid(self._branch("ctr", x)).clamp(1e-4, 1 - 1e-4)
        offset = self._branch("offset", x)
        size = torch.sigmoid(self._branch("size", x)).clamp(1e-4, 1 - 1e-4)
        return score, size, offset


def decode_box(score_map: Tensor, size_map: Tensor, offset_map: Tensor) -> Tensor:
    """Box (cx, cy, w, h) in [0, 1] of the search crop at the score map's best cell: [B, 4]."""
    b, _, h, w = score_map.shape
    best = score_map.flatten(1).argmax(dim=1)
    row, col = best // w, best % w
    at = best[:, None, None].expand(b, 2, 1)
    size = size_map.flatten(2).gather(2, at).squeeze(-1)
    offset = offset_map.flatten(2).gather(2, at).squeeze(-1)
    cx = (col.to(offset.dtype) + offset[:, 0]) / w
    cy = (row.to(offset.dtype) + offset[:, 1]) / h
    return torch.stack([cx, cy, size[:, 0], size[:, 1]], dim=1)


@dataclass
class NetOutput:
    """One forward call. ``next_query`` is what the caller carries to the next frame."""

    pred_boxes: Tensor
    score_map: Tensor
    size_map: Tensor
    offset_map: Tensor
    backbone_feat: Tensor
    next_query: Tensor
    attn: Tensor | None = None
    attn_l2s: Tensor | None = None
    temproal_token: Tensor | None = None


class DUTrackNet(nn.Module):
    """Backbone + centre head; see the module docstring for the token layout."""

    def __init__(self, cfg: DUTrackNetConfig, attention: AttentionMode = "explicit"):
        super().__init__()
        self.cfg = cfg
        self.backbone = FastITPNBackbone(cfg, attention)
        self.box_head = CenterHead(cfg.embed_dim, cfg.head_channels, cfg.search_grid)

    def set_attention_mode(self, mode: AttentionMode) -> None:
        self.backbone.set_attention_mode(mode)

    def head_input(self, features: Tensor) -> Tensor:
        """Search tokens weighted by their dot product with the first output token, as a map."""
        n = self.cfg.search_grid ** 2
        search = features[:, -n:]
        weight = search @ features[:, :1].transpose(1, 2)
        fused = search * weight
        b, _, c = fused.shape
        return fused.transpose(1, 2).reshape(b, c, self.cfg.search_grid, self.cfg.search_grid)

    def stack_templates(self, templates: Sequence[Tensor]) -> Tensor:
        """T tensors [B,3,Hz,Wz] -> [B, T*Nz, C]: the conv stages run once on all T*B crops."""
        batch = templates[0].shape[0]
        z = self.backbone.template_tokens(torch.cat(list(templates), dim=0))
        return z.reshape(len(templates), batch, z.shape[1], z.shape[2]).transpose(0, 1).reshape(batch, -1, z.shape[2])

    def forward(
        self, templates: Sequence[Tensor], search: Tensor, text_ids: Tensor, query: Tensor | None = None,
        auxiliary: bool = False,
    ) -> NetOutput:
        """``templates``: T tensors [B,3,Hz,Wz]; ``search`` [B,3,Hx,Wx]; ``text_ids`` [B,16] int64.

        ``auxiliary`` also returns the last block's attention map and the official auxiliary outputs
        (``attn_l2s``, ``temproal_token``), which do not influence the box.
        """
        return self.forward_tokens(self.stack_templates(templates), search, text_ids, query, auxiliary)

    def forward_tokens(
        self, template_tokens: Tensor, search: Tensor, text_ids: Tensor, query: Tensor | None = None,
        auxiliary: bool = False,
    ) -> NetOutput:
        """As :meth:`forward` with the templates already turned into tokens (see ``stack_templates``)."""
        features, weights, search_in = self.backbone(template_tokens, search, text_ids, query, return_attention=auxiliary)
        score, size, offset = self.box_head(self.head_input(features))
        out = NetOutput(
            pred_boxes=decode_box(score, size, offset)[:, None],
            score_map=score, size_map=size, offset_map=offset, backbone_feat=features,
            next_query=features[:, : self.cfg.query_tokens],
        )
        if auxiliary and weights is not None:
            out.attn = weights
            out.attn_l2s, out.temproal_token = self._auxiliary(search_in, weights)
        return out

    def _auxiliary(self, search_in: Tensor, weights: Tensor) -> tuple[Tensor, Tensor]:
        """Official auxiliary outputs: the head-averaged attention of row ``query_tokens`` to the
        search tokens, and the input search tokens it attends to most. Row 3 is a text token,
        not the query (the official index accident); neither output influences the box."""
        n = self.cfg.search_grid ** 2
        l2s = weights[:, :, self.cfg.query_tokens, -n:].mean(dim=1)
        top = l2s.topk(self.cfg.query_tokens, dim=1).indices
        picked = search_in.gather(1, top[..., None].expand(-1, -1, search_in.shape[2]))
        return l2s, picked


def count_numbers(module: nn.Module) -> int:
    """Numbers in the state dict (parameters and buffers), the figure the reference lists quote."""
    return sum(t.numel() for t in module.state_dict().values())


def hann_window(size: int) -> Tensor:
    """Centred 2-D Hann window [1,1,size,size]: outer product of 0.5(1-cos(2πk/(size+1))), k=1..size.

    Computed in float32 with the angle step formed first, which reproduces the official window
    bit for bit."""
    k = torch.arange(1, size + 1, dtype=torch.float32)
    w = 0.5 * (1 - torch.cos((2 * math.pi / (size + 1)) * k))
    return (w[:, None] * w[None, :])[None, None]
