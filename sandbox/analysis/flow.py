"""Metrics for 2-D flow matching: how close generated points are to the data, and how the
particles travel. Pure numpy (+ scipy's assignment solver), on ≤ a few thousand points."""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cdist(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ (V-statistic): 0 for equal samples, grows with the
    mismatch; sensitive to missing modes, cheaper than W2."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(2 * _pairwise(x, y).mean() - _pairwise(x, x).mean() - _pairwise(y, y).mean())


def wasserstein2(x: np.ndarray, y: np.ndarray) -> float:
    """Exact 2-Wasserstein distance between two equal-size point sets (uniform weights): the
    optimal matching by the Hungarian algorithm on squared distances. Keep n ≤ ~2000."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) != len(y):
        raise ValueError(f"exact W2 here needs equal-size sets, got {len(x)} and {len(y)}")
    cost = cdist(x, y, "sqeuclidean")
    rows, cols = linear_sum_assignment(cost)
    return float(np.sqrt(cost[rows, cols].mean()))


def ot_pairing(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Minibatch optimal-transport coupling: the permutation of x1 that pairs it with x0 at the
    least total squared distance (x1[perm[i]] goes with x0[i])."""
    rows, cols = linear_sum_assignment(cdist(np.asarray(x0, dtype=float), np.asarray(x1, dtype=float), "sqeuclidean"))
    return cols[np.argsort(rows)]


def straightness(paths: np.ndarray) -> float:
    """Mean over particles of ‖x₁ − x₀‖ / path length, for paths (steps + 1, n, 2): 1 for
    straight lines, smaller for curved paths."""
    paths = np.asarray(paths, dtype=float)
    length = np.linalg.norm(np.diff(paths, axis=0), axis=-1).sum(0)
    chord = np.linalg.norm(paths[-1] - paths[0], axis=-1)
    return float(np.mean(np.where(length > 1e-12, chord / np.maximum(length, 1e-12), 1.0)))


def crossing_fraction(paths: np.ndarray) -> float:
    """Fraction of pairs of particles whose drawn paths (polylines) cross each other: the
    entanglement of the flow. Paths (steps + 1, n, 2); costs O(n² steps²), so pass ≤ ~150 paths."""
    paths = np.asarray(paths, dtype=float)
    n = paths.shape[1]
    if n < 2:
        return 0.0
    a, b = paths[:-1], paths[1:]                                   # segments (steps, n, 2)
    # Orientation tests between every segment of particle i and every segment of particle j.
    p, r = a.transpose(1, 0, 2), (b - a).transpose(1, 0, 2)       # (n, steps, 2)
    P, R = p[:, None, :, None, :], r[:, None, :, None, :]         # i, ·, s, ·
    Q, S = p[None, :, None, :, :], r[None, :, None, :, :]         # ·, j, ·, u
    cross = lambda u, v: u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]  # noqa: E731
    denom = cross(R, S)
    qp = Q - P
    with np.errstate(divide="ignore", invalid="ignore"):
        t = cross(qp, S) / denom
        u = cross(qp, R) / denom
    # Half-open [0, 1): a crossing exactly at a vertex counts once, not zero or two times.
    hits = (np.abs(denom) > 1e-12) & (t >= 0) & (t < 1) & (u >= 0) & (u < 1)
    crossed = hits.any(axis=(2, 3))
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    return float(crossed[upper].mean())


def stranded_fraction(generated: np.ndarray, data: np.ndarray, threshold: float) -> float:
    """Share of generated points farther than `threshold` from every data point (the paper's
    "% bad samples": stranded between modes or off the data)."""
    return float((_pairwise(generated, data).min(axis=1) > threshold).mean())


def matched_coverage(generated: np.ndarray, data: np.ndarray, epsilon: float) -> float:
    """Share of data points matched to a generated point closer than `epsilon`, each generated
    point used at most once (the paper's "coverage", ε = 0.5). Data points are matched greedily
    in their order, each to the first free generated point in range: so a model that piles its
    samples onto a few data points covers only as many data points as it has samples there,
    where "some sample within ε" would count a whole cluster as covered."""
    close = _pairwise(data, generated) < epsilon                      # (n_data, n_generated)
    taken = np.zeros(close.shape[1], dtype=bool)
    matched = 0
    for row in close[close.any(axis=1)]:
        free = np.flatnonzero(row & ~taken)
        if len(free):
            taken[free[0]] = True
            matched += 1
    return matched / len(close)


def mode_shares(generated: np.ndarray, modes: np.ndarray) -> np.ndarray:
    """(m,) share of generated points whose nearest mode centre is each mode."""
    nearest = _pairwise(generated, modes).argmin(axis=1)
    return np.bincount(nearest, minlength=len(modes)) / len(generated)


def mode_coverage(generated: np.ndarray, modes: np.ndarray, weights: np.ndarray, at_least: float = 0.2) -> float:
    """Fraction of modes that receive at least `at_least` × their true mass (our measure; the
    paper's coverage counts data points instead: matched_coverage)."""
    return float((mode_shares(generated, modes) >= at_least * np.asarray(weights)).mean())


def mode_divergence(generated: np.ndarray, modes: np.ndarray, weights: np.ndarray) -> float:
    """KL(true mode masses ‖ generated mode shares): 0 when every mode gets its share."""
    shares = np.clip(mode_shares(generated, modes), 1e-10, 1)
    w = np.asarray(weights, dtype=float)
    return float((w * np.log(np.clip(w, 1e-10, 1) / shares)).sum())
