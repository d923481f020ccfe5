"""Two-layer MLP on a pair of tokens (a, b), the grokking model of Gromov (2023)."""
from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = {
    "quadratic": lambda x: x * x,
    "relu": torch.relu,
}


class PairMLP(nn.Module):
    """logits = act(W_a[a] + W_b[b]) @ W_out.

    The one-hot input layer is two embedding lookups summed, which equals the dense
    one-hot matmul but costs O(width) per example instead of O(p·width).
    """

    # Every weight is stored (in, out), for `x @ W`: a neuron (or a logit) is a column.
    OUTPUT_AXES = {"W_a": (1,), "W_b": (1,), "W_out": (1,)}

    def __init__(self, p: int, width: int, activation: str = "quadratic", init_scale: float = 1.0):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        self.activation = activation
        self._act = ACTIVATIONS[activation]
        std = init_scale / math.sqrt(width)
        self.W_a = nn.Parameter(torch.randn(p, width) * std)     # (p, width)
        self.W_b = nn.Parameter(torch.randn(p, width) * std)     # (p, width)
        self.W_out = nn.Parameter(torch.randn(width, p) * std)   # (width, p)

    def hidden(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Post-activation neurons, (batch, width)."""
        return self._act(self.W_a[a] + self.W_b[b])

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.hidden(a, b) @ self.W_out                     # (batch, p)

    def forward_with_hidden(self, a, b) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, hidden) from one pass, for observation."""
        hidden = self.hidden(a, b)
        return hidden @ self.W_out, hidden

    def input_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token input weights for operand a and operand b, each (p, width)."""
        return self.W_a, self.W_b

    def output_weights(self) -> torch.Tensor:
        """Per-neuron output weights over the p classes, (width, p)."""
        return self.W_out
