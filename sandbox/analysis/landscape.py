"""Loss landscapes of a model: 2-D slices L(θ + α d₁ + β d₂), the directions that span them,
1-D interpolation from the initial weights, and sharpness (the top Hessian eigenvalue).

Directions are dicts name → tensor shaped like the model's parameters. The grid is evaluated
with `torch.func.functional_call` under `vmap`, a chunk of grid points at a time, so one call
covers many points without holding them all in memory.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch.func import functional_call, vmap

Params = dict[str, torch.Tensor]

# Samples in a probe's fixed batch: enough for a smooth loss, few enough that a 41 × 41 slice
# (1681 evaluations) takes seconds on a CPU core.
PROBE_SAMPLES = 512


@dataclass
class LandscapeProbe:
    """The loss a landscape slices: `loss_of_output(model(*inputs))` on a fixed batch. `model` is a
    private copy of the study's module; only its structure and buffers are used, the parameters
    come from the weights being probed."""

    model: torch.nn.Module
    inputs: tuple
    loss_of_output: Callable[[Any], torch.Tensor]
    label: str = "loss"
    names: tuple[str, ...] = field(init=False)
    output_axes: OutputAxes = field(init=False)     # name → axes of its output units (filters)

    def __post_init__(self):
        self.model = copy.deepcopy(self.model).requires_grad_(False)
        self.names = tuple(name for name, _ in self.model.named_parameters())
        self.output_axes = output_axes(self.model)

    def parameters(self, weights: dict[str, torch.Tensor]) -> Params:
        """The trainable tensors of a captured state dict, in the model's order."""
        return {name: weights[name] for name in self.names}

    def loss_of_params(self, params: Params) -> torch.Tensor:
        buffers = dict(self.model.named_buffers())
        return self.loss_of_output(functional_call(self.model, {**params, **buffers}, self.inputs))


def parameters_of(model: torch.nn.Module) -> Params:
    return {name: p.detach() for name, p in model.named_parameters()}


# Li et al.'s "filter" is one output unit of a layer: for nn.Linear's (out, in) weight one row,
# i.e. axis 0. Parameters stored otherwise, e.g. (in, out) for `x @ W`, are declared by the module
# that owns them in a class attribute `OUTPUT_AXES = {attribute name: output axes}` (the entries
# of a ParameterList share their list's). Several axes index one unit together, e.g. (0, 1, 3) for
# W_QKV (3, heads, d_model, d_head): a filter is then W_QKV[c, h, :, e], the inputs of one unit.
LINEAR_OUTPUT_AXES = (0,)
OutputAxes = dict[str, "tuple[int, ...] | None"]


def output_axes(model: torch.nn.Module) -> OutputAxes:
    """name → the axes of that parameter that index its output units, for every parameter of
    `model`: the owning module's `OUTPUT_AXES` declaration, else axis 0 (nn.Linear's layout);
    None for 1-D parameters (biases), which filter normalisation leaves out."""
    modules = dict(model.named_modules())
    axes: OutputAxes = {}
    for name, p in model.named_parameters():
        parts = name.split(".")
        declared = LINEAR_OUTPUT_AXES
        for depth in range(len(parts) - 1, -1, -1):        # the innermost declaration wins
            table = getattr(modules.get(".".join(parts[:depth])), "OUTPUT_AXES", {})
            if parts[depth] in table:
                declared = table[parts[depth]]
                break
        axes[name] = None if p.ndim < 2 or declared is None else _checked(name, p.ndim, declared)
    return axes


def _checked(name: str, ndim: int, axes) -> tuple[int, ...]:
    axes = tuple(sorted({a % ndim for a in axes})) if all(-ndim <= a < ndim for a in axes) else None
    if not axes or len(axes) == ndim:
        raise ValueError(f"parameter {name!r} ({ndim} axes) needs one to {ndim - 1} output axes")
    return axes


def filter_normalized_direction(params: Params, generator: torch.Generator | None = None,
                                axes: OutputAxes | None = None) -> Params:
    """A random Gaussian direction with each filter rescaled to the norm of the same filter of the
    weights (Li et al. 2018, §4: d_ij ← d_ij / ‖d_ij‖ · ‖θ_ij‖), so the slice does not depend
    on how the weights are scaled. A filter is one output unit: `axes[name]` (see `output_axes`;
    a probe's `output_axes`) gives the axes that index the units, the filter spans the others;
    names it lacks are taken to be stored like nn.Linear, (out, in). Biases and other 1-D
    parameters (and any declared None) get no component, as with Li et al.'s `ignore='biasbn'`.
    A filter whose weights are all zero gets a unit-norm random filter (theirs gets zero, which
    would leave the slice flat along it)."""
    axes = axes or {}
    direction = {}
    for name, w in params.items():
        out = axes.get(name, LINEAR_OUTPUT_AXES) if w.ndim >= 2 else None
        if out is None:
            direction[name] = torch.zeros_like(w)
            continue
        d = torch.randn(w.shape, generator=generator, dtype=w.dtype).to(w.device)
        inputs = [a for a in range(w.ndim) if a not in _checked(name, w.ndim, out)]   # what one filter spans
        norm_d = torch.linalg.vector_norm(d, dim=inputs, keepdim=True)
        norm_w = torch.linalg.vector_norm(w, dim=inputs, keepdim=True)
        norm_w = torch.where(norm_w > 0, norm_w, torch.ones_like(norm_w))
        direction[name] = d * (norm_w / norm_d.clamp_min(1e-12))
    return direction


