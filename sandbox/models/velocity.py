"""A velocity field v(x, t) for flow matching in the plane, and ODE integrators for it.

    v(x, t) = MLP([x / scale, embed(t)]) · scale

The input and output are measured in units of the data's scale, so one set of layer sizes and
learning rates works for targets of size 4 and of size 25 (the three-directions simulation).
"""
from __future__ import annotations

import math

import torch
from torch import nn

METHODS = {"euler": 1, "midpoint": 2, "rk4": 4}   # function evaluations per step


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
