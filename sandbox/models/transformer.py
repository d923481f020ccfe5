"""One-layer transformer of Nanda et al. (2023), "Progress measures for grokking".

Tokens `a b =` (the `=` token has id p), learned positional embeddings, attention
then a ReLU MLP, no LayerNorm, logits read at the last position.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class GrokTransformer(nn.Module):
    # The axes that index each weight's output units (Li et al.'s filters; analysis/landscape.py):
    # the weights are stored (in, out) for `x @ W`, and in the einsums the unit of W_QKV is
    # (q/k/v, head, e) and that of W_O the residual coordinate d.
    OUTPUT_AXES = {"W_E": (1,), "W_pos": (1,), "W_QKV": (0, 1, 3), "W_O": (2,), "W_in": (1,), "W_out": (1,),
                   "W_U": (1,)}

    def __init__(self, p: int, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512, init_scale: float = 1.0):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by the number of heads ({n_heads})")
        self.p, self.n_heads, self.d_head = p, n_heads, d_model // n_heads
        s = init_scale / math.sqrt(d_model)
        self.W_E = nn.Parameter(torch.randn(p + 1, d_model) * s)               # (vocab, d)
        self.W_pos = nn.Parameter(torch.randn(3, d_model) * s)                 # (3, d)
        self.W_QKV = nn.Parameter(torch.randn(3, n_heads, d_model, self.d_head) * s)
        self.W_O = nn.Parameter(torch.randn(n_heads, self.d_head, d_model) * s)
        self.W_in = nn.Parameter(torch.randn(d_model, d_mlp) * s)              # (d, d_mlp)
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = nn.Parameter(torch.randn(d_mlp, d_model) * init_scale / math.sqrt(d_mlp))
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.W_U = nn.Parameter(torch.randn(d_model, p) * s)                   # (d, p)
        self.register_buffer("causal", torch.tril(torch.ones(3, 3, dtype=torch.bool)), persistent=False)

    def _residual_and_hidden(self, a, b):
        eq = torch.full_like(a, self.p)
        tokens = torch.stack([a, b, eq], dim=1)                                # (B, 3)
        x = self.W_E[tokens] + self.W_pos                                      # (B, 3, d)
        q, k, v = torch.einsum("btd,chde->cbhte", x, self.W_QKV)               # each (B, H, 3, dh)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)              # (B, H, 3, 3)
        scores = scores.masked_fill(~self.causal, float("-inf"))
        z = scores.softmax(-1) @ v                                             # (B, H, 3, dh)
        x = x + torch.einsum("bhte,hed->btd", z, self.W_O)
        hidden = torch.relu(x[:, -1] @ self.W_in + self.b_in)                  # (B, d_mlp) at '='
        return x[:, -1], hidden

    def hidden(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """MLP neurons at the `=` position, (batch, d_mlp)."""
        return self._residual_and_hidden(a, b)[1]

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.forward_with_hidden(a, b)[0]

    def forward_with_hidden(self, a, b) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, p), MLP neurons at `=` (B, d_mlp)) from one pass."""
        resid, hidden = self._residual_and_hidden(a, b)
        resid = resid + hidden @ self.W_out + self.b_out
        return resid @ self.W_U, hidden

    def input_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Each neuron's direct input weights from a token: W_E @ W_in, (p, d_mlp), for a and b alike."""
        direct = self.W_E[: self.p] @ self.W_in
        return direct, direct

    def output_weights(self) -> torch.Tensor:
        """Each neuron's direct effect on the logits: W_out @ W_U, (d_mlp, p)."""
        return self.W_out @ self.W_U