def flatten(params: Params) -> torch.Tensor:
    return torch.cat([p.reshape(-1) for p in params.values()])


def unflatten(vector: torch.Tensor, like: Params) -> Params:
    out, start = {}, 0
    for name, p in like.items():
        out[name] = vector[start:start + p.numel()].reshape(p.shape)
        start += p.numel()
    return out


def pca_directions(trajectory: list[Params]) -> tuple[Params, Params, np.ndarray, np.ndarray]:
    """The top two principal directions of the trajectory's steps away from its last point, and
    the explained variance ratio of each; returns (d₁, d₂, coordinates (T, 2) of every recorded
    point in that plane around the last point, explained (2,))."""
    components, coordinates, explained = pca_components(torch.stack([flatten(p) for p in trajectory]))
    return (unflatten(components[0], trajectory[-1]), unflatten(components[1], trajectory[-1]),
            coordinates, explained)


def pca_components(flat: torch.Tensor) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """`flat` (T, P): recorded weights, one row per point. Returns the top two unit principal
    directions (2, P) of the offsets from the last row, the coordinates (T, 2) of every row in
    that plane and the share of the offsets' variance each direction explains (2,)."""
    offsets = flat - flat[-1]
    _, s, vt = torch.linalg.svd(offsets, full_matrices=False)
    components = vt[:2] if len(vt) >= 2 else torch.cat([vt, torch.zeros_like(vt)])[:2]
    coordinates = (offsets @ components.T).numpy()
    variance = (s ** 2) / (s ** 2).sum().clamp_min(1e-30)
    explained = np.pad(variance[:2].numpy(), (0, max(0, 2 - len(variance))))
    return components, coordinates, explained


