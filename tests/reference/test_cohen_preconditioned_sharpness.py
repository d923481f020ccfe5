"""Cohen et al. 2022, "Adaptive gradient methods at the edge of stability": Adam's sharpness is the
top eigenvalue of P⁻¹H, P = diag(√v̂ + ε) with v̂ = v / (1 − β₂ᵗ) its bias-corrected second moment,
and its edge of stability is (2 + 2β₁) / ((1 − β₁) lr), 38 / lr at β₁ = 0.9. Recomputed here from
that definition alone: the explicit Hessian of a tiny MLP's loss, P read from a real torch Adam's
state after a few steps, the eigenvalues of P⁻¹H by numpy.
Run: pytest tests/reference/test_cohen_preconditioned_sharpness.py"""
import copy

import numpy as np
import pytest
import torch
from torch.func import functional_call

from sandbox.analysis.landscape import LandscapeProbe, top_hessian_eigenvalue
from sandbox.runtime.landscape import LandscapeTracker

LR, BETAS, EPS = 1e-2, (0.9, 0.999), 1e-8


def trained_mlp():
    """A 2-4-1 tanh MLP after five Adam steps on a fixed regression batch, and that Adam."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    x = torch.randn(32, 2)
    y = torch.sin(x[:, :1] * 2) + x[:, 1:] ** 2
    loss_of_output = lambda out: ((out - y) ** 2).mean()  # noqa: E731
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    for _ in range(5):
        optimizer.zero_grad()
        loss_of_output(model(x)).backward()
        optimizer.step()
    return model, x, loss_of_output, optimizer


def explicit_cohen_sharpness(model, x, loss_of_output, optimizer) -> tuple[float, float]:
    """(λ_max(P⁻¹H), λ_max(H)) from the full Hessian and the optimizer's own state, in float64."""
    reference = copy.deepcopy(model).double()
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in reference.parameters()])

    def loss(vector):
        params = dict(zip(names, (v.reshape(s) for v, s in zip(vector.split(sizes), shapes))))
        return loss_of_output(functional_call(reference, params, (x.double(),)))

    hessian = torch.autograd.functional.hessian(loss, flat).numpy()
    beta2 = optimizer.param_groups[0]["betas"][1]
    diagonal = []
    for p in model.parameters():
        state = optimizer.state[p]
        v_hat = state["exp_avg_sq"].double() / (1 - beta2 ** float(state["step"]))
        diagonal.append((v_hat.sqrt() + EPS).reshape(-1))
    P = np.diag(torch.cat(diagonal).numpy())
    preconditioned = np.linalg.eigvals(np.linalg.solve(P, hessian))
    return float(preconditioned.real.max()), float(np.linalg.eigvalsh(hessian).max())


def test_the_preconditioned_sharpness_is_the_top_eigenvalue_of_P_inverse_H():
    model, x, loss_of_output, optimizer = trained_mlp()
    expected, _ = explicit_cohen_sharpness(model, x, loss_of_output, optimizer)
    probe = LandscapeProbe(model, (x,), loss_of_output)
    theta = {n: p.detach() for n, p in model.named_parameters()}
    beta2 = BETAS[1]
    P = {n: (optimizer.state[p]["exp_avg_sq"] / (1 - beta2 ** float(optimizer.state[p]["step"]))).sqrt() + EPS
         for n, p in model.named_parameters()}
    ours = top_hessian_eigenvalue(probe.loss_of_params, theta, iterations=500,
                                  generator=torch.Generator().manual_seed(0), tol=1e-10, preconditioner=P)
    assert ours == pytest.approx(expected, rel=1e-4)


def test_the_tracker_reports_adams_sharpness_and_edge_not_the_raw_hessians():
    model, x, loss_of_output, optimizer = trained_mlp()
    expected, raw = explicit_cohen_sharpness(model, x, loss_of_output, optimizer)
    assert expected > 3 * raw           # √v̂ + ε < 1 here: today's raw λ_max is far from Adam's sharpness
    tracker = LandscapeTracker()
    tracker.begin(1, LandscapeProbe(model, (x,), loss_of_output))
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    names = dict(zip(map(id, model.parameters()), (n for n, _ in model.named_parameters())))
    group = optimizer.param_groups[0]
    adam = {"exp_avg_sq": {names[id(p)]: optimizer.state[p]["exp_avg_sq"].clone() for p in group["params"]},
            "step": float(optimizer.state[group["params"][0]]["step"]),
            "betas": group["betas"], "eps": group["eps"]}
    try:
        tracker.record(1, 5, weights, lr=LR, optimizer=adam)
        assert tracker.wait_idle(60)
        scalars, _ = tracker.record(1, 5, weights, lr=LR, optimizer=adam)
    finally:
        tracker.stop()
    # Power iteration (the tracker's 20 steps, tolerance 1e-3) against the exact value.
    assert scalars["landscape.preconditioned_sharpness"] == pytest.approx(expected, rel=2e-2)
    assert scalars["landscape.sharpness"] == pytest.approx(raw, rel=2e-2)
    assert scalars["landscape.stability_edge"] == pytest.approx((2 + 2 * 0.9) / ((1 - 0.9) * LR))   # 38 / lr
