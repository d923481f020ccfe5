"""A tiny transformer with low-dimensional embeddings, after Odonnat, Bouaziz, Cabannes (2024).

    x: (B, T) tokens  →  h = W_E[x] + W_pos                        (B, T, d), d = 2 by default
    for each of the n_layers − 1 mixing layers:
        h = h + Σ_heads softmax(q_t·k_s / √d) v_s                     (token queries, full attention)
        h = h + MLP(norm(h))                                          (if mlp)
    read-out layer: z = Σ_heads softmax(q_h·norm(h)_s / √d) V_h norm(h)_s   (one learned query per head)
    z = z + MLP(norm(z))                                              (if mlp)
    logits = z @ W_Eᵀ (tied, as in the paper's code) or z @ W_U

With n_layers = 1, one head, RMS norm, MLP and tied output this is the paper's model
(facebookresearch/pal, src/factorization/models/softmax_model.py). Every intermediate is
returned by `forward(..., taps=True)` under stable names: `embed`, `layer{i}.attn`,
`layer{i}.resid`, `readout.attn` (B, H, T), `readout.pre_mlp`, `readout.out`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x / ((x ** 2).mean(dim=-1, keepdim=True).sqrt() + 1e-5)


def _layer(x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, x.shape[-1:])


NORMS = {"rms": _rms, "layer": _layer, "none": lambda x: x}


class _MLP(nn.Module):
    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class ClusteringTransformer(nn.Module):
    # The axes that index each weight's output units (Li et al.'s filters; analysis/landscape.py).
    # Embeddings and W_U are stored (in, out); mix_QKV's unit is (q/k/v, head, e), the read-out
    # query's a head, the value's the output coordinate e. A tied W_E is also the unembedding,
    # whose units would be its rows: it counts as the embedding it is first.
    OUTPUT_AXES = {"W_E": (1,), "W_pos": (1,), "mix_QKV": (0, 1, 3), "query": (0,), "value": (2,), "W_U": (1,)}

    def __init__(self, p: int, T: int, d: int = 2, n_layers: int = 1, n_heads: int = 1, norm: str = "rms",
                 mlp: bool = True, ffn_dim: int = 32, tie_output: bool = True, init_scale: float = 1.0):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
        if n_layers < 1:
            raise ValueError("the model needs at least the read-out layer (n_layers ≥ 1)")
        self.d, self.n_heads, self.norm = d, n_heads, NORMS[norm]
        self.W_E = nn.Parameter(torch.randn(p, d) * init_scale)                    # (p, d)
        self.W_pos = nn.Parameter(torch.randn(T, d) * init_scale)                  # (T, d)
        s = init_scale / math.sqrt(d)
        self.mix_QKV = nn.ParameterList(nn.Parameter(torch.randn(3, n_heads, d, d) * s) for _ in range(n_layers - 1))
        self.mix_mlp = nn.ModuleList(_MLP(d, ffn_dim) for _ in range(n_layers - 1)) if mlp else None
        self.query = nn.Parameter(torch.randn(n_heads, d) * s)                    # one learned query per head
        self.value = nn.Parameter(torch.randn(n_heads, d, d) * s)
        self.mlp = _MLP(d, ffn_dim) if mlp else None
        self.W_U = None if tie_output else nn.Parameter(torch.randn(d, p) * s)

    def forward(self, x: torch.Tensor, taps: bool = False):
        cache = {}
        h = self.W_E[x] + self.W_pos                                               # (B, T, d)
        cache["embed"] = h
        for i, QKV in enumerate(self.mix_QKV):
            n = self.norm(h)
            q, k, v = torch.einsum("btd,chde->cbhte", n, QKV)                     # each (B, H, T, d)
            attn = (q @ k.transpose(-1, -2) / math.sqrt(self.d)).softmax(-1)     # (B, H, T, T)
            h = h + (attn @ v).sum(dim=1)
            if self.mix_mlp is not None:
                h = h + self.mix_mlp[i](self.norm(h))
            cache[f"layer{i}.attn"], cache[f"layer{i}.resid"] = attn, h
        n = self.norm(h)
        attn = (torch.einsum("hd,btd->bht", self.query, n) / math.sqrt(self.d)).softmax(-1)   # (B, H, T)
        z = torch.einsum("bht,btd,hde->be", attn, n, self.value)                  # (B, d)
        cache["readout.attn"], cache["readout.pre_mlp"] = attn, z
        logits, cache["readout.out"] = self._head(z)
        return (logits, cache) if taps else logits

    def _head(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mlp is not None:
            z = z + self.mlp(self.norm(z))
        return z @ (self.W_E.T if self.W_U is None else self.W_U), z

    def head(self, z: torch.Tensor) -> torch.Tensor:
        """Logits for read-out embeddings z (…, d): how the model classifies any point of the plane."""
        return self._head(z)[0]
