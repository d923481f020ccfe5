"""Nanda et al. 2023's progress measures for grokking, from the neurons' activations.

"Progress measures for grokking via mechanistic interpretability" (ICLR 2023), §4–5 and the
analysis notebook of mechanistic-interpretability-grokking/progress-measures-paper:

- A neuron's frequency: centre its activations over the p × p grid of inputs (a, b), take their
  2-D Fourier transform F[f, g] (rows of `fourier.fourier_basis` in a and in b) and find the k
  whose 8 terms explain the largest fraction of its variance: the linear terms cos/sin w_k a and
  cos/sin w_k b (F[c_k, 0], F[s_k, 0], F[0, c_k], F[0, s_k]) and the 4 products
  F[{c_k, s_k}, {c_k, s_k}], which together span cos w_k(a ± b) and sin w_k(a ± b).
- The key frequencies are the distinct frequencies of the neurons (the notebook's
  `np.unique(neuron_freqs)`). The paper takes them once, from the final model, and reuses them
  for every checkpoint; a live run has no final model, so we take them from each snapshot: at
  initialisation and during memorisation the neurons spread over many frequencies.
- Restricted and excluded loss project the logits on cos/sin w_k(a + b) for the key k:
  `fourier.restricted_and_excluded_loss`.

Embedding weights are not a substitute: for the transformer a and b reach the neurons only
through attention, and for the MLP the strongest embedding frequencies need not be the ones the
neurons' products (a + b) use.
"""
from __future__ import annotations

import numpy as np

from . import fourier


def neuron_frequency_energy(hidden: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """hidden (p², d), rows a-major over the grid (index a·p + b) → (energy (d, K), total (d,)).

    energy[n, k−1] is the squared norm of neuron n's 8 Fourier terms at k (see the module
    docstring); total[n] its whole variance over the grid (Parseval: Σ of all squared terms of
    the centred activations), so energy / total is Nanda's fraction of variance explained.
    """
    K = fourier.n_frequencies(p)
    d = hidden.shape[1]
    H = np.asarray(hidden, dtype=np.float32).reshape(p, p, d)
    H = H - H.mean(axis=(0, 1), keepdims=True)                   # the (const, const) term is 0
    total = (H.astype(np.float64) ** 2).sum(axis=(0, 1))         # (d,) = Σ of all squared terms
    B = fourier.fourier_basis(p).astype(np.float32)              # (p, p) rows: const, cos 1, sin 1, …
    Fa = np.tensordot(B, H, axes=(1, 0))                         # (f, b, d): transform over a only
    # Only 8 of the p² terms per k are needed, so the transform over b is done just for them.
    along_a = Fa[1:].sum(axis=1) / np.sqrt(p)                    # (2K, d): F[f, const]
    along_b = B[1:] @ Fa[0]                                      # (2K, d): F[const, g]
    pairs = np.matmul(B[1:].reshape(K, 1, 2, p), Fa[1:].reshape(K, 2, p, d))  # (K, f, g, d): F[{c,s}_k, {c,s}_k]
    linear = (along_a.astype(np.float64) ** 2 + along_b.astype(np.float64) ** 2).reshape(K, 2, d).sum(axis=1)
    products = (pairs.astype(np.float64) ** 2).sum(axis=(1, 2))  # (K, d)
    return (linear + products).T, total


def neuron_frequencies(energy: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron: its frequency k (1-based; 0 for a dead neuron, constant over the grid) and the
    fraction of its variance that k's 8 terms explain."""
    live = total > 1e-12 * max(float(total.max()), 1e-300)
    fraction = energy / np.maximum(total, 1e-300)[:, None]
    k = np.where(live, fraction.argmax(axis=1) + 1, 0)
    return k, np.where(live, fraction.max(axis=1), 0.0)


def neuron_key_frequencies(energy: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Nanda's key frequencies: the distinct frequencies of the live neurons, ascending."""
    k, _ = neuron_frequencies(energy, total)
    return np.unique(k[k > 0])
