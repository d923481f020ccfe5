"""The velocity MLP and its ODE integrators. Run: pytest tests/models/test_velocity.py"""
import math

import pytest
import torch

from sandbox.models.velocity import VelocityMLP, integrate, integrate_converged


def constant(x, t):
    return torch.ones_like(x) * torch.tensor([2.0, -1.0])


def rotation(x, t):
    return torch.stack([-x[:, 1], x[:, 0]], dim=1)


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
def test_a_constant_field_moves_every_point_by_that_vector(method):
    x0 = torch.zeros(3, 2)
    path = integrate(constant, x0, nfe=8, method=method)
    torch.testing.assert_close(path[-1], torch.tensor([[2.0, -1.0]] * 3))
    assert path.shape[0] == 8 // {"euler": 1, "midpoint": 2, "rk4": 4}[method] + 1


def test_higher_order_solvers_follow_a_rotation_more_closely_at_equal_nfe():
    x0 = torch.tensor([[1.0, 0.0]])
    exact = torch.tensor([[torch.cos(torch.tensor(1.0)), torch.sin(torch.tensor(1.0))]])
    errors = [float((integrate(rotation, x0, 16, m)[-1] - exact).norm()) for m in ("euler", "midpoint", "rk4")]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-4


def test_bad_solver_settings_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        integrate(constant, torch.zeros(1, 2), nfe=0)
    with pytest.raises(ValueError, match="unknown method"):
        integrate(constant, torch.zeros(1, 2), nfe=4, method="heun")


def test_the_mlp_works_in_units_of_the_data_scale():
    torch.manual_seed(0)
    small, large = VelocityMLP(scale=1.0), VelocityMLP(scale=10.0)
    large.load_state_dict(small.state_dict())
    x, t = torch.randn(5, 2), torch.rand(5)
    torch.testing.assert_close(large(10 * x, t), 10 * small(x, t))


def test_the_adaptive_solver_follows_a_rotation_to_its_tolerance_along_the_whole_path():
    x0 = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    path, nfe = integrate_converged(rotation, x0, times=5)
    angles = torch.linspace(0, 1, 5, dtype=torch.float64)
    exact = torch.stack([torch.stack([angles.cos(), angles.sin()], 1),
                         torch.stack([-2 * angles.sin(), 2 * angles.cos()], 1)], dim=1)    # (times, n, 2)
    assert path.shape == (5, 2, 2) and (path - exact).abs().max() < 1e-3
    assert 6 <= nfe < 100                  # dopri5: 6 evaluations a step (the 7th is reused), plus its first guess


def test_a_tighter_tolerance_costs_more_evaluations_and_lands_closer():
    def spiral(x, t):       # a field that turns faster with time: the step must shrink towards t = 1
        return 8 * t[:, None] * torch.stack([-x[:, 1], x[:, 0]], dim=1)
    x0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    exact = torch.tensor([[math.cos(4.0), math.sin(4.0)]], dtype=torch.float64)   # angle ∫ 8t dt = 4
    (loose, cheap), (tight, dear) = (integrate_converged(spiral, x0, 2, tolerance=tol) for tol in (1e-3, 1e-7))
    assert dear > 2 * cheap
    assert (tight[-1] - exact).norm() < 1e-5 < (loose[-1] - exact).norm() < 1e-2