def loss_slice(model: torch.nn.Module, loss_of_output: Callable[[torch.Tensor], torch.Tensor], inputs: tuple,
               d1: Params, d2: Params, alphas: np.ndarray, betas: np.ndarray, chunk: int = 256,
               center: Params | None = None, cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """(len(betas), len(alphas)) losses at θ + α d₁ + β d₂ (θ: `center`, by default the model's
    parameters); `loss_of_output(model(*inputs))` is the loss. `cancelled()` is asked between
    chunks; when it says yes, InterruptedError is raised."""
    a, b = np.meshgrid(np.asarray(alphas, dtype=np.float32), np.asarray(betas, dtype=np.float32))
    points = np.stack([a.ravel(), b.ravel()], axis=1)
    return losses_at(model, loss_of_output, inputs, d1, d2, points, chunk, center, cancelled).reshape(a.shape)


def losses_at(model: torch.nn.Module, loss_of_output: Callable[[torch.Tensor], torch.Tensor], inputs: tuple,
              d1: Params, d2: Params, points: np.ndarray, chunk: int = 256,
              center: Params | None = None, cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """Losses at θ + α d₁ + β d₂ for each row (α, β) of `points` (n, 2), `chunk` rows per vmap call."""
    theta = center if center is not None else parameters_of(model)
    buffers = {name: b for name, b in model.named_buffers()}
    device = next(iter(theta.values())).device
    grid = torch.as_tensor(np.asarray(points, dtype=np.float32).reshape(-1, 2))

    def loss_at(coefficients: torch.Tensor) -> torch.Tensor:
        params = {name: theta[name] + coefficients[0] * d1[name] + coefficients[1] * d2[name] for name in theta}
        return loss_of_output(functional_call(model, {**params, **buffers}, inputs))

    losses = []
    with torch.no_grad():
        for start in range(0, len(grid), chunk):
            if cancelled is not None and cancelled():
                raise InterruptedError("the slice was cancelled")
            losses.append(vmap(loss_at)(grid[start:start + chunk].to(device)).float().cpu())
    return torch.cat(losses).numpy() if losses else np.zeros(0, dtype=np.float32)


def project(offsets: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor) -> np.ndarray:
    """Coordinates (n, 2) of flat offsets (n, P) in the plane spanned by flat d₁, d₂: least squares,
    since filter-normalized random directions are neither unit nor orthogonal."""
    basis = torch.stack([d1, d2])                                            # (2, P)
    gram = basis @ basis.T
    gram = gram + 1e-12 * torch.eye(2, dtype=gram.dtype) * gram.diagonal().max().clamp_min(1e-30)
    rhs = offsets @ basis.T                                                  # (n, 2)
    return torch.linalg.solve(gram, rhs.T).T.numpy()


def interpolation(model: torch.nn.Module, loss_of_output: Callable, inputs: tuple, start: Params,
                  steps: int = 41, end: Params | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Losses along θ(t) = (1 − t) start + t end for t ∈ [0, 1] (end: the current weights)."""
    end = end if end is not None else parameters_of(model)
    direction = {name: end[name] - start[name] for name in end}
    zeros = {name: torch.zeros_like(p) for name, p in end.items()}
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    losses = loss_slice(model, loss_of_output, inputs, direction, zeros, t, np.zeros(1), center=start)[0]
    return t, losses


def top_hessian_eigenvalue(loss_of_params: Callable[[Params], torch.Tensor], params: Params,
                           iterations: int = 50, generator: torch.Generator | None = None,
                           tol: float = 1e-5, preconditioner: Params | None = None) -> float:
    """The largest eigenvalue of ∇²L at `params` (the sharpness) by power iteration on
    Hessian-vector products (double backward; the Hessian is never formed). Against 2 / lr it
    tells whether gradient descent sits at the edge of stability.

    `preconditioner`: the diagonal P of a preconditioned method (name → tensor shaped like the
    parameter, all entries > 0), e.g. Adam's `adam_preconditioner`; then the result is the top
    eigenvalue of P⁻¹H, the sharpness that method sees (Cohen et al. 2022). P⁻¹H is similar to
    the symmetric P^{-1/2} H P^{-1/2}, whose eigenvalues are therefore real and are what the
    iteration finds.

    Power iteration finds the eigenvalue of largest magnitude; near a saddle that one is negative,
    and a second pass on A − λ I (whose largest-magnitude eigenvalue is then λ_max − λ) finds
    the largest one."""
    names = list(params)
    leaves = [params[n].detach().clone().requires_grad_(True) for n in names]
    grads = torch.autograd.grad(loss_of_params(dict(zip(names, leaves))), leaves, create_graph=True)
    # v ↦ P^{-1/2} H P^{-1/2} v; with no preconditioner, scale = 1.
    scale = ([preconditioner[n].to(leaves[i].device, leaves[i].dtype).rsqrt() for i, n in enumerate(names)]
             if preconditioner is not None else [torch.ones_like(p) for p in leaves])

    def operator(vector: list[torch.Tensor]) -> list[torch.Tensor]:
        scaled = [s * v for s, v in zip(scale, vector)]
        return [s * h for s, h in zip(scale, torch.autograd.grad(grads, leaves, grad_outputs=scaled,
                                                                  retain_graph=True))]

    def power(shift: float) -> float:
        vector = [torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device) for p in leaves]
        norm = torch.sqrt(sum((v ** 2).sum() for v in vector))
        vector = [v / norm for v in vector]
        eigenvalue = 0.0
        for step in range(iterations):
            hv = [h - shift * v for h, v in zip(operator(vector), vector)]
            new = float(sum((h * v).sum() for h, v in zip(hv, vector)))      # Rayleigh quotient
            norm = torch.sqrt(sum((h ** 2).sum() for h in hv)).clamp_min(1e-30)
            vector = [h / norm for h in hv]
            if step >= 2 and abs(new - eigenvalue) <= tol * abs(new):
                return new
            eigenvalue = new
        return eigenvalue

    largest_magnitude = power(0.0)
    if largest_magnitude >= 0:
        return largest_magnitude
    return power(largest_magnitude) + largest_magnitude


def adam_preconditioner(exp_avg_sq: Params, step: float, beta2: float, eps: float) -> Params:
    """Adam's P = diag(√v̂ + ε), v̂ = v / (1 − β₂ᵗ) (Kingma & Ba 2015, Alg. 1; Cohen et al. 2022 §2):
    the update is θ ← θ − lr P⁻¹ m̂. `exp_avg_sq`: v, torch's optimizer state of that name, after
    `step` steps. AdamW's decoupled weight decay does not enter P."""
    correction = 1.0 - beta2 ** max(float(step), 1.0)
    return {name: (v / correction).sqrt() + eps for name, v in exp_avg_sq.items()}


def stability_edge(lr: float, momentum: float = 0.0, adaptive: bool = False) -> float:
    """The sharpness above which the method diverges along the top eigenvector of a quadratic:
    2 / lr for gradient descent, (2 + 2β) / lr with heavy-ball momentum β, and for Adam (whose
    sharpness is λ_max(P⁻¹H)) with β₁ = `momentum`, (2 + 2β₁) / ((1 − β₁) lr), i.e. 38 / lr at
    β₁ = 0.9 (Cohen et al. 2022, §2: its m is an EMA, a momentum scaled by 1 − β₁)."""
    if not lr > 0:
        return float("nan")
    return (2 + 2 * momentum) / ((1 - momentum) * lr) if adaptive else (2 + 2 * momentum) / lr
