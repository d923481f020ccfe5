"""Sparse modular addition (Odonnat, Bouaziz, Cabannes 2024, "Clustering Head").

A sequence x_1 … x_T of tokens in Z_p; the label is the sum over a fixed subset S of
positions, y = Σ_{t∈S} x_t mod p. The paper's code (facebookresearch/pal,
src/factorization/data/modular.py) uses p = 2, T = 12, S = the first k = 5 positions, and
independent train and test sets of 2048 sequences each.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SparseSumTask:
    p: int
    T: int
    S: tuple[int, ...]   # 0-based positions that count, sorted

    def __post_init__(self):
        if self.p < 2:
            raise ValueError(f"p must be at least 2, got {self.p}")
        if self.T < 1:
            raise ValueError(f"the sequence length T must be at least 1, got {self.T}")
        if not self.S:
            raise ValueError("the subset S of positions must not be empty")
        if len(set(self.S)) != len(self.S) or not all(0 <= t < self.T for t in self.S):
            raise ValueError(f"S = {list(self.S)} must hold distinct positions in 0…{self.T - 1}")

    @property
    def mask(self) -> np.ndarray:
        """(T,) bool: True at the positions in S."""
        m = np.zeros(self.T, dtype=bool)
        m[list(self.S)] = True
        return m

    def target(self, x: np.ndarray) -> np.ndarray:
        """(n, T) tokens → (n,) labels."""
        return x[:, list(self.S)].sum(axis=1) % self.p

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.integers(0, self.p, size=(n, self.T), dtype=np.int64)
        return x, self.target(x)


def sparse_sum_task(p: int, T: int, k: int | None = None, S: list[int] | None = None,
                    seed: int | None = None) -> SparseSumTask:
    """Give S explicitly, or k: the first k positions (the paper's choice), or with `seed`
    k positions drawn at random."""
    if S is None:
        if k is None:
            raise ValueError("give either S (positions) or k (how many)")
        if not 1 <= k <= T:
            raise ValueError(f"|S| = k must lie in 1…T = {T}, got {k}")
        S = list(range(k)) if seed is None else list(np.random.default_rng(seed).choice(T, size=k, replace=False))
    return SparseSumTask(p=p, T=T, S=tuple(sorted(int(t) for t in S)))
