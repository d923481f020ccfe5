"""Hopfield networks and associative memories, batched: every method takes a batch of states
(B, N) and updates them all at once, on whatever device the stored patterns live on.

- `ClassicalHopfield`: ±1 units, Hebbian W = (1/N) Σ_μ ξ_μ ξ_μᵀ with zero diagonal,
  E = −½ sᵀWs; asynchronous (one unit at a time) or synchronous sign updates.
- `DenseHopfield` (Krotov & Hopfield 2016): E = −Σ_μ F(ξ_μ·s) with F(x) = xⁿ or exp(x); each
  unit takes the sign that gives the lower energy given the others.
- `ModernHopfield` (Ramsauer et al. 2020): continuous states, ξ ← X softmax(β Xᵀ ξ) (or
  sparsemax, Hu et al. 2023), E = −β⁻¹ lse(β Xᵀξ) + ½ ξᵀξ (or −β⁻¹ Ψ*(β Xᵀξ) + ½ ξᵀξ).
  ∇E(ξ) = ξ − update(ξ): an update is a CCCP step, and the energy never rises.

Energies are comparable within one network only. For the exponential dense net the energy is
reported as −log Σ_μ exp(ξ_μ·s), a monotone transform of −Σ exp that does not overflow.
Networks compute in float32 unless given `dtype` (float64 for the checks against autograd).
"""
from __future__ import annotations

import math

import torch

KINDS = ("classical", "dense", "modern", "sparse")


def _sign(x: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
    """sign(x), keeping the previous value where x = 0 (so a fixed point stays fixed)."""
    return torch.where(x > 0, 1.0, torch.where(x < 0, -1.0, previous))


def sparsemax(z: torch.Tensor) -> torch.Tensor:
    """Euclidean projection of each row of z onto the simplex (Martins & Astudillo 2016):
    like softmax, but exactly zero for the entries far below the maximum."""
    sorted_z, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)
    cumulative = sorted_z.cumsum(-1)
    support = (1 + k * sorted_z) > cumulative
    size = support.sum(-1, keepdim=True)
    tau = (cumulative.gather(-1, size - 1) - 1) / size.to(z.dtype)
    return torch.clamp(z - tau, min=0)


