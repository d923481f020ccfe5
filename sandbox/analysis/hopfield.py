"""Measurements of associative recall: overlaps, corrupted queries, and the success-rate
experiments (capacity over the load α = P/N, basin of attraction over the noise)."""
from __future__ import annotations

import numpy as np
import torch

from ..models.hopfield import ModernHopfield, make_network

SUCCESS_OVERLAP = 0.95     # a query is retrieved when its final overlap with its pattern reaches this
CLASSICAL_CAPACITY = 0.138  # Amit, Gutfreund & Sompolinsky 1985: α_c for a classical net, N → ∞


def overlaps(states: torch.Tensor, patterns: torch.Tensor) -> torch.Tensor:
    """(B, P) m_μ = ξ_μ·s / N: 1 when the state is the pattern, −1 for its negative."""
    return states @ patterns.T / patterns.shape[1]


def corrupt(patterns: torch.Tensor, noise: float, occlusion: float = 0.0,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Copies of `patterns` with round(noise·N) units flipped in each (chosen at random) and the
    last round(occlusion·N) units set to −1 (for an image stored row by row: its bottom rows
    blanked)."""
    if not 0 <= noise <= 1 or not 0 <= occlusion <= 1:
        raise ValueError(f"noise and occlusion are fractions in [0, 1], got {noise} and {occlusion}")
    queries = patterns.clone().float()
    b, n = queries.shape
    flips = int(round(noise * n))
    if flips:
        which = torch.rand(b, n, generator=generator).argsort(dim=1)[:, :flips].to(queries.device)
        queries.scatter_(1, which, -queries.gather(1, which))
    hidden = int(round(occlusion * n))
    if hidden:
        queries[:, n - hidden:] = -1.0
    return queries


def random_patterns(count: int, n_units: int, generator: torch.Generator | None = None) -> torch.Tensor:
    return torch.randint(0, 2, (count, n_units), generator=generator).float() * 2 - 1


def success_rate(kind: str, n_units: int, n_patterns: int, noise: float, trials: int = 4, queries: int = 16,
                 degree: int = 3, beta: float = 1.0, rule: str = "async", seed: int = 0,
                 patterns: torch.Tensor | None = None) -> float:
    """Share of corrupted queries retrieved (final overlap ≥ 0.95 with their own pattern): each
    of `trials` draws stores `n_patterns` random patterns (or the given ones) and queries
    `queries` of them with `noise` of their units flipped."""
    generator = torch.Generator().manual_seed(seed)
    hits, total = 0, 0
    for _ in range(trials):
        stored = random_patterns(n_patterns, n_units, generator) if patterns is None else patterns
        net = make_network(kind, stored, degree=degree, beta=beta)
        which = torch.randperm(len(stored), generator=generator)[:queries]
        start = corrupt(stored[which], noise, generator=generator)
        if isinstance(net, ModernHopfield):
            final, _ = net.retrieve(start)
        else:
            final, _ = net.retrieve(start, rule=rule, generator=generator)
        m = (overlaps(final, stored)[torch.arange(len(which)), which])
        hits += int((m >= SUCCESS_OVERLAP).sum())
        total += len(which)
    return hits / total


def capacity(alphas: np.ndarray, success: np.ndarray) -> float:
    """The load at which the success rate first falls through 0.5 (linear interpolation between
    the measured loads); nan when it never does."""
    alphas, success = np.asarray(alphas, dtype=float), np.asarray(success, dtype=float)
    below = np.flatnonzero(success < 0.5)
    if not len(below) or below[0] == 0:
        return float("nan") if not len(below) else float(alphas[0])
    i = below[0]
    a0, a1, s0, s1 = alphas[i - 1], alphas[i], success[i - 1], success[i]
    return float(a0 + (s0 - 0.5) / (s0 - s1) * (a1 - a0))


def plane_coordinates(states: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B, 2) where states sit in the plane of patterns a and b: with u the mean of s·a over the
    units where a and b agree and v over those where they differ, (x, y) = ((u + v)/2, (u − v)/2).
    a is at (1, 0), b at (0, 1), −a and −b opposite; for uncorrelated patterns (half the units
    agree) x and y are the overlaps m_a and m_b. Unlike the overlaps, these coordinates span the
    whole diamond |x| + |y| ≤ 1 even when a and b look alike."""
    agree, differ = a == b, a != b
    if not differ.any():
        raise ValueError("the two patterns are equal: they span no plane")
    signed = states * a
    u = signed[:, agree].mean(1) if agree.any() else torch.zeros(len(states))
    v = signed[:, differ].mean(1)
    return torch.stack([(u + v) / 2, (u - v) / 2], dim=1)


def mixed_states(a: torch.Tensor, b: torch.Tensor, grid: int = 41) -> tuple[torch.Tensor, torch.Tensor]:
    """±1 states made of two patterns on a grid over their plane (see plane_coordinates): on the
    units where a and b agree, a share of them is taken from a and the rest from −a, and likewise
    on the units where they differ. Returns states (grid², N) and their coordinates (grid², 2)."""
    agree = torch.nonzero(a == b).flatten()
    differ = torch.nonzero(a != b).flatten()
    if len(differ) == 0:
        raise ValueError("the two patterns are equal: they span no plane")
    fractions = torch.linspace(0.0, 1.0, grid)
    states = a.repeat(grid * grid, 1)
    for units, fastest in ((agree, True), (differ, False)):
        keep = torch.round(fractions * len(units)).long()                 # units that stay equal to a
        counts = keep.repeat(grid) if fastest else keep.repeat_interleave(grid)
        flip = torch.arange(len(units))[None, :] >= counts[:, None]       # (grid², |units|)
        block = states[:, units]
        states[:, units] = torch.where(flip, -block, block)
    return states, plane_coordinates(states, a, b)


def energy_plane(net, a: torch.Tensor, b: torch.Tensor, grid: int = 41) -> np.ndarray:
    """(3, grid, grid): the plane coordinates x, y and the energy of the mixed states of a and b."""
    states, xy = mixed_states(a.float().cpu(), b.float().cpu(), grid)
    energy = net.energy(states.to(net.patterns.device)).float().cpu()
    return torch.stack([xy[:, 0], xy[:, 1], energy]).reshape(3, grid, grid).numpy()
