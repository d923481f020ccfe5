"""SourceFM's sample metrics (Jeong et al., code github.com/kwanseokk/SourceFM,
simulations/run_whole_simulation.py) re-derived from their definitions in plain Python on small
random sets, and compared with ours on the same points:
- "% samples > 1.0": the share (in %) of generated points whose nearest data point is more than
  1.0 away (its calculate_distance_metrics);
- "coverage": data points and generated points closer than ε = 0.5 are paired, walking the pairs
  data-point-major and taking a pair when neither point is taken yet; coverage = pairs / data
  points (its coverage_precision_no_replacement, the one its tables report);
- "W2": the square root of the optimal transport cost between the two uniform point clouds under
  squared Euclidean cost (POT's emd2 on ot.dist there; a linear programme over transport plans here).
Run: pytest tests/reference/test_sourcefm_metrics.py"""
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from sandbox.analysis.flow import matched_coverage, stranded_fraction, wasserstein2

SEEDS = [0, 1, 2]


# ---- the reference ---------------------------------------------------------------------------
def percent_bad(generated, data, threshold=1.0):
    bad = sum(min(math.dist(g, d) for d in data) > threshold for g in generated)
    return 100.0 * bad / len(generated)


def coverage_without_replacement(generated, data, epsilon=0.5):
    pairs = [(i, j) for i, d in enumerate(data) for j, g in enumerate(generated) if math.dist(d, g) < epsilon]
    used_data, used_generated = set(), set()
    for i, j in pairs:
        if i not in used_data and j not in used_generated:
            used_data.add(i)
            used_generated.add(j)
    return len(used_data) / len(data)


def w2_by_linear_programme(x, y):
    """min Σ π_ij ‖x_i − y_j‖² over plans π ≥ 0 with row sums 1/n and column sums 1/m."""
    n, m = len(x), len(y)
    cost = np.array([[sum((a - b) ** 2 for a, b in zip(xi, yj)) for yj in y] for xi in x])
    rows = np.kron(np.eye(n), np.ones(m))           # Σ_j π_ij = 1/n
    cols = np.kron(np.ones(n), np.eye(m))           # Σ_i π_ij = 1/m
    plan = linprog(cost.ravel(), A_eq=np.vstack([rows, cols]),
                   b_eq=np.concatenate([np.full(n, 1 / n), np.full(m, 1 / m)]), bounds=(0, None), method="highs")
    return math.sqrt(plan.fun)


def clouds(seed, n_generated=60, n_data=50):
    """Data in three tight clusters (the paper's picture in small) and generated points that land
    on them, between them, or off them, so every metric is neither 0 nor its maximum."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-3, 3, (3, 2))
    data = centres[rng.integers(0, 3, n_data)] + 0.3 * rng.standard_normal((n_data, 2))
    generated = centres[rng.integers(0, 3, n_generated)] + rng.choice([0.2, 1.5], (n_generated, 1)) * \
        rng.standard_normal((n_generated, 2))
    return generated, data


# ---- ours against it ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_percent_bad_is_our_stranded_share_at_the_papers_threshold(seed):
    generated, data = clouds(seed)
    reference = percent_bad(generated.tolist(), data.tolist())
    assert 0 < reference < 100
    assert 100 * stranded_fraction(generated, data, threshold=1.0) == pytest.approx(reference, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_coverage_is_the_papers_one_to_one_matching_within_epsilon(seed):
    generated, data = clouds(seed)
    reference = coverage_without_replacement(generated.tolist(), data.tolist())
    assert 0 < reference < 1
    assert matched_coverage(generated, data, epsilon=0.5) == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_coverage_counts_each_generated_point_once(seed):
    """Fewer generated points than data: the matching caps coverage at n_generated / n_data,
    which 'some generated point within ε' would not."""
    generated, data = clouds(seed, n_generated=10, n_data=50)
    reference = coverage_without_replacement(generated.tolist(), data.tolist())
    assert matched_coverage(generated, data, epsilon=0.5) == pytest.approx(reference, abs=1e-12)
    assert reference <= 10 / 50


@pytest.mark.parametrize("seed", SEEDS)
def test_w2_is_the_optimal_transport_cost_between_the_clouds(seed):
    generated, data = clouds(seed, n_generated=12, n_data=12)
    reference = w2_by_linear_programme(generated.tolist(), data.tolist())
    assert wasserstein2(generated, data) == pytest.approx(reference, rel=1e-6)
