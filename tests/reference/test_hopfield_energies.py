"""Every Hopfield energy against a small independent implementation of the papers' formulas, in
numpy and float64, with its own sparsemax (found by bisection, not by sorting). Where a paper
keeps a constant we drop, the constant is stated and added back.
Run: pytest tests/reference/test_hopfield_energies.py"""
import numpy as np
import pytest
import torch

from sandbox.models.hopfield import make_network

RNG_SEEDS = [0, 1, 2]


# ---- the reference ---------------------------------------------------------------------------
def simplex_projection(z):
    """sparsemax(z) = argmin_{p ∈ Δ} ‖p − z‖² (Martins & Astudillo 2016): p = max(z − τ, 0) with τ
    the root of Σ max(z − τ, 0) = 1, bracketed in [max z − 1, max z] and found by bisection; τ is
    then made exact from the support S: τ = (Σ_S z − 1) / |S|."""
    low, high = z.max() - 1.0, z.max()
    for _ in range(200):
        tau = (low + high) / 2
        low, high = (tau, high) if np.maximum(z - tau, 0).sum() > 1 else (low, tau)
    support = z > (low + high) / 2
    tau = (z[support].sum() - 1) / support.sum()
    return np.maximum(z - tau, 0)


def gini_regulariser(p):
    """Ψ(p) = ½‖p‖² − ½ on the simplex: the negative Gini entropy, −½(1 − ‖p‖²)."""
    return 0.5 * p @ p - 0.5


def gini_conjugate(z):
    """Ψ*(z) in the closed form of Hu et al. 2023 (sparse modern Hopfield):
    ½‖z‖² − ½‖sparsemax(z) − z‖² + ½."""
    p = simplex_projection(z)
    return 0.5 * z @ z - 0.5 * (p - z) @ (p - z) + 0.5


def modern_energy(patterns, xi, beta):
    """Ramsauer et al. 2020, eq. (2) of 'Hopfield Networks is All You Need', with its constants:
    E = −lse(β, Xᵀξ) + ½ ξᵀξ + β⁻¹ log N + ½ M², lse(β, a) = β⁻¹ log Σ exp(β a), M = max ‖x_μ‖."""
    a = beta * patterns @ xi
    lse = (a.max() + np.log(np.exp(a - a.max()).sum())) / beta
    big_m = np.linalg.norm(patterns, axis=1).max()
    return -lse + 0.5 * xi @ xi + np.log(len(patterns)) / beta + 0.5 * big_m ** 2


def sparse_energy(patterns, xi, beta):
    """The sparse modern Hopfield energy (Hu et al. 2023; the Hopfield–Fenchel–Young energy of
    Santos et al. 2024 with the Gini entropy): −β⁻¹ Ψ*(β Xᵀξ) + ½ ξᵀξ."""
    return -gini_conjugate(beta * patterns @ xi) / beta + 0.5 * xi @ xi


def classical_energy(patterns, s):
    """Hopfield 1982 with Hebbian weights, written with loops: W_ij = (1/N) Σ_μ ξ_μi ξ_μj for
    i ≠ j, W_ii = 0, E = −½ Σ_ij W_ij s_i s_j."""
    n = patterns.shape[1]
    w = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                w[i, j] = sum(x[i] * x[j] for x in patterns) / n
    return -0.5 * sum(w[i, j] * s[i] * s[j] for i in range(n) for j in range(n))


def dense_energy(patterns, s, degree):
    """Krotov & Hopfield 2016: E = −Σ_μ F(ξ_μ·s), F(x) = xⁿ, or exp(x) for degree 0."""
    return -sum(np.exp(x @ s) if degree == 0 else (x @ s) ** degree for x in patterns)


