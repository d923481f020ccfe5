"""Outer-product associative memories (Cabannes, Dohmatob & Bietti, "Scaling laws for
associative memories", ICLR 2024; code: github.com/facebookresearch/pal).

Token x has a fixed random embedding e_x ∈ R^d, class y a fixed random unembedding u_y ∈ R^d;
the memory is a learned d × d matrix W and predicts argmax_y u_yᵀ W e_x. Several memories of
different sizes d live in one module so they train side by side on the same batches: the
error against d at any step is the scaling law in the making.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class AssociativeMemories(nn.Module):
    OUTPUT_AXES = {"memories": (1,)}      # each W is applied as e_x @ W: (in, out)

    def __init__(self, n_tokens: int, n_classes: int, dims: tuple[int, ...]):
        super().__init__()
        self.dims = tuple(dims)
        self.memories = nn.ParameterList([nn.Parameter(torch.randn(d, d) / math.sqrt(d)) for d in dims])
        for d in dims:    # fixed random embeddings: buffers, so they move with .to() and are saved
            self.register_buffer(f"embed_{d}", torch.randn(n_tokens, d) / math.sqrt(d))
            self.register_buffer(f"unembed_{d}", torch.randn(d, n_classes) / math.sqrt(d))

    def forward(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Logits (batch, n_classes) of every memory, smallest d first."""
        return [getattr(self, f"embed_{d}")[tokens] @ w @ getattr(self, f"unembed_{d}")
                for d, w in zip(self.dims, self.memories)]
