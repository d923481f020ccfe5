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

    def _residual_and_hidden(self, a, b):
        eq = torch.full_like(a, self.p)
        tokens = torch.stack([a, b, eq], dim=1)                                # (B, 3)
        x = self.W_E[tokens] + self.W_pos                                      # (B, 3, d)
        # Only the `=` position feeds the logits and the MLP neurons, and causal attention from the
        # last position sees all three, so the queries (and the outputs) of `a` and `b` are never
        # needed: this is the full model's output at `=`, without its 3×3 attention per pair
        # (many tiny batched matmuls: 2–3× slower on a CPU). The parameters are the full model's.
        W_q, W_k, W_v = self.W_QKV                                             # each (H, d, dh)
        q = torch.einsum("bd,hde->bhe", x[:, -1], W_q)                         # (B, H, dh)
        k = torch.einsum("btd,hde->bthe", x, W_k)                              # (B, 3, H, dh)
        v = torch.einsum("btd,hde->bthe", x, W_v)                              # (B, 3, H, dh)
        scores = (q[:, None] * k).sum(-1) / math.sqrt(self.d_head)             # (B, 3, H)
        z = (scores.softmax(1)[..., None] * v).sum(1)                          # (B, H, dh)
        resid = x[:, -1] + torch.einsum("bhe,hed->bd", z, self.W_O)            # (B, d) at '='
        hidden = torch.relu(resid @ self.W_in + self.b_in)                     # (B, d_mlp)
        return resid, hidden

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

    def token_embedding(self) -> torch.Tensor:
        """The embeddings of the p number tokens, (p, d_model), without the `=` token's row.

        There are no per-neuron input weights: the neurons that reach the logits are those at `=`,
        where a and b arrive only through attention, so W_E @ W_in is a path the model does not have. The neurons are
        described from their activations (analysis/neurons.py)."""
        return self.W_E[: self.p]

    def output_weights(self) -> torch.Tensor:
        """Each neuron's direct effect on the logits: W_out @ W_U, (d_mlp, p)."""
        return self.W_out @ self.W_U
