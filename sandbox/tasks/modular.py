"""Modular arithmetic tables: every pair (a, b) in Z_p², labelled by an operation mod p."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# Each takes integer arrays a, b and the modulus p and returns the label in [0, p).
OPERATIONS: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    "add": lambda a, b, p: (a + b) % p,
    "sub": lambda a, b, p: (a - b) % p,
    "mul": lambda a, b, p: (a * b) % p,
    "square_sum": lambda a, b, p: (a * a + b * b) % p,
}
OPERATION_SYMBOLS = {"add": "a + b", "sub": "a − b", "mul": "a · b", "square_sum": "a² + b²"}


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))


@dataclass(frozen=True)
class ModularTable:
    """All p² pairs in row-major order: pair index i = a·p + b."""

    p: int
    a: np.ndarray          # (p²,) int64
    b: np.ndarray          # (p²,) int64
    y: np.ndarray          # (p²,) int64, the label
    train: np.ndarray      # (n_train,) pair indices
    test: np.ndarray       # (p² − n_train,) pair indices

    @property
    def is_train_grid(self) -> np.ndarray:
        """(p, p) bool: True where the pair is in the training split."""
        mask = np.zeros(self.p * self.p, dtype=bool)
        mask[self.train] = True
        return mask.reshape(self.p, self.p)


def modular_table(p: int, operation: str = "add", train_fraction: float = 0.3, seed: int = 0) -> ModularTable:
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; choose one of {', '.join(OPERATIONS)}")
    if p < 2:
        raise ValueError(f"p must be at least 2, got {p}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train fraction must lie in (0, 1), got {train_fraction}")
    a, b = np.divmod(np.arange(p * p, dtype=np.int64), p)
    y = OPERATIONS[operation](a, b, p).astype(np.int64)
    order = np.random.default_rng(seed).permutation(p * p)
    n_train = min(max(1, int(round(train_fraction * p * p))), p * p - 1)
    return ModularTable(p=p, a=a, b=b, y=y, train=np.sort(order[:n_train]), test=np.sort(order[n_train:]))