class BinaryHopfield:
    """Shared by the ±1 networks: asynchronous updates unit by unit, sync updates all at once."""

    def __init__(self, patterns: torch.Tensor, dtype: torch.dtype = torch.float32):
        if patterns.ndim != 2 or len(patterns) == 0:
            raise ValueError("store at least one pattern, as a (P, N) array of ±1")
        self.patterns = patterns.to(dtype)
        self.n_units = patterns.shape[1]

    def local_drive(self, state: torch.Tensor, unit: int) -> torch.Tensor:
        """(B,) what unit `unit` should point to given the others (its sign is the update)."""
        raise NotImplementedError

    def sync_drive(self, state: torch.Tensor) -> torch.Tensor:
        """(B, N) every unit's drive at once."""
        raise NotImplementedError

    def energy(self, state: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def update_units(self, state: torch.Tensor, units) -> torch.Tensor:
        """Asynchronous: update `units` one after the other (each sees the ones before)."""
        state = state.clone()
        for unit in units:
            state[:, unit] = _sign(self.local_drive(state, int(unit)), state[:, unit])
        return state

    def update_sync(self, state: torch.Tensor) -> torch.Tensor:
        return _sign(self.sync_drive(state), state)

    def retrieve(self, state: torch.Tensor, rule: str = "async", max_sweeps: int = 50,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, int]:
        """Update until nothing changes (or max_sweeps); returns the states and the sweeps run."""
        for sweep in range(1, max_sweeps + 1):
            if rule == "async":
                order = torch.randperm(self.n_units, generator=generator).tolist()
                new = self.update_units(state, order)
            else:
                new = self.update_sync(state)
            if torch.equal(new, state):
                return new, sweep
            state = new
        return state, max_sweeps


class ClassicalHopfield(BinaryHopfield):
    def __init__(self, patterns: torch.Tensor, dtype: torch.dtype = torch.float32):
        super().__init__(patterns, dtype)
        x = self.patterns
        self.weights = x.T @ x / self.n_units
        self.weights.fill_diagonal_(0.0)

    def local_drive(self, state, unit):
        return state @ self.weights[:, unit]

    def sync_drive(self, state):
        return state @ self.weights

    def energy(self, state):
        return -0.5 * ((state @ self.weights) * state).sum(-1)


class DenseHopfield(BinaryHopfield):
    """`degree` n ≥ 2 for F(x) = xⁿ, or 0 for F(x) = exp(x)."""

    def __init__(self, patterns: torch.Tensor, degree: int = 3, dtype: torch.dtype = torch.float32):
        super().__init__(patterns, dtype)
        if degree == 1 or degree < 0:
            raise ValueError(f"the dense net needs degree n ≥ 2 (or 0 for exp), got {degree}")
        self.degree = degree

    def _gain(self, without: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        """Σ_μ F(h_μ + ξ_μi) − F(h_μ − ξ_μi): how much lower the energy is with s_i = +1.
        For exp the positive factor 2 sinh(1) e^{max} is dropped: only the sign matters."""
        if self.degree == 0:
            return (xi * torch.exp(without - without.max(-1, keepdim=True).values)).sum(-1)
        return ((without + xi) ** self.degree - (without - xi) ** self.degree).sum(-1)

    def local_drive(self, state, unit):
        xi = self.patterns[:, unit]                           # (P,)
        without = state @ self.patterns.T - state[:, unit:unit + 1] * xi
        return self._gain(without, xi)

    def sync_drive(self, state):
        overlaps = state @ self.patterns.T                    # (B, P)
        without = overlaps[:, None, :] - state[:, :, None] * self.patterns.T[None]   # (B, N, P)
        return self._gain(without, self.patterns.T[None])

    def energy(self, state):
        overlaps = state @ self.patterns.T
        if self.degree == 0:
            return -torch.logsumexp(overlaps, dim=-1)
        return -(overlaps ** self.degree).sum(-1)


class ModernHopfield:
    """Continuous states; `sparse` uses sparsemax instead of softmax."""

    def __init__(self, patterns: torch.Tensor, beta: float = 1.0, sparse: bool = False,
                 dtype: torch.dtype = torch.float32):
        if patterns.ndim != 2 or len(patterns) == 0:
            raise ValueError("store at least one pattern, as a (P, N) array")
        if not beta > 0:
            raise ValueError(f"β must be > 0, got {beta}")
        self.patterns, self.beta, self.sparse = patterns.to(dtype), float(beta), sparse
        self.n_units = patterns.shape[1]

    def attention(self, state: torch.Tensor) -> torch.Tensor:
        """(B, P) the weight each stored pattern gets in the next state."""
        scores = self.beta * state @ self.patterns.T
        return sparsemax(scores) if self.sparse else torch.softmax(scores, dim=-1)

    def update(self, state: torch.Tensor) -> torch.Tensor:
        return self.attention(state) @ self.patterns

    def energy(self, state: torch.Tensor) -> torch.Tensor:
        scores = self.beta * state @ self.patterns.T
        if self.sparse:
            # −Ψ*(βXᵀξ)/β. Ψ(p) = ½‖p‖² − ½ on the simplex (the negative Gini entropy), so
            # Ψ*(z) = max_p ⟨p, z⟩ − Ψ(p) = ⟨p, z⟩ − ½‖p‖² + ½ at p = sparsemax(z), and ∇Ψ* = p.
            # Footgun: with the signs of ½‖p‖² and ½ swapped (as here once), ∇E ≠ ξ − update(ξ) and
            # the energy rises along retrieval whenever more than one pattern gets weight.
            p = sparsemax(scores)
            conjugate = (p * scores).sum(-1) - 0.5 * (p ** 2).sum(-1) + 0.5
            return -conjugate / self.beta + 0.5 * (state ** 2).sum(-1)
        return (-torch.logsumexp(scores, dim=-1) + math.log(len(self.patterns))) / self.beta \
            + 0.5 * (state ** 2).sum(-1)

    def retrieve(self, state: torch.Tensor, max_steps: int = 50, tol: float = 1e-5) -> tuple[torch.Tensor, int]:
        for step in range(1, max_steps + 1):
            new = self.update(state)
            if (new - state).abs().max() <= tol * self.n_units:
                return new, step
            state = new
        return state, max_steps


def make_network(kind: str, patterns: torch.Tensor, degree: int = 3, beta: float = 1.0,
                 dtype: torch.dtype = torch.float32):
    if kind == "classical":
        return ClassicalHopfield(patterns, dtype)
    if kind == "dense":
        return DenseHopfield(patterns, degree, dtype)
    if kind in ("modern", "sparse"):
        return ModernHopfield(patterns, beta, sparse=kind == "sparse", dtype=dtype)
    raise ValueError(f"unknown network {kind!r}; choose one of {', '.join(KINDS)}")
