"""The velocity MLP and its ODE integrators. Run: pytest tests/models/test_velocity.py"""
import pytest
import torch

from sandbox.models.velocity import VelocityMLP, integrate


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
