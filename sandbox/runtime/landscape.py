"""The loss landscape of a run, kept up to date by a thread of its own.

The observer hands every snapshot's weights to `LandscapeTracker.record()`, which keeps a bounded
trajectory and answers at once with what the snapshot should carry: the latest computed surface
and the trajectory projected onto its plane, the newest point placed on the surface by
interpolation. Computing a surface (hundreds of model evaluations, seconds on a CPU core) happens
on the tracker's thread: never on the UI thread, never holding up the training step or the other
views. While training runs it refreshes a coarse grid every `refresh_s` seconds (and never takes
more than about 40% of a core); once training stops it refines the grid for the final
weights, and says so through `on_result` so a paused page shows it. Served, each computation first
takes a work permit (slots.WorkPermits), so only so many pages compute a landscape at once.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..analysis.landscape import (LandscapeProbe, adam_preconditioner, filter_normalized_direction, flatten,
                                  interpolation, losses_at, loss_slice, pca_components, project, stability_edge,
                                  top_hessian_eigenvalue, unflatten)
from .device import lower_thread_priority
from .slots import NO_PERMITS
from .stopping import Stopped

COARSE, FINE = 21, 41            # grid points per side while training / once it stops
TRAJECTORY_POINTS = 64
PCA, RANDOM = "trajectory PCA", "random (filter-normalized)"
DIRECTIONS = (PCA, RANDOM)
REFRESH_CHOICES = {"every 2 s": 2.0, "every 5 s": 5.0, "every 15 s": 15.0, "on Recompute only": 0.0}
# Wait at least this many times a coarse computation's length before the next one while training:
# the landscape then takes at most 40% of the core it shares with the observer and the server.
DUTY = 1.5
MARGIN = 1.25                    # the grid reaches this far beyond the trajectory's farthest point
CHUNK = 32                       # grid points per vmap call (larger chunks run slower on a CPU)
SHARPNESS_ITERATIONS = 20
DIRECTION_SEED = 2018           # the random plane's own seed (Li et al.'s year), unlike any study's default


@dataclass(frozen=True)
class Plane:
    """One computed landscape: a surface around the weights of `step` and the trajectory on it."""

    run_id: int
    step: int
    resolution: int
    directions: str
    center: torch.Tensor          # flat weights the plane is centred on (CPU)
    d1: torch.Tensor
    d2: torch.Tensor
    surface: np.ndarray           # (3, n, n): α, β, loss
    path: np.ndarray              # (m, 4): step, α, β, loss of the recorded points up to `step`
    explained: np.ndarray         # (2,) share of the trajectory's variance along d₁, d₂ (PCA only)
    sharpness: float              # top Hessian eigenvalue at the centre
    preconditioned_sharpness: float   # λ_max(P⁻¹H) with the optimizer's P (Adam); = sharpness without one
    edge: float                   # the optimizer's edge of stability for that sharpness (stability_edge)
    interpolation: np.ndarray     # (k, 2): t and the loss on the straight line from the first point
    seconds: float                # how long it took
    finished_at: float            # time.monotonic() when it was done

    @property
    def key(self) -> tuple:
        return (self.run_id, self.step, self.resolution, self.directions)


def surface_value(surface: np.ndarray, alpha: float, beta: float) -> float:
    """Bilinear interpolation of the surface's loss at (α, β), clamped to its edges."""
    alphas, betas, z = surface[0, 0], surface[1, :, 0], surface[2]
    i = float(np.interp(beta, betas, np.arange(len(betas))))
    j = float(np.interp(alpha, alphas, np.arange(len(alphas))))
    i0, j0 = min(int(i), len(betas) - 2), min(int(j), len(alphas) - 2)
    fi, fj = i - i0, j - j0
    return float((1 - fi) * ((1 - fj) * z[i0, j0] + fj * z[i0, j0 + 1])
                 + fi * ((1 - fj) * z[i0 + 1, j0] + fj * z[i0 + 1, j0 + 1]))


