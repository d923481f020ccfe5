"""How well an associative memory recalls: the error weighted by how often each token comes,
and the power law it follows in the memory size."""
from __future__ import annotations

import numpy as np


def zipf_error(correct: np.ndarray, probabilities: np.ndarray) -> float:
    """Σ_x p(x) · 1[x is recalled wrongly]: the chance that a fresh sample is answered wrongly."""
    return float(np.sum(np.asarray(probabilities) * ~np.asarray(correct, dtype=bool)))


def power_law_exponent(sizes, errors) -> float:
    """Slope of log(error) against log(size) by least squares (e.g. −1 for error ∝ 1/d); nan when
    fewer than two errors are positive."""
    sizes, errors = np.asarray(sizes, dtype=float), np.asarray(errors, dtype=float)
    keep = errors > 0
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(sizes[keep]), np.log(errors[keep]), 1)[0])
