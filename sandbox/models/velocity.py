"""A velocity field v(x, t) for flow matching in the plane, and ODE integrators for it: fixed-step
ones written here (the live sampling choice) and an adaptive one from torchdiffeq (the converged
reference the study's findings are measured with).

    v(x, t) = MLP([x / scale, embed(t)]) · scale

The input and output are measured in units of the data's scale, so one set of layer sizes and
learning rates works for targets of size 4 and of size 25 (the three-directions simulation).
"""
from __future__ import annotations

import math

import torch
import torchdiffeq
from torch import nn

METHODS = {"euler": 1, "midpoint": 2, "rk4": 4}   # function evaluations per step
CONVERGED_TOLERANCE = 1e-4   # SourceFM samples with dopri5 at atol = rtol = 1e-4


class TimeEmbedding(nn.Module):
    """t ∈ [0, 1] → sines and cosines of a geometric ladder of frequencies."""

    def __init__(self, dim: int = 16):
        super().__init__()
        self.register_buffer("freqs", torch.exp(torch.linspace(0, math.log(100.0), dim // 2)), persistent=False)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        angles = t[:, None] * self.freqs * 2 * math.pi
        return torch.cat([angles.sin(), angles.cos()], dim=1)


class VelocityMLP(nn.Module):
    def __init__(self, width: int = 128, depth: int = 3, time_dim: int = 16, scale: float = 1.0):
        super().__init__()
        if width < 1 or depth < 1:
            raise ValueError("width and depth must be at least 1")
        self.scale = float(scale)
        self.time = TimeEmbedding(time_dim)
        layers, d_in = [], 2 + time_dim
        for _ in range(depth):
            layers += [nn.Linear(d_in, width), nn.SiLU()]
            d_in = width
        self.net = nn.Sequential(*layers, nn.Linear(d_in, 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x / self.scale, self.time(t)], dim=1)) * self.scale


@torch.no_grad()
def integrate(v, x0: torch.Tensor, nfe: int, method: str = "euler") -> torch.Tensor:
    """Trajectories (steps + 1, n, 2) from t = 0 to 1 with about `nfe` evaluations of v
    (steps = max(1, nfe // evaluations per step))."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if nfe < 1:
        raise ValueError(f"the number of function evaluations must be at least 1, got {nfe}")
    steps = max(1, nfe // METHODS[method])
    h = 1.0 / steps
    x, path = x0, [x0]
    for i in range(steps):
        t = torch.full((len(x),), i * h, device=x.device, dtype=x.dtype)
        if method == "euler":
            x = x + h * v(x, t)
        elif method == "midpoint":
            x = x + h * v(x + 0.5 * h * v(x, t), t + 0.5 * h)
        else:
            k1 = v(x, t)
            k2 = v(x + 0.5 * h * k1, t + 0.5 * h)
            k3 = v(x + 0.5 * h * k2, t + 0.5 * h)
            k4 = v(x + h * k3, t + h)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        path.append(x)
    return torch.stack(path)


@torch.no_grad()
def integrate_converged(v, x0: torch.Tensor, times: int = 17,
                        tolerance: float = CONVERGED_TOLERANCE) -> tuple[torch.Tensor, int]:
    """Trajectories (times, n, 2) at evenly spaced t ∈ [0, 1] by adaptive Dormand–Prince 5(4)
    (dopri5, atol = rtol = `tolerance`), and the evaluations of v it took.

    The step is chosen for the whole batch at once: torchdiffeq's error norm is the RMS over every
    particle, so a few particles in a sharp part of the field are resolved less well than the
    average. The intermediate times come from dopri5's dense output and cost no evaluations."""
    if times < 2:
        raise ValueError(f"a trajectory needs at least 2 times, got {times}")
    calls = 0

    def field(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        nonlocal calls
        calls += 1
        return v(x, t.expand(len(x)))

    t = torch.linspace(0.0, 1.0, times, device=x0.device, dtype=x0.dtype)
    path = torchdiffeq.odeint(field, x0, t, rtol=tolerance, atol=tolerance, method="dopri5")
    return path, calls
