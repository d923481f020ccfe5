"""Claims that hold for every Hopfield network, over random β, N and P drawn by hypothesis:
for every continuous kind ∇E(ξ) = ξ − update(ξ) (so an update is a CCCP step), and for every kind
the energy never rises along retrieval (DESIGN.md §3 D).
Run: pytest tests/models/test_hopfield_energy_properties.py"""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.models.hopfield import KINDS, ModernHopfield, make_network

ONE = torch.ones(1, 2)
CONTINUOUS = [kind for kind in KINDS if isinstance(make_network(kind, ONE), ModernHopfield)]
BINARY = [kind for kind in KINDS if kind not in CONTINUOUS]
SLACK = 1e-9                   # relative: float64 rounding, nothing more
PROPERTY = settings(max_examples=50, deadline=None)

betas = st.floats(math.log(1e-2), math.log(1e2)).map(math.exp)     # log-uniform over four decades
units = st.integers(2, 16)
stored = st.integers(1, 16)
seeds = st.integers(0, 2**31 - 1)


def draw(n_patterns, n_units, seed, binary):
    """(P, N) stored patterns and (4, N) starting states, float64. Continuous nets get Gaussian
    patterns half the time (the energy's claims do not need ±1 patterns)."""
    generator = torch.Generator().manual_seed(seed)
    if binary or seed % 2:
        patterns = torch.randint(0, 2, (n_patterns, n_units), generator=generator).double() * 2 - 1
    else:
        patterns = torch.randn(n_patterns, n_units, generator=generator, dtype=torch.float64)
    if binary:
        states = torch.randint(0, 2, (4, n_units), generator=generator).double() * 2 - 1
    else:
        states = torch.randn(4, n_units, generator=generator, dtype=torch.float64) * 1.5
    return patterns, states, generator


def assert_never_rises(energies):
    """energies: (T, B), one row per state along the retrieval."""
    energies = torch.stack(energies)
    rise = energies.diff(dim=0)
    allowed = SLACK * energies.abs().amax(dim=0).clamp(min=1.0)
    assert (rise <= allowed).all(), f"the energy rose by up to {float(rise.max()):.3g}"


@pytest.mark.parametrize("kind", CONTINUOUS)
@PROPERTY
@given(beta=betas, n_units=units, n_patterns=stored, seed=seeds)
def test_energy_gradient_is_the_state_minus_its_update(kind, beta, n_units, n_patterns, seed):
    patterns, states, _ = draw(n_patterns, n_units, seed, binary=False)
    net = make_network(kind, patterns, beta=beta, dtype=torch.float64)
    xi = states.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(net.energy(xi).sum(), xi)
    torch.testing.assert_close(gradient, states - net.update(states), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind", CONTINUOUS)
@PROPERTY
@given(beta=betas, n_units=units, n_patterns=stored, seed=seeds)
def test_continuous_energy_never_rises_along_retrieval(kind, beta, n_units, n_patterns, seed):
    patterns, state, _ = draw(n_patterns, n_units, seed, binary=False)
    net = make_network(kind, patterns, beta=beta, dtype=torch.float64)
    energies = [net.energy(state)]
    for _ in range(12):
        state = net.update(state)
        energies.append(net.energy(state))
    assert_never_rises(energies)


@pytest.mark.parametrize("kind", BINARY)
@PROPERTY
@given(degree=st.sampled_from([0, 2, 3, 4]), n_units=units, n_patterns=stored, seed=seeds)
def test_binary_energy_never_rises_under_asynchronous_updates(kind, degree, n_units, n_patterns, seed):
    """Each single-unit update (the classical net's synchronous rule may 2-cycle, so it is not
    claimed here). `degree` is the dense net's F: xⁿ, or exp for 0."""
    patterns, state, generator = draw(n_patterns, n_units, seed, binary=True)
    net = make_network(kind, patterns, degree=degree, dtype=torch.float64)
    energies = [net.energy(state)]
    for unit in torch.randperm(n_units, generator=generator).tolist() * 2:
        state = net.update_units(state, [unit])
        energies.append(net.energy(state))
    assert_never_rises(energies)


def test_every_kind_is_claimed():
    assert CONTINUOUS and BINARY and set(CONTINUOUS) | set(BINARY) == set(KINDS)
