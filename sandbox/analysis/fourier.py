"""Fourier analysis on Z_p: how much of a weight matrix lives at each frequency.

Real Fourier basis of Z_p (p odd): the constant, then cos(2πkx/p) and sin(2πkx/p) for
k = 1 … (p−1)/2, each scaled to unit norm, so the basis is orthonormal and energies add up.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


def n_frequencies(p: int) -> int:
    if p < 3 or p % 2 == 0:
        raise ValueError(f"the real Fourier basis used here needs an odd p ≥ 3, got {p}")
    return (p - 1) // 2


@lru_cache(maxsize=16)
def fourier_basis(p: int) -> np.ndarray:
    """(p, p) orthonormal rows: [const, cos 1, sin 1, cos 2, sin 2, …]. Cached, read-only."""
    K = n_frequencies(p)
    x = np.arange(p)
    rows = [np.ones(p) / np.sqrt(p)]
    for k in range(1, K + 1):
        angle = 2 * np.pi * k * x / p
        rows.append(np.cos(angle) * np.sqrt(2 / p))
        rows.append(np.sin(angle) * np.sqrt(2 / p))
    basis = np.stack(rows)
    basis.setflags(write=False)
    return basis


def frequency_energy_per_column(W: np.ndarray) -> np.ndarray:
    """W (p, d) → (d, K): energy ‖F_k‖² = cos² + sin² coefficient of each column at k = 1…K."""
    p = W.shape[0]
    coeffs = fourier_basis(p) @ W                       # (p, d)
    K = n_frequencies(p)
    pairs = coeffs[1:].reshape(K, 2, -1)                # (K, {cos, sin}, d)
    return (pairs ** 2).sum(axis=1).T                   # (d, K)


def frequency_energy(W: np.ndarray) -> np.ndarray:
    """W (p, d) → (K,): energy at k = 1…K summed over the columns (the constant is left out)."""
    return frequency_energy_per_column(W).sum(axis=0)


def top_share(energy: np.ndarray, fraction: float = 0.1) -> float:
    """Share of total energy held by the top `fraction` of frequencies (at least one)."""
    total = float(energy.sum())
    if total <= 0:
        return 0.0
    n = max(1, int(np.ceil(fraction * len(energy))))
    return float(np.sort(energy)[::-1][:n].sum() / total)


def top_share_per_column(per_column: np.ndarray, fraction: float = 0.1) -> np.ndarray:
    """top_share of each row of a (d, K) energy matrix: a neuron's own concentration."""
    total = per_column.sum(axis=1)
    n = max(1, int(np.ceil(fraction * per_column.shape[1])))
    top = np.sort(per_column, axis=1)[:, ::-1][:, :n].sum(axis=1)
    return np.where(total > 0, top / np.maximum(total, 1e-30), 0.0)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 when all equal, → 1 when one holds everything."""
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    if n == 0 or v.sum() <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * v).sum()) / (n * v.sum()) - (n + 1) / n)


def key_frequencies(energy: np.ndarray, top: int = 5) -> np.ndarray:
    """Frequencies k (1-based) with the most energy, strongest first."""
    return np.argsort(energy)[::-1][:top] + 1


def dominant_frequency(per_column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(d, K) energies → per column: dominant k (1-based) and its share of the column's energy."""
    total = per_column.sum(axis=1)
    k = per_column.argmax(axis=1)
    share = np.where(total > 0, per_column[np.arange(len(k)), k] / np.maximum(total, 1e-30), 0.0)
    return k + 1, share


def inverse_participation_ratio(per_column: np.ndarray) -> np.ndarray:
    """Σ e_k² / (Σ e_k)² per column: 1 for a single frequency, 1/K for a flat spectrum."""
    total = per_column.sum(axis=1)
    return (per_column ** 2).sum(axis=1) / np.maximum(total ** 2, 1e-30)


def phase_at(W: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Phase φ of column j at frequency k[j], with W[:, j] ≈ A cos(2πk x/p + φ).

    Uses the DFT coefficient c_k = Σ_x W[x] e^{−2πi k x/p} = (A p/2) e^{iφ}; φ in (−π, π].
    """
    p = W.shape[0]
    x = np.arange(p)[:, None]
    c = (W * np.exp(-2j * np.pi * np.asarray(k)[None, :] * x / p)).sum(axis=0)
    return np.angle(c)


def neurons_per_frequency(dominant: np.ndarray, K: int) -> np.ndarray:
    """Histogram (K,) of how many neurons have each k = 1…K as their dominant frequency."""
    return np.bincount(np.asarray(dominant) - 1, minlength=K)[:K]


def wrap_phase(phi: np.ndarray) -> np.ndarray:
    """Wrap to (−π, π]."""
    return np.angle(np.exp(1j * np.asarray(phi)))


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)  # stable log-softmax
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def label_frequency_directions(y: np.ndarray, p: int, ks: np.ndarray) -> np.ndarray:
    """(2·len(ks), p²) orthonormal directions cos/sin(2πk·y/p) over the pair grid.

    For addition y = (a + b) mod p, so these are Nanda's cos(w(a+b)), sin(w(a+b)) terms.
    """
    rows = []
    for k in np.asarray(ks):
        angle = 2 * np.pi * k * y / p
        for row in (np.cos(angle), np.sin(angle)):
            rows.append(row / np.linalg.norm(row))
    return np.stack(rows).astype(np.float32) if rows else np.zeros((0, len(y)), dtype=np.float32)


def restricted_and_excluded_loss(logits: np.ndarray, y: np.ndarray, train: np.ndarray,
                                 p: int, keys: np.ndarray) -> tuple[float, float]:
    """Nanda et al.'s progress measures, from logits on all p² pairs, (p², p), and the key
    frequencies the neurons use (`progress.neuron_key_frequencies`).

    restricted: keep only the key-frequency components of the logits (plus each class's
      mean), loss on all pairs: low once the Fourier circuit alone solves the task.
    excluded: remove the key-frequency components, loss on the training pairs: rises
      when memorisation has been replaced by the circuit.
    """
    D = label_frequency_directions(y, p, keys)          # (2m, p²)
    along = D.T @ (D @ logits)                          # (p², p): projection on the key directions
    mean = logits.mean(axis=0, keepdims=True)
    restricted = _cross_entropy(mean + along, y)
    excluded = _cross_entropy((logits - along)[train], y[train])
    return restricted, excluded
