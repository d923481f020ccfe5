"""Patterns to store in a Hopfield network: random ±1 vectors, scikit-learn's bundled 8×8
digits binarized (offline), or one the user draws. Each comes with the (rows, cols) shape its
units are shown in."""
from __future__ import annotations

import math

import numpy as np

DATASETS = ("random", "digits")


def image_shape(n_units: int) -> tuple[int, int]:
    """The most square rows × cols grid that holds exactly n_units."""
    rows = int(math.isqrt(n_units))
    while n_units % rows:
        rows -= 1
    return rows, n_units // rows


def digit_patterns(count: int, threshold: float = 8.0) -> np.ndarray:
    """(count, 64) ±1: the digits 0, 1, …, 9, then the next example of each, … (pixels > threshold
    of 16 are +1). Digits resemble each other, so a classical net holds far fewer of them than
    random patterns."""
    from sklearn.datasets import load_digits     # imported here: only this dataset needs it

    digits = load_digits()
    if count > len(digits.data):
        raise ValueError(f"there are {len(digits.data)} digits; asked for {count}")
    # Interleave the classes: 0, 1, …, 9, 0, 1, …
    per_class = [np.flatnonzero(digits.target == d) for d in range(10)]
    order = [idx[i] for i in range(max(map(len, per_class))) for idx in per_class if i < len(idx)]
    images = digits.data[np.asarray(order[:count])]
    return np.where(images > threshold, 1.0, -1.0).astype(np.float32)


def make_patterns(dataset: str, count: int, n_units: int, seed: int) -> np.ndarray:
    """(count, N) ±1 float32 patterns. Digits have N = 64 whatever n_units says."""
    if dataset == "digits":
        return digit_patterns(count)
    if dataset == "random":
        rng = np.random.default_rng(seed)
        return (rng.integers(0, 2, (count, n_units)) * 2 - 1).astype(np.float32)
    raise ValueError(f"unknown patterns {dataset!r}; choose one of {', '.join(DATASETS)}")
