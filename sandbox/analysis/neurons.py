"""What each hidden neuron computes, in the Fourier basis of Z_p: the views' per-neuron description.

For every neuron: its energy at each frequency k, its dominant k and the share of its energy that k
holds, and three phases at that k (with the convention of `fourier.phase_at`, x ≈ A cos(2πk x/p + φ)):

- φ_a, φ_b: the neuron's wave in a alone and in b alone;
- φ_{a+b}: its wave in a + b, the term the logits need (a read-out cos(2πk c/p + ψ) turns
  cos(w(a+b) + φ_{a+b}) into cos(w(a+b−c)) when ψ = φ_{a+b}).

Two sources give this description:

- `from_input_weights`: for a network whose neurons read the inputs directly, act(W_a[a] + W_b[b]),
  from the columns of W_a and W_b. For a quadratic activation the (a + b) wave of
  (A cos(wa + φ_a) + B cos(wb + φ_b))² has phase φ_a + φ_b, so φ_{a+b} is their sum.
- `from_activations`: from the neurons' activations over the p × p grid of inputs, as Nanda et al.
  (2023) analyse their transformer, whose MLP neurons see a and b only through attention at the `=`
  position: no weight matrix describes them (W_E·W_in is a path the model does not have).
  The energies are Nanda's (`progress.neuron_frequency_energy`: the 8 terms of the 2-D Fourier
  transform at k over the whole variance), so a neuron's share is the fraction of its variance
  that its frequency explains, and its row sums to at most 1 (the rest mixes two frequencies).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fourier, progress


@dataclass(frozen=True)
class NeuronFourier:
    """Per neuron n of d, over the K = (p−1)/2 frequencies."""
    energy: np.ndarray       # (d, K): energy at k = 1 … K
    total: np.ndarray        # (d,): what the energies are shares of
    dominant: np.ndarray     # (d,) int: the strongest k, 1 … K (1 for a neuron with no energy)
    phase_a: np.ndarray      # (d,): φ_a at the dominant k, in (−π, π]
    phase_b: np.ndarray      # (d,): φ_b
    phase_sum: np.ndarray    # (d,): φ_{a+b}

    @property
    def fraction(self) -> np.ndarray:
        """(d, K): energy / total, 0 for a neuron with no energy."""
        return self.energy / np.maximum(self.total, 1e-30)[:, None]

    @property
    def share(self) -> np.ndarray:
        """(d,): the dominant frequency's fraction."""
        return self.fraction[np.arange(len(self.dominant)), self.dominant - 1]


def from_input_weights(W_a: np.ndarray, W_b: np.ndarray) -> NeuronFourier:
    """W_a, W_b (p, d): each neuron's input weights from a and from b. Energies over the two
    columns together; the total is their energy over all frequencies (the constant left out)."""
    energy = fourier.frequency_energy_per_column(W_a) + fourier.frequency_energy_per_column(W_b)
    dominant, _ = fourier.dominant_frequency(energy)
    phase_a, phase_b = fourier.phase_at(W_a, dominant), fourier.phase_at(W_b, dominant)
    return NeuronFourier(energy, energy.sum(axis=1), dominant, phase_a, phase_b,
                         fourier.wrap_phase(phase_a + phase_b))


def sum_profile(H: np.ndarray) -> np.ndarray:
    """H (p, p, d) over (a, b) → (p, d): row c sums H over the pairs with a + b ≡ c (mod p).

    Its DFT at k is the 2-D DFT of H at (k, k), Σ_{a,b} H[a, b] e^{−2πik(a+b)/p}: the wave in a + b.
    """
    p = H.shape[0]
    a = np.arange(p)
    b_for = (np.arange(p)[:, None] - a[None, :]) % p             # (c, a) → b with a + b ≡ c
    return H[a[None, :], b_for].sum(axis=1)                      # (c, d)


def from_activations(hidden: np.ndarray, p: int, energy: np.ndarray | None = None,
                     total: np.ndarray | None = None) -> NeuronFourier:
    """hidden (p², d), rows a-major over the grid (index a·p + b). `energy, total`: the result of
    `progress.neuron_frequency_energy(hidden, p)` when the caller already has it."""
    if energy is None or total is None:
        energy, total = progress.neuron_frequency_energy(hidden, p)
    k, _ = progress.neuron_frequencies(energy, total)
    dominant = np.where(k > 0, k, 1)                            # a dead neuron: k = 1 with share 0
    H = np.asarray(hidden, dtype=np.float64).reshape(p, p, -1)
    H = H - H.mean(axis=(0, 1), keepdims=True)
    return NeuronFourier(energy, total, dominant,
                         fourier.phase_at(H.mean(axis=1), dominant),   # the wave in a, averaged over b
                         fourier.phase_at(H.mean(axis=0), dominant),
                         fourier.phase_at(sum_profile(H), dominant))
