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


# Curricula for training batches; the test set always holds the full task.
CURRICULA = ("none", "k grows", "easy first")


def curriculum_level(kind: str, step: int, steps: int, k: int) -> int:
    """How much of the task a curriculum shows at `step`: 1 at the start, k (the full task)
    from `steps` on, in k − 1 equal stages. "none" is always at k.

    k grows: the label sums the first `level` positions of S.
    easy first: only sequences with at most `level` non-zero tokens in S.
    """
    if kind not in CURRICULA:
        raise ValueError(f"unknown curriculum {kind!r}; choose one of {', '.join(CURRICULA)}")
    if kind == "none" or k <= 1:
        return k
    return min(k, 1 + step * (k - 1) // max(steps, 1))


def restrict_to_level(task: SparseSumTask, x, level: int):
    """Sequences (numpy or torch, (n, T)) with the positions of S beyond the first `level` set to 0,
    and their labels: the "k grows" curriculum's version of a batch."""
    x = x.clone() if hasattr(x, "clone") else x.copy()
    x[:, list(task.S[level:])] = 0
    return x, x[:, list(task.S)].sum(1) % task.p