class LandscapeTracker:
    def __init__(self, on_result: Callable[[], None] | None = None,
                 on_error: Callable[[Exception], None] | None = None, permits=NO_PERMITS):
        self.on_result, self.on_error = on_result, on_error
        self.permits = permits
        self.directions = PCA
        self.refresh_s = 2.0
        self._cond = threading.Condition()
        self._run_id: int | None = None
        self._probe: LandscapeProbe | None = None
        self._trajectory: list[tuple[int, torch.Tensor]] = []
        self._latest: tuple[int, float, bool, dict | None] | None = None   # step, lr, training, optimizer
        self._plane: Plane | None = None
        self._attempted: tuple | None = None                        # key of the last computation tried
        self._forced = False
        self._busy = False
        self._reported: Plane | None = None                         # the plane whose sharpness is in history
        self._stopped = threading.Event()     # an event, not a flag: a wait for a permit watches it
        self._thread: threading.Thread | None = None

    # ---- any thread ------------------------------------------------------------
    def begin(self, run_id: int, probe: LandscapeProbe | None) -> None:
        """A new run: forget the old one's trajectory and surface."""
        with self._cond:
            self._run_id, self._probe = run_id, probe
            self._trajectory, self._latest = [], None
            self._plane = self._reported = None
            self._attempted, self._forced = None, False

    def configure(self, directions: str | None = None, refresh_s: float | None = None) -> None:
        with self._cond:
            if directions is not None:
                if directions not in DIRECTIONS:
                    raise ValueError(f"unknown directions {directions!r}; choose one of {', '.join(DIRECTIONS)}")
                self.directions = directions
            if refresh_s is not None:
                if refresh_s < 0:
                    raise ValueError("the refresh interval cannot be negative")
                self.refresh_s = float(refresh_s)
            self._cond.notify_all()

    def recompute(self) -> None:
        """Compute a surface for the newest recorded weights now, whatever the interval says."""
        with self._cond:
            self._forced = True
            self._attempted = None
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is due or being computed (tests, saving)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy and not self._due_now(), timeout)

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped.set()
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the observer's side ---------------------------------------------------
    def record(self, run_id: int, step: int, weights: dict[str, torch.Tensor], lr: float = float("nan"),
               training: bool = False, optimizer: dict | None = None) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Add the weights of `step` to the trajectory; return the scalars and arrays a snapshot of
        that step carries (nothing until a first surface exists). `optimizer`: the optimizer's state at
        these weights as TorchStudy.capture() gives it ("optimizer"): for Adam `exp_avg_sq` (name →
        tensor), `step`, `betas`, `eps`; for SGD `momentum`; None: plain gradient descent."""
        with self._cond:
            if run_id != self._run_id or self._probe is None:
                return {}, {}
            flat = flatten(self._probe.parameters(weights)).detach().float().cpu()
            if self._trajectory and self._trajectory[-1][0] == step:
                self._trajectory[-1] = (step, flat)
            else:
                self._trajectory.append((step, flat))
                if len(self._trajectory) > TRAJECTORY_POINTS:   # thin out, keeping the first and the newest
                    self._trajectory = self._trajectory[:-1:2] + [self._trajectory[-1]]
            self._latest = (step, float(lr), bool(training), optimizer)
            self._ensure_thread()
            self._cond.notify_all()
            return self._payload(step, flat)

    def _payload(self, step: int, flat: torch.Tensor) -> tuple[dict, dict]:
        plane = self._plane
        if plane is None:
            return {}, {}
        path = plane.path[plane.path[:, 0] <= step]
        if step > plane.step:
            # Points recorded since the surface was computed: placed on it by projection.
            later = [(s, f) for s, f in self._trajectory if plane.step < s < step] + [(step, flat)]
            coords = project(torch.stack([f for _, f in later]) - plane.center, plane.d1, plane.d2)
            rows = [(s, a, b, surface_value(plane.surface, a, b)) for (s, _), (a, b) in zip(later, coords)]
            path = np.concatenate([path, np.asarray(rows, dtype=np.float32)])
        scalars = {"landscape.step": float(plane.step), "landscape.resolution": float(plane.resolution),
                   "landscape.explained1": float(plane.explained[0]),
                   "landscape.explained2": float(plane.explained[1])}
        if plane is not self._reported:      # sharpness goes into the history once per computed surface
            self._reported = plane
            scalars["landscape.sharpness"] = plane.sharpness
            scalars["landscape.preconditioned_sharpness"] = plane.preconditioned_sharpness
            scalars["landscape.stability_edge"] = plane.edge
        arrays = {"landscape.surface": plane.surface,
                  "landscape.path": np.ascontiguousarray(path[:, 1:4]),
                  "landscape.path_steps": np.ascontiguousarray(path[:, 0]),
                  "landscape.interpolation": plane.interpolation}
        return scalars, arrays

    # ---- the tracker's thread --------------------------------------------------
    def _ensure_thread(self) -> None:
        if not self._stopped.is_set() and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=self._loop, name="sandbox-landscape", daemon=True)
            self._thread.start()

    def _wanted(self) -> tuple | None:
        """The key of the surface the newest weights call for."""
        if self._latest is None or self._probe is None:
            return None
        step, _, training, _ = self._latest
        return (self._run_id, step, COARSE if training else FINE, self.directions)

    def _wait_s(self) -> float | None:
        """Seconds until a computation is due; None: nothing to do until something changes."""
        wanted = self._wanted()
        if wanted is None or wanted == self._attempted or (self._plane is not None and wanted == self._plane.key):
            return None
        plane, training = self._plane, self._latest[2]
        if (self._forced or plane is None or plane.run_id != self._run_id or not training
                or plane.directions != self.directions):
            return 0.0
        if self.refresh_s <= 0:
            return None
        coarse_seconds = plane.seconds * (COARSE / plane.resolution) ** 2     # a fine grid costs more
        return max(0.0, plane.finished_at + max(self.refresh_s, DUTY * coarse_seconds) - time.monotonic())

    def _due_now(self) -> bool:
        wait = self._wait_s()
        return wait is not None and wait <= 0

    def _loop(self) -> None:
        lower_thread_priority()
        while self._until_due():
            try:
                # The permit is waited for outside the condition: record() (the observer) never waits on it.
                with self.permits.held(self._stopped):
                    plane = self._compute_due()
            except Stopped:
                return
            if plane is not None and self.on_result is not None:
                self.on_result()

    def _until_due(self) -> bool:
        """Wait until a computation is due: True; or until stopped: False."""
        with self._cond:
            while not self._stopped.is_set():
                wait = self._wait_s()
                if wait is not None and wait <= 0:
                    return True
                self._cond.wait(timeout=wait)
            return False

    def _compute_due(self) -> Plane | None:
        """The surface due now (the newest weights': newer ones may have come during the wait for a
        permit); None if nothing is due any more, or the computation failed or was cancelled."""
        with self._cond:
            if self._stopped.is_set() or not self._due_now():
                return None
            key = self._wanted()
            job = (key, self._probe, list(self._trajectory), self._latest[1], self._latest[3])
            self._attempted, self._forced, self._busy = key, False, True
        try:
            plane = self._compute(*job)
        except InterruptedError:  # stopped, or a new run began: the result is not wanted
            plane = None
        except Exception as exc:  # noqa: BLE001 - a failed landscape must not stop training
            plane = None
            if self.on_error is not None:
                self.on_error(exc)
        with self._cond:
            self._busy = False
            if plane is not None and plane.run_id == self._run_id:
                self._plane = plane
            self._cond.notify_all()
        return plane

    @staticmethod
    def _random_directions(center: dict[str, torch.Tensor], axes: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Two random directions filter-normalized to the weights at the centre, each filter an output
        unit along the axes the model declares (`axes`, from the probe). The draw is seeded: every
        surface of a run uses the same directions, rescaled as the weights' norms change."""
        # Not seed 0: the studies draw their initial weights from seed 0 by default, in the same order,
        # and the first direction was then the initial weights themselves.
        generator = torch.Generator().manual_seed(DIRECTION_SEED)
        return tuple(flatten(filter_normalized_direction(center, generator, axes)) for _ in range(2))

    def _compute(self, key: tuple, probe: LandscapeProbe, trajectory: list, lr: float,
                 optimizer: dict | None = None) -> Plane:
        started = time.perf_counter()
        run_id, step, resolution, directions = key
        steps = np.array([s for s, _ in trajectory], dtype=np.float32)
        flats = torch.stack([f for _, f in trajectory])
        center = flats[-1]
        device = next(iter(probe.model.parameters())).device
        like = dict(probe.model.named_parameters())       # names and shapes, for unflatten
        explained = np.full(2, np.nan, dtype=np.float32)
        if directions == PCA and len(trajectory) >= 3 and float((flats - center).abs().max()) > 0:
            components, coords, explained = pca_components(flats)
            d1, d2 = components[0], components[1]
            half = MARGIN * float(np.abs(coords).max())
        else:
            # Asked for, or too short a trajectory for a plane of its own: Li et al.'s random plane,
            # [-1, 1]² (widened only as far as the path needs).
            d1, d2 = self._random_directions(unflatten(center, like), probe.output_axes)
            coords = project(flats - center, d1, d2)
            half = max(1.0, MARGIN * float(np.abs(coords).max()))
        on_device = lambda flat: {k: v.to(device) for k, v in unflatten(flat, like).items()}  # noqa: E731
        theta, u, v = on_device(center), on_device(d1), on_device(d2)
        grid = np.linspace(-half, half, resolution, dtype=np.float32)
        cancelled = lambda: self._stopped.is_set() or self._run_id != run_id  # noqa: E731
        z = loss_slice(probe.model, probe.loss_of_output, probe.inputs, u, v, grid, grid, chunk=CHUNK, center=theta,
                       cancelled=cancelled)
        alphas, betas = np.meshgrid(grid, grid)
        path_loss = losses_at(probe.model, probe.loss_of_output, probe.inputs, u, v, coords, chunk=CHUNK,
                              center=theta, cancelled=cancelled)
        sharpness = top_hessian_eigenvalue(probe.loss_of_params, theta, iterations=SHARPNESS_ITERATIONS,
                                           generator=torch.Generator().manual_seed(step), tol=1e-3)
        adaptive, preconditioner, edge = optimizer_preconditioning(optimizer, lr)
        preconditioned = sharpness if not adaptive else float("nan") if preconditioner is None else (
            top_hessian_eigenvalue(probe.loss_of_params, theta, iterations=SHARPNESS_ITERATIONS, tol=1e-3,
                                   generator=torch.Generator().manual_seed(step), preconditioner=preconditioner))
        t, line = interpolation(probe.model, probe.loss_of_output, probe.inputs, on_device(flats[0]),
                                steps=FINE, end=theta)
        return Plane(run_id=run_id, step=step, resolution=resolution, directions=directions, center=center,
                     d1=d1, d2=d2, surface=np.stack([alphas, betas, z]).astype(np.float32),
                     path=np.c_[steps, coords, path_loss].astype(np.float32), explained=explained,
                     sharpness=float(sharpness), preconditioned_sharpness=float(preconditioned), edge=edge, interpolation=np.stack([t, line], axis=1).astype(np.float32),
                     seconds=time.perf_counter() - started, finished_at=time.monotonic())


def optimizer_preconditioning(optimizer: dict | None, lr: float) -> tuple[bool, dict | None, float]:
    """(adaptive, P, edge of stability) for the optimizer state `record()` was given: for Adam its
    diagonal P (None before its first step, when it has no second moment yet) and
    (2 + 2β₁) / ((1 − β₁) lr); for SGD no P and (2 + 2β) / lr (2 / lr without momentum)."""
    if optimizer and "betas" in optimizer:
        beta1, beta2 = optimizer["betas"]
        P = (adam_preconditioner(optimizer["exp_avg_sq"], optimizer["step"], beta2, optimizer["eps"])
             if optimizer.get("exp_avg_sq") else None)
        return True, P, stability_edge(lr, beta1, adaptive=True)
    return False, None, stability_edge(lr, (optimizer or {}).get("momentum", 0.0))
