"""Study D: retrieval in Hopfield networks and associative memories.

One Runner step is one iteration of the retrieval on screen: a synchronous update, an eighth of
an asynchronous sweep (so the picture changes unit group by unit group), or one update of a
modern net. The rest of each step's time budget (`frame_ms`) runs the background experiments a
point at a time: the success rate over the load α = P/N (capacity) and over the query noise
(basin of attraction). When the retrieval has converged and both curves are complete the study
is finished and the Runner pauses.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

import numpy as np
import param
import torch

from ..analysis import hopfield as recall
from ..models.hopfield import KINDS, ModernHopfield, make_network
from ..runtime.device import resolve_device
from ..runtime.sweep import Measure
from ..tasks.patterns import DATASETS, image_shape, make_patterns
from .base import Study, StudyConfig, register
from .cost import FLOAT, Cost
from .sweep_points import hopfield_point

ASYNC_PARTS = 8                                  # an asynchronous sweep is shown in this many steps
SHOWN_PATTERNS = 24                              # stored patterns drawn (and overlap bars)
CAPACITY_ALPHAS = np.round(np.arange(0.02, 0.305, 0.02), 3)
CAPACITY_NOISE = 0.10                            # the capacity curve's queries have 10% of units flipped
BASIN_NOISE = np.round(np.arange(0.0, 0.501, 0.05), 3)
LANDSCAPE_GRID = 41                              # the energy surface: 41 × 41 mixed states
PATH_LIMIT = 2000                                # retrieval steps kept for the 3-D path


class HopfieldConfig(StudyConfig):
    network = param.Selector(default="classical", objects=list(KINDS),
                             doc="classical: Hebbian ±1 net; dense: Krotov–Hopfield E = −Σ F(ξ·s); modern: "
                                 "continuous, softmax over stored patterns; sparse: sparsemax instead.")
    rule = param.Selector(default="async", objects=["async", "sync"],
                          doc="±1 nets: update one unit at a time (async) or all at once (sync).")
    degree = param.Integer(default=3, bounds=(0, 10), doc="Dense net: F(x) = xⁿ with this n ≥ 2; 0 for F = exp.")
    beta = param.Number(default=1.0, bounds=(1e-3, 100.0), label="β",
                        doc="Modern / sparse nets: inverse temperature. Small β averages stored patterns "
                            "(metastable mixtures); large β retrieves one.")
    patterns = param.Selector(default="random", objects=list(DATASETS),
                              doc="Random ±1 patterns, or scikit-learn's 8×8 digits binarized (N = 64).")
    n_units = param.Integer(default=100, bounds=(4, 4096), label="N (units)", doc="Units of random patterns.")
    n_patterns = param.Integer(default=10, bounds=(1, 2000), label="P (stored patterns)")
    target = param.Integer(default=0, bounds=(0, 1999), doc="Which stored pattern the query is made from "
                                                            "(click a stored pattern).")
    noise = param.Number(default=0.2, bounds=(0.0, 1.0), doc="Share of the query's units flipped.")
    occlusion = param.Number(default=0.0, bounds=(0.0, 1.0), doc="Share of the query hidden (its last "
                                                                 "units, the bottom rows, set to −1).")
    drawn = param.List(default=[], item_type=int, doc="Units flipped by hand in the query (click its cells).")
    frame_ms = param.Number(default=120.0, bounds=(0.0, 5000.0), label="Frame (ms)",
                            doc="Least time per iteration while running, so the retrieval can be watched; "
                                "the time left goes to the background experiments.")
    experiments = param.Boolean(default=True, doc="Measure the capacity and basin curves in the background.")
    capacity_units = param.Integer(default=400, bounds=(16, 2000),
                                   doc="N of the random patterns in the capacity experiment.")

    def check(self) -> None:
        super().check()
        if self.network == "dense" and self.degree == 1:
            raise ValueError("the dense net needs degree n ≥ 2 (n = 1 is not a memory), or 0 for exp")
        if self.patterns == "digits" and self.n_patterns > 1797:
            raise ValueError("there are 1797 digits to store")
        if self.target >= self.n_patterns:
            raise ValueError(f"the query's pattern must be one of the {self.n_patterns} stored "
                             f"(0 … {self.n_patterns - 1}), got {self.target}")

    def cost(self) -> Cost:
        """The weights (N × N for ±1 nets), the stored (P, N) patterns, and the energy surface: one
        energy, N × (N + P) operations, for each of the 41 × 41 states of the plane, all at once. A
        capacity point builds a net of capacity_units (load up to 0.3) and retrieves through it."""
        n = 64 if self.patterns == "digits" else self.n_units
        grid, nc = LANDSCAPE_GRID ** 2, self.capacity_units
        memory = FLOAT * (3 * n * n + 4 * self.n_patterns * n + 2 * grid * (n + self.n_patterns) + 3 * nc * nc)
        work = max(2 * grid * n * (n + self.n_patterns), 2 * 2 * nc * nc * nc)
        return Cost(memory=memory, work=work, memory_from=("n_units", "n_patterns", "capacity_units"),
                    work_from=("n_units", "n_patterns", "capacity_units"))


class _Curve:
    """A success-rate curve measured one point per call, on the training thread."""

    def __init__(self, xs: np.ndarray, measure):
        self.xs, self.measure = xs, measure
        self.ys = np.full(len(xs), np.nan)

    @property
    def done(self) -> bool:
        return not np.isnan(self.ys).any()

    def advance(self) -> None:
        i = int(np.flatnonzero(np.isnan(self.ys))[0])
        self.ys[i] = self.measure(self.xs[i])


class _FinishedCurves:
    """Curves already measured, by their settings, shared by every session (a new query or a
    Reset does not measure them again)."""

    def __init__(self, size: int = 64):
        self.size, self.lock, self.items = size, threading.Lock(), OrderedDict()

    def get(self, key):
        with self.lock:
            return None if key not in self.items else self.items[key].copy()

    def put(self, key, ys) -> None:
        with self.lock:
            self.items[key] = ys.copy()
            while len(self.items) > self.size:
                self.items.popitem(last=False)


FINISHED = _FinishedCurves()


@register
class HopfieldStudy(Study):
    name = "hopfield"
    title = "Hopfield networks: retrieval, capacity and basins"
    Config = HopfieldConfig
    LIVE = ("frame_ms",)
    RESTART = ("target", "noise", "occlusion", "beta", "drawn")
    SELECTION = ("target", "drawn")
    APPS = ("hopfield",)
    TINY = dict(n_units=36, n_patterns=4, capacity_units=32, frame_ms=0.0, device="cpu")
    HEADLINE = {"overlap.target": "overlap", "energy": "energy"}
    SWEEP = Measure(hopfield_point, "success", "share of noisy queries retrieved",
                    extra_axes={"load": (0.001, 4.0), "noise": (0.0, 0.5)})
    DEFAULT_PRESET = "classical, 10 patterns"
    BASE = dict(network="classical", rule="async", degree=3, beta=1.0, patterns="random", n_units=100,
                n_patterns=10, target=0, noise=0.2, occlusion=0.0, drawn=[], frame_ms=120.0, experiments=True,
                capacity_units=400, seed=0)
    PRESETS = {
        "classical, 10 patterns": BASE,
        "classical, overloaded": {**BASE, "n_patterns": 25, "target": 1},
        "dense n = 3, overloaded": {**BASE, "n_patterns": 25, "target": 1, "network": "dense"},
        "modern, P = 4N": {**BASE, "network": "modern", "n_units": 64, "n_patterns": 256},
        "digits, classical": {**BASE, "patterns": "digits", "target": 3},
        "digits, dense exp": {**BASE, "patterns": "digits", "target": 3, "network": "dense", "degree": 0},
        "digits, modern, small β": {**BASE, "patterns": "digits", "target": 3, "network": "modern", "beta": 0.1},
        "digits, sparse, small β": {**BASE, "patterns": "digits", "target": 3, "network": "sparse", "beta": 0.1},
    }
    PRESET_NOTES = {
        "classical, 10 patterns": "Load α = P/N = 0.1, under the classical capacity 0.138: the query, 20% of "
                                  "its units flipped, falls back to its pattern (overlap → 1) while the energy "
                                  "only goes down. The capacity and basin curves fill in as they are measured.",
        "classical, overloaded": "α = 0.25, beyond capacity: retrieval from 20% noise mostly fails (see the "
                                 "basin curve: about half the patterns are not even fixed points).",
        "dense n = 3, overloaded": "The same load in a dense associative memory, F(x) = x³: its capacity grows "
                                   "like N², so α = 0.25 is easy (basin curve at 1 up to 30% noise).",
        "modern, P = 4N": "256 patterns of 64 units (α = 4): the modern net still retrieves from 20% noise, "
                          "in one or two updates.",
        "digits, classical": "Ten binarized digits look alike (pairwise overlaps up to 0.81 in size), so a classical net holds "
                             "none of them: not one is a fixed point (basin curve at 0).",
        "digits, dense exp": "The same digits in a dense memory with F = exp: every digit comes back from "
                             "10–20% noise.",
        "digits, modern, small β": "β = 0.1: the state ends as an average of similar digits (a metastable "
                                   "mixture; overlap ~0.6 with several). Raise β to 0.2 and digit 3 comes back.",
        "digits, sparse, small β": "Sparsemax at the same β = 0.1: only the closest digits get weight, so "
                                   "the digit comes back where softmax averaged.",
    }

    # ---- build -----------------------------------------------------------------
    def build(self) -> None:
        c = self.config
        self.finished, self.finished_message = False, ""
        self.device = resolve_device(c.device)
        stored = make_patterns(c.patterns, c.n_patterns, c.n_units, seed=c.seed)
        self.stored = torch.as_tensor(stored, device=self.device)
        self.n_units = self.stored.shape[1]
        self.shape = (8, 8) if c.patterns == "digits" else image_shape(self.n_units)
        self.net = make_network(c.network, self.stored, degree=c.degree, beta=c.beta)
        generator = torch.Generator().manual_seed(c.seed + 1)
        query = recall.corrupt(self.stored[c.target:c.target + 1].cpu(), c.noise, c.occlusion, generator)
        for unit in c.drawn:
            if 0 <= unit < self.n_units:
                query[0, unit] = -query[0, unit]
        self.query = query.to(self.device)
        self.state = self.query.clone()
        self.order_rng = torch.Generator().manual_seed(c.seed + 2)
        self.order: list[int] = []          # the async sweep in progress
        self.changed_in_sweep = 0
        self.changed = 0.0                  # share of units changed by the last iteration
        self.converged = False
        self.curves = self._curves() if c.experiments else {}
        self._build_landscape()

    def _build_landscape(self) -> None:
        """The energy over the plane of the query's pattern and its strongest rival (the other
        stored pattern closest to the query; with one pattern, a fixed random one)."""
        c = self.config
        a = self.stored[c.target]
        rivals = recall.overlaps(self.query, self.stored)[0].abs()
        rivals[c.target] = -1.0
        if len(self.stored) > 1 and not torch.equal(self.stored[int(rivals.argmax())], a):
            self.rival = int(rivals.argmax())
            b = self.stored[self.rival]
        else:
            self.rival = -1
            b = recall.random_patterns(1, self.n_units, torch.Generator().manual_seed(c.seed))[0].to(self.device)
        self.plane = torch.stack([a, b])
        self.landscape = recall.energy_plane(self.net, a, b, LANDSCAPE_GRID)
        self.path: list[tuple[float, float, float]] = []
        self._record_state()

    def _record_state(self) -> None:
        """Record the state's energy (the step's return value) and its place on the plane."""
        self.energy = float(self.net.energy(self.state)[0])
        if len(self.path) < PATH_LIMIT:
            x, y = recall.plane_coordinates(self.state.cpu(), *self.plane.cpu())[0]
            self.path.append((float(x), float(y), self.energy))

    def _curves(self) -> dict[str, _Curve]:
        c = self.config
        settings = (c.network, c.rule, c.degree, c.beta, c.seed)
        capacity = _Curve(CAPACITY_ALPHAS, lambda a: recall.success_rate(
            c.network, c.capacity_units, max(1, round(a * c.capacity_units)), CAPACITY_NOISE, trials=2,
            degree=c.degree, beta=c.beta, rule=c.rule, seed=c.seed))
        stored = self.stored.cpu()
        basin = _Curve(BASIN_NOISE, lambda noise: recall.success_rate(
            c.network, self.n_units, len(stored), float(noise), trials=2, queries=32, degree=c.degree,
            beta=c.beta, rule=c.rule, seed=c.seed, patterns=stored))
        curves = {"capacity": (capacity, ("capacity", c.capacity_units, *settings)),
                  "basin": (basin, ("basin", c.patterns, c.n_units, c.n_patterns, *settings))}
        for curve, key in curves.values():
            known = FINISHED.get(key)
            if known is not None:
                curve.ys = known
        return curves

    @property
    def step_period(self) -> float:
        """A retrieval is an animation: one iteration per frame (the Runner waits out the rest of it).
        Once converged, the experiments left run as fast as they can."""
        return 0.0 if self.converged else self.config.frame_ms / 1000

    # ---- one step: one iteration, then the experiments -------------------------------------
    def step(self) -> float:
        started = time.perf_counter()
        if not self.converged:
            self._iterate()
            self._record_state()
        deadline = started + self.config.frame_ms / 1000
        pending = [(curve, key) for curve, key in self.curves.values() if not curve.done]
        while pending:                       # at least one point per step, more while time is left
            curve, key = pending[0]
            curve.advance()
            if curve.done:
                FINISHED.put(key, curve.ys)
                pending.pop(0)
            if time.perf_counter() >= deadline:
                break
        if self.converged and not pending:
            self.finished = True
            self.finished_message = (f"Retrieval converged (overlap {self._target_overlap():.2f})"
                                     + (" and the capacity and basin curves are measured." if self.curves else ".")
                                     + " Change the query, or press Reset.")
        return self.energy

    def _iterate(self) -> None:
        if isinstance(self.net, ModernHopfield):
            new = self.net.update(self.state)
            self.changed = float((new - self.state).abs().max())
            self.converged = self.changed <= 1e-5 * self.n_units
            self.state = new
            return
        if self.config.rule == "sync":
            new = self.net.update_sync(self.state)
            self.changed = float((new != self.state).float().mean())
            self.converged = self.changed == 0
            self.state = new
            return
        if not self.order:
            self.order = torch.randperm(self.n_units, generator=self.order_rng).tolist()
            self.changed_in_sweep = 0
        part = math.ceil(self.n_units / ASYNC_PARTS)
        units, self.order = self.order[:part], self.order[part:]
        new = self.net.update_units(self.state, units)
        changed = int((new != self.state).sum())
        self.changed, self.state = changed / self.n_units, new
        self.changed_in_sweep += changed
        if not self.order:                       # a whole sweep without a change: a fixed point
            self.converged = self.changed_in_sweep == 0

    def _target_overlap(self) -> float:
        return float(recall.overlaps(self.state, self.stored)[0, self.config.target])

    # ---- observe ---------------------------------------------------------------
    def capture(self) -> dict:
        return {"state": self.state.detach().cpu().clone(), "energy": self.energy, "changed": self.changed,
                "path": np.asarray(self.path, dtype=np.float32),
                "converged": self.converged,
                "curves": {name: curve.ys.copy() for name, (curve, _) in self.curves.items()}}

    def observe(self, captured) -> tuple[dict, dict]:
        c, stored = self.config, self.stored.cpu()
        state = captured["state"]
        m = recall.overlaps(state, stored)[0].numpy()
        others = np.delete(m, c.target)
        scalars = {
            "overlap.target": float(m[c.target]),
            "overlap.best_other": float(np.abs(others).max()) if len(others) else 0.0,
            "energy": captured["energy"],
            "changed": float(captured["changed"]),
            "converged": float(captured["converged"]),
        }
        shown = min(len(stored), SHOWN_PATTERNS)
        rows, cols = self.shape
        arrays = {
            "patterns.stored": stored[:shown].reshape(shown, rows, cols).numpy(),
            "patterns.target": np.asarray([c.target], dtype=np.int64),
            # Query, current state, and the pattern it came from, side by side.
            "retrieval.images": torch.stack([self.query[0].cpu(), state[0], stored[c.target]])
                                     .reshape(3, rows, cols).numpy(),
            "retrieval.overlaps": m[:shown].astype(np.float32),
            # The 3-D view: (m_a, m_b, energy) over the plane of two patterns, and the path so far.
            "landscape.surface": self.landscape.astype(np.float32),
            "landscape.path": captured["path"],
            "landscape.patterns": np.asarray([c.target, self.rival], dtype=np.int64),
        }
        # Curves not measured (experiments off, or not yet) are NaN: the views draw nothing there.
        curves = {"capacity": np.full(len(CAPACITY_ALPHAS), np.nan), "basin": np.full(len(BASIN_NOISE), np.nan),
                  **captured["curves"]}
        arrays |= {"capacity.alpha": CAPACITY_ALPHAS.astype(np.float32),
                   "capacity.success": curves["capacity"].astype(np.float32),
                   "basin.noise": BASIN_NOISE.astype(np.float32),
                   "basin.success": curves["basin"].astype(np.float32)}
        # Points are measured from the lowest load up, so the pending ones lie beyond any crossing.
        estimate = recall.capacity(CAPACITY_ALPHAS, np.nan_to_num(curves["capacity"], nan=1.0))
        if not math.isnan(estimate):
            scalars["capacity.estimate"] = estimate
        return scalars, arrays

    def snapshot(self):
        return self.observe(self.capture())

    def state_dict(self) -> dict:
        return {"state": self.state.detach().cpu(), "query": self.query.detach().cpu(),
                "path": torch.tensor(self.path, dtype=torch.float32).reshape(-1, 3)}

    def load_state_dict(self, state: dict) -> None:
        self.state = state["state"].to(self.device)
        self.query = state["query"].to(self.device)
        if "path" in state:
            self.path = [tuple(row) for row in state["path"].tolist()]
        self.energy = float(self.net.energy(self.state)[0])