# ---- first principles for the conjugate ------------------------------------------------------
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_the_gini_conjugate_is_the_max_over_the_simplex_and_its_gradient_is_sparsemax(seed):
    """Ψ*(z) = max_{p ∈ Δ} ⟨p, z⟩ − Ψ(p): no point of the simplex beats p* = sparsemax(z), p* attains
    it (so Ψ*(z) = ⟨p*, z⟩ − ½‖p*‖² + ½), and a finite-difference gradient of Ψ* is p*."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=6) * 0.4                     # small scores: several patterns in the support
    p = simplex_projection(z)
    assert (p > 0).sum() > 1 and p.sum() == pytest.approx(1.0) and (p >= 0).all()
    assert gini_conjugate(z) == pytest.approx(p @ z - 0.5 * p @ p + 0.5, abs=1e-12)
    assert gini_conjugate(z) == pytest.approx(p @ z - gini_regulariser(p), abs=1e-12)
    others = rng.dirichlet(np.ones(6), size=2000)
    assert (others @ z - (0.5 * (others ** 2).sum(1) - 0.5) <= gini_conjugate(z) + 1e-12).all()
    h = 1e-6
    numerical = np.array([(gini_conjugate(z + h * e) - gini_conjugate(z - h * e)) / (2 * h) for e in np.eye(6)])
    np.testing.assert_allclose(numerical, p, atol=1e-7)
    # The sign the issue reports (⟨p, z⟩ − ½ + ½‖p‖²) misses the maximum by 1 − ‖p‖² > 0.
    flipped = p @ z - 0.5 + 0.5 * p @ p
    assert gini_conjugate(z) - flipped == pytest.approx(1 - p @ p) and 1 - p @ p > 0.1


def test_the_bisection_sparsemax_agrees_with_ours():
    from sandbox.models.hopfield import sparsemax
    z = np.random.default_rng(0).normal(size=(20, 7))
    ours = sparsemax(torch.tensor(z)).numpy()
    np.testing.assert_allclose(ours, np.stack([simplex_projection(row) for row in z]), atol=1e-12)


# ---- ours against the reference --------------------------------------------------------------
def continuous_case(seed, n_patterns=7, n_units=10):
    rng = np.random.default_rng(seed)
    patterns = rng.choice([-1.0, 1.0], size=(n_patterns, n_units))
    patterns[0] = rng.normal(size=n_units) * 1.3      # one pattern of another norm: M matters
    states = rng.normal(size=(5, n_units))
    return patterns, states


@pytest.mark.parametrize("beta", [0.05, 0.3, 1.0, 8.0])
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_modern_energy_is_ramsauers_less_half_m_squared(seed, beta):
    """We drop Ramsauer's ½ M² (it keeps his E ≥ 0) and keep his β⁻¹ log N."""
    patterns, states = continuous_case(seed)
    ours = make_network("modern", torch.tensor(patterns), beta=beta, dtype=torch.float64)
    ours = ours.energy(torch.tensor(states)).numpy()
    big_m = np.linalg.norm(patterns, axis=1).max()
    paper = np.array([modern_energy(patterns, xi, beta) for xi in states])
    np.testing.assert_allclose(ours, paper - 0.5 * big_m ** 2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("beta", [0.05, 0.3, 1.0, 8.0])
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_sparse_energy_is_hus_closed_form(seed, beta):
    """No constant dropped: ours equals −β⁻¹ Ψ*(β Xᵀξ) + ½ ξᵀξ with Hu et al.'s Ψ*."""
    patterns, states = continuous_case(seed)
    ours = make_network("sparse", torch.tensor(patterns), beta=beta, dtype=torch.float64)
    ours = ours.energy(torch.tensor(states)).numpy()
    paper = np.array([sparse_energy(patterns, xi, beta) for xi in states])
    np.testing.assert_allclose(ours, paper, rtol=1e-12, atol=1e-12)


def binary_case(seed, n_patterns=4, n_units=9):
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=(n_patterns, n_units)), rng.choice([-1.0, 1.0], size=(6, n_units))


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_classical_energy_is_hopfields(seed):
    patterns, states = binary_case(seed)
    ours = make_network("classical", torch.tensor(patterns), dtype=torch.float64).energy(torch.tensor(states))
    np.testing.assert_allclose(ours.numpy(), [classical_energy(patterns, s) for s in states], atol=1e-12)


@pytest.mark.parametrize("degree", [2, 3, 4, 0])
@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_dense_energy_is_krotov_hopfields(seed, degree):
    """For F = exp ours reports −log Σ exp(ξ_μ·s) = −log(−E), a monotone transform that does not
    overflow; for F = xⁿ it is E itself."""
    patterns, states = binary_case(seed)
    ours = make_network("dense", torch.tensor(patterns), degree=degree, dtype=torch.float64)
    ours = ours.energy(torch.tensor(states)).numpy()
    paper = np.array([dense_energy(patterns, s, degree) for s in states])
    np.testing.assert_allclose(ours, -np.log(-paper) if degree == 0 else paper, rtol=1e-12, atol=1e-12)
