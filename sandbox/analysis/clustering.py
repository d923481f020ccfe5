"""Metrics for the clustering-heads study: where attention goes, and how well sequence
embeddings cluster by their target. Pure numpy."""
from __future__ import annotations

import numpy as np


def attention_mass_on(attention: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean attention each head puts on the masked positions.

    attention: (n, H, T) read-out weights (each row sums to 1); mask: (T,) bool → (H,).
    """
    return attention[..., np.asarray(mask, dtype=bool)].sum(axis=-1).mean(axis=0)


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


def loss_spikes(losses: np.ndarray, factor: float = 3.0, window: int = 20) -> np.ndarray:
    """Indices i where losses[i] > factor × median(losses[i − window : i]) (needs a full window)."""
    losses = np.asarray(losses, dtype=float)
    hits = [i for i in range(window, len(losses)) if losses[i] > factor * np.median(losses[i - window:i])]
    return np.asarray(hits, dtype=int)


def per_class_accuracy(predictions: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes,) accuracy per true label; NaN for a class with no examples."""
    correct = np.bincount(labels, weights=(predictions == labels).astype(float), minlength=n_classes)
    counts = np.bincount(labels, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, correct / counts, np.nan)
