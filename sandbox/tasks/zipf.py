"""Token → class associations with Zipf-distributed tokens: p(x) ∝ x^(−α) over x = 1 … n, and
a fixed random class f*(x) per token (Cabannes et al. 2024)."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ZipfAssociations:
    probabilities: torch.Tensor   # (n,) p(x), most frequent token first
    labels: torch.Tensor          # (n,) f*(x)

    @classmethod
    def make(cls, n_tokens: int, n_classes: int, alpha: float, seed: int) -> "ZipfAssociations":
        if not alpha > 0:
            raise ValueError(f"the Zipf exponent must be > 0, got {alpha}")
        generator = torch.Generator().manual_seed(seed)
        p = torch.arange(1, n_tokens + 1, dtype=torch.float64) ** -alpha
        return cls((p / p.sum()).float(), torch.randint(0, n_classes, (n_tokens,), generator=generator))

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = torch.multinomial(self.probabilities, batch, replacement=True, generator=generator)
        return tokens, self.labels[tokens]
