"""Metrics for the clustering-heads study: where attention goes, and how well sequence
embeddings cluster by their target. Pure numpy."""
from __future__ import annotations

from collections import deque

import numpy as np


def attention_mass_on(attention: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean attention each head puts on the masked positions.

    attention: (n, H, T) read-out weights (each row sums to 1); mask: (T,) bool → (H,).
    """
    return attention[..., np.asarray(mask, dtype=bool)].sum(axis=-1).mean(axis=0)


def position_influence(readout, x: np.ndarray, p: int) -> np.ndarray:
    """(T,) mean distance the read-out moves when one position's token changes.

    readout: callable (n, T) int tokens → (n, d) embeddings; every token of position t is
    shifted by +1 mod p in turn. Unlike attention mass, this sees every route by which a position
    can reach the read-out (attention weights *and* the values it averages), so a model that
    silences positions outside S through its positional embeddings still scores ~0 there.
    """
    x = np.asarray(x)
    base = np.asarray(readout(x), dtype=float)
    influence = np.empty(x.shape[1])
    for t in range(x.shape[1]):
        shifted = x.copy()
        shifted[:, t] = (shifted[:, t] + 1) % p
        influence[t] = np.linalg.norm(np.asarray(readout(shifted), dtype=float) - base, axis=-1).mean()
    return influence


def share_on(values: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of a non-negative per-position quantity that falls on the masked positions."""
    values = np.asarray(values, dtype=float)
    total = values.sum()
    return float(values[np.asarray(mask, dtype=bool)].sum() / total) if total > 0 else float("nan")


def cluster_quality(embeddings: np.ndarray, labels: np.ndarray) -> float:
    """Between-class over within-class variance (Fisher's ratio) of points grouped by label.

    between = mean over points of ‖μ_y − μ‖², within = mean of ‖x − μ_y‖². Large when points
    with equal labels collapse to well separated clusters; about 0 when labels are unrelated.
    """
    x = np.asarray(embeddings, dtype=float)
    labels = np.asarray(labels)
    overall = x.mean(axis=0)
    classes, inverse = np.unique(labels, return_inverse=True)
    means = np.stack([x[inverse == c].mean(axis=0) for c in range(len(classes))])
    between = ((means[inverse] - overall) ** 2).sum(axis=1).mean()
    within = ((x - means[inverse]) ** 2).sum(axis=1).mean()
    return float(between / max(within, 1e-12))


class SpikeDetector:
    """Online: a loss is a spike when it exceeds `factor` × the median m of the `window` losses
    before it and m + `min_rise` (needs a full window). The absolute floor keeps minibatch noise
    near zero loss (one misclassified sequence among 32 can triple a loss of 0.005) from counting.
    Cheap enough to run on the training thread every step."""

    def __init__(self, factor: float = 3.0, window: int = 20, min_rise: float = 0.0):
        self.factor, self.window, self.min_rise = factor, window, min_rise
        self.recent: deque[float] = deque(maxlen=window)

    def update(self, loss: float) -> bool:
        median = float(np.median(self.recent)) if len(self.recent) == self.window else float("inf")
        spike = loss > self.factor * median and loss > median + self.min_rise
        self.recent.append(float(loss))
        return spike


def loss_spikes(losses: np.ndarray, factor: float = 3.0, window: int = 20, min_rise: float = 0.0) -> np.ndarray:
    """Indices i where losses[i] > factor × median(losses[i − window : i]) and > that median +
    min_rise (needs a full window)."""
    detector = SpikeDetector(factor, window, min_rise)
    return np.asarray([i for i, loss in enumerate(np.asarray(losses, dtype=float)) if detector.update(loss)],
                      dtype=int)


def per_class_accuracy(predictions: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes,) accuracy per true label; NaN for a class with no examples."""
    correct = np.bincount(labels, weights=(predictions == labels).astype(float), minlength=n_classes)
    counts = np.bincount(labels, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, correct / counts, np.nan)
