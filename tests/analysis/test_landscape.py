"""Loss-landscape tools on models whose answers are known. Run: pytest tests/analysis/test_landscape.py"""
import numpy as np
import pytest
import torch

from sandbox.analysis.landscape import (LandscapeProbe, adam_preconditioner, filter_normalized_direction, flatten,
                                        interpolation, loss_slice, losses_at, output_axes, parameters_of,
                                        pca_directions, project, stability_edge,
                                        top_hessian_eigenvalue, unflatten)


def least_squares_model(seed=0):
    """A linear model at the exact least-squares optimum: the loss is a convex quadratic in θ."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(64, 1, generator=generator)
    model = torch.nn.Linear(3, 1)
    design = torch.cat([x, torch.ones(64, 1)], dim=1)
    solution = torch.linalg.lstsq(design, y).solution
    with torch.no_grad():
        model.weight.copy_(solution[:3].T)
        model.bias.copy_(solution[3])
    return model, x, y


def test_a_slice_through_the_optimum_of_a_convex_quadratic_is_a_paraboloid_with_its_minimum_at_the_centre():
    model, x, y = least_squares_model()
    generator = torch.Generator().manual_seed(1)
    d1 = {n: torch.randn(p.shape, generator=generator) for n, p in model.named_parameters()}
    d2 = {n: torch.randn(p.shape, generator=generator) for n, p in model.named_parameters()}
    grid = np.linspace(-1, 1, 21)
    loss = loss_slice(model, lambda out: ((out - y) ** 2).mean(), (x,), d1, d2, grid, grid, chunk=50)
    assert loss.shape == (21, 21)
    assert np.unravel_index(loss.argmin(), loss.shape) == (10, 10)
    # A quadratic: second differences along a line are constant.
    row = loss[10]
    second = np.diff(row, 2)
    np.testing.assert_allclose(second, second.mean(), rtol=1e-3)
    # And the slice agrees with evaluating the model directly at one grid point.
    with torch.no_grad():
        shifted = torch.nn.Linear(3, 1)
        shifted.weight.copy_(model.weight + 0.5 * d1["weight"] - 1.0 * d2["weight"])
        shifted.bias.copy_(model.bias + 0.5 * d1["bias"] - 1.0 * d2["bias"])
        direct = float(((shifted(x) - y) ** 2).mean())
    assert loss[0, 15] == pytest.approx(direct, rel=1e-5)


def test_filter_normalization_matches_each_filters_norm_and_skips_biases():
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    params = parameters_of(model)
    d = filter_normalized_direction(params, torch.Generator().manual_seed(0))
    for name, w in params.items():
        if w.ndim == 2:
            np.testing.assert_allclose(d[name].norm(dim=1).numpy(), w.norm(dim=1).numpy(), rtol=1e-5)
        else:
            assert torch.count_nonzero(d[name]) == 0


class InOut(torch.nn.Module):
    """y = x @ W (W stored (in, out)) and a 3-axis weight whose output unit is indexed by axes 0 and 2."""
    OUTPUT_AXES = {"W": (1,), "heads": (0, 2)}

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(torch.randn(6, 3))                             # (in, out)
        self.heads = torch.nn.Parameter(torch.randn(2, 5, 4))                      # (head, in, out)
        self.fc = torch.nn.Linear(3, 2)                                            # (out, in), undeclared


def test_a_declared_output_axis_makes_each_unit_along_it_a_filter():
    torch.manual_seed(0)
    model = InOut()
    assert output_axes(model) == {"W": (1,), "heads": (0, 2), "fc.weight": (0,), "fc.bias": None}
    params = parameters_of(model)
    d = filter_normalized_direction(params, torch.Generator().manual_seed(1), output_axes(model))
    np.testing.assert_allclose(d["W"].norm(dim=0).numpy(), params["W"].norm(dim=0).numpy(), rtol=1e-5)
    np.testing.assert_allclose(d["heads"].norm(dim=1).numpy(), params["heads"].norm(dim=1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(d["fc.weight"].norm(dim=1).numpy(), params["fc.weight"].norm(dim=1).numpy(),
                               rtol=1e-5)
    assert torch.count_nonzero(d["fc.bias"]) == 0
    # The probe reads the same declarations off its model.
    assert LandscapeProbe(model, (), lambda out: out).output_axes == output_axes(model)


def test_pca_of_a_straight_line_trajectory_recovers_its_direction():
    start = {"w": torch.zeros(4, 3), "b": torch.zeros(3)}
    step = {"w": torch.randn(4, 3, generator=torch.Generator().manual_seed(2)), "b": torch.ones(3)}
    trajectory = [{k: start[k] + t * step[k] for k in start} for t in np.linspace(0, 1, 12)]
    d1, _, coordinates, explained = pca_directions(trajectory)
    cosine = torch.nn.functional.cosine_similarity(flatten(d1), flatten(step), dim=0)
    assert abs(float(cosine)) == pytest.approx(1.0, abs=1e-5)
    assert explained[0] == pytest.approx(1.0, abs=1e-6)
    assert coordinates[-1] == pytest.approx([0.0, 0.0], abs=1e-6)               # around the last point


def test_power_iteration_matches_the_explicit_hessian_of_a_small_model():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 3, generator=generator), torch.randn(32, 1, generator=generator)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    params = parameters_of(model)

    def loss_of(p):
        return ((torch.func.functional_call(model, p, (x,)) - y) ** 2).mean()

    flat = flatten(params).clone()
    hessian = torch.autograd.functional.hessian(lambda v: loss_of(unflatten(v, params)), flat)
    eigenvalues = torch.linalg.eigvalsh(hessian)
    largest = float(eigenvalues.max())
    estimate = top_hessian_eigenvalue(loss_of, params, iterations=500, generator=torch.Generator().manual_seed(1),
                                      tol=1e-9)
    assert estimate == pytest.approx(largest, rel=1e-3)


def test_interpolation_runs_from_the_start_to_the_current_weights():
    model, x, y = least_squares_model()
    start = {n: torch.zeros_like(p) for n, p in parameters_of(model).items()}
    t, losses = interpolation(model, lambda out: ((out - y) ** 2).mean(), (x,), start, steps=11)
    assert t[0] == 0 and t[-1] == 1
    assert losses[0] == pytest.approx(float((y ** 2).mean()), rel=1e-5)           # the zero model
    assert losses[-1] == pytest.approx(float(((model(x) - y) ** 2).mean().detach()), rel=1e-5)
    assert np.all(np.diff(losses) <= 1e-6)                       # convex with its minimum at the end


def test_at_a_saddle_the_sharpness_is_the_largest_eigenvalue_not_the_largest_magnitude():
    curvature = torch.tensor([-5.0, 2.0, 1.0])           # ∇²L = diag(-5, 2, 1): a saddle
    params = {"w": torch.tensor([0.3, -0.2, 0.1])}
    estimate = top_hessian_eigenvalue(lambda p: 0.5 * (curvature * p["w"] ** 2).sum(), params, iterations=500,
                                      generator=torch.Generator().manual_seed(0), tol=1e-10)
    assert estimate == pytest.approx(2.0, rel=1e-4)


def test_projection_recovers_the_coordinates_of_points_built_from_non_orthogonal_directions():
    generator = torch.Generator().manual_seed(0)
    d1, d2 = torch.randn(50, generator=generator), torch.randn(50, generator=generator)
    d2 = d2 + 0.7 * d1                                     # far from orthogonal, not unit
    coordinates = np.array([[0.0, 0.0], [1.0, -2.0], [0.25, 0.5]], dtype=np.float32)
    offsets = torch.as_tensor(coordinates) @ torch.stack([d1, d2])
    assert project(offsets, d1, d2) == pytest.approx(coordinates, abs=1e-4)


def test_losses_at_points_agree_with_the_slice_and_the_probe():
    model, x, y = least_squares_model()
    probe = LandscapeProbe(model, (x,), lambda out: ((out - y) ** 2).mean())
    params = parameters_of(model)
    generator = torch.Generator().manual_seed(2)
    d1, d2 = (filter_normalized_direction(params, generator) for _ in range(2))
    grid = np.linspace(-0.5, 0.5, 5)
    surface = loss_slice(probe.model, probe.loss_of_output, probe.inputs, d1, d2, grid, grid, center=params)
    points = np.array([[grid[1], grid[3]], [grid[4], grid[0]]])
    at = losses_at(probe.model, probe.loss_of_output, probe.inputs, d1, d2, points, center=params)
    assert at == pytest.approx([surface[3, 1], surface[0, 4]], rel=1e-6)
    assert float(probe.loss_of_params(params)) == pytest.approx(surface[2, 2], rel=1e-6)
    assert probe.names == ("weight", "bias")


def quadratic_with_known_hessian():
    """L(θ) = ½ θᵀHθ over two parameters (3 + 2 entries), H symmetric positive definite and not
    diagonal, so P⁻¹H is not symmetric and its eigenvalues are not H's scaled one by one."""
    generator = torch.Generator().manual_seed(3)
    a = torch.randn(5, 5, generator=generator, dtype=torch.float64)
    H = a @ a.T + 0.5 * torch.eye(5, dtype=torch.float64)
    params = {"w": torch.randn(3, generator=generator, dtype=torch.float64),
              "b": torch.randn(2, generator=generator, dtype=torch.float64)}

    def loss_of(p):
        theta = torch.cat([p["w"], p["b"]])
        return 0.5 * theta @ H @ theta

    return H, params, loss_of


def test_the_preconditioned_sharpness_of_a_quadratic_is_the_top_eigenvalue_of_P_inverse_H():
    H, params, loss_of = quadratic_with_known_hessian()
    P = {"w": torch.tensor([0.1, 2.0, 0.5], dtype=torch.float64), "b": torch.tensor([0.03, 1.0], dtype=torch.float64)}
    expected = np.linalg.eigvals(np.linalg.solve(np.diag(flatten(P).numpy()), H.numpy())).real.max()
    estimate = top_hessian_eigenvalue(loss_of, params, iterations=2000, generator=torch.Generator().manual_seed(0),
                                      tol=1e-12, preconditioner=P)
    assert estimate == pytest.approx(expected, rel=1e-6)
    assert estimate > 2 * float(torch.linalg.eigvalsh(H).max())        # small P: the method sees a sharper bowl


def test_with_the_identity_preconditioner_it_is_the_raw_sharpness():
    H, params, loss_of = quadratic_with_known_hessian()
    identity = {n: torch.ones_like(p) for n, p in params.items()}
    estimate = top_hessian_eigenvalue(loss_of, params, iterations=2000, generator=torch.Generator().manual_seed(0),
                                      tol=1e-12, preconditioner=identity)
    assert estimate == pytest.approx(float(torch.linalg.eigvalsh(H).max()), rel=1e-6)


def test_adams_preconditioner_is_the_bias_corrected_root_second_moment_plus_eps():
    v = {"w": torch.tensor([4e-4, 0.0])}
    P = adam_preconditioner(v, step=10, beta2=0.999, eps=1e-8)
    v_hat = v["w"] / (1 - 0.999 ** 10)
    assert torch.allclose(P["w"], v_hat.sqrt() + 1e-8)


def test_the_edge_of_stability_is_2_over_lr_for_gd_and_38_over_lr_for_adam_at_beta1_0_9():
    assert stability_edge(0.01) == pytest.approx(200.0)
    assert stability_edge(0.01, momentum=0.9) == pytest.approx(380.0)                 # heavy ball: (2 + 2β) / lr
    assert stability_edge(0.01, momentum=0.9, adaptive=True) == pytest.approx(3800.0)  # Adam: 38 / lr
    assert np.isnan(stability_edge(float("nan"))) and np.isnan(stability_edge(0.0))
