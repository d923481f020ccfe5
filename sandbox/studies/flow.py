"""Study C: 2-D flow matching, and how the source distribution shapes it (Jeong et al., "Is
there a better source distribution than Gaussian?", code github.com/kwanseokk/SourceFM).

Conditional flow matching on the straight path x_t = (1 − t) x₀ + t x₁: a velocity MLP learns
v(x_t, t) ≈ x₁ − x₀ for source samples x₀ and target samples x₁, paired independently or by
minibatch optimal transport. Each snapshot integrates a fixed set of source particles to t = 1
and measures the result against held-out target samples.
"""
from __future__ import annotations

import numpy as np
import param
import torch

from ..analysis import flow as metrics
from ..analysis.landscape import PROBE_SAMPLES, LandscapeProbe
from ..models.velocity import METHODS, VelocityMLP, integrate, integrate_converged
from ..runtime.device import resolve_device
from ..tasks.flow2d import (NEEDS_MODES, SOURCES, TARGETS, TARGETS_WITHOUT_MODES, Source, gaussian_of, make_target,
                            nearest_mode_by_direction, outside_cone, prune, pruning_axis, sparse_directions)
from .base import StudyConfig, TorchStudy, register
from .cost import FLOAT, STEP_OVERHEAD, Cost, landscape_memory

PARTICLES = 1024          # fixed source particles integrated at every snapshot
SHOWN = 512               # of them, sent to the views
W2_POINTS = 512           # exact W2 on this many points (the Hungarian solver is O(n³))
CROSSING_PATHS = 96       # entanglement is measured on this many paths …
CROSSING_SEGMENTS = 16    # … each cut to at most this many segments
QUALITY_NFE = (1, 2, 4, 8, 16, 32)
CONVERGED_NFE = 300       # dopri5's evaluations per snapshot, at most, measured on trained presets (60–300)
FIELD_GRID, FIELD_TIMES = 21, np.linspace(0.0, 1.0, 11)
COUPLINGS = ("independent", "minibatch OT", "mode-matched")
EMA_DECAY = 0.99          # the observed weights average the last ~100 steps
STRANDED_AT = {"three directions": 1.0}   # the paper's threshold; others: 0.125 × the data's scale
COVERAGE_WITHIN = {"three directions": 0.5}   # the paper's ε; others: 0.0625 × the data's scale
PRUNINGS = ("sparse sectors", "one cone")
PRUNED_CONE_COSINE = 0.98   # the paper's one pruned cone: ±11.5° around −PC2, 6.4% of the directions
EARLY_SAMPLES = 8192      # the early-model source's bank of samples


class FlowConfig(StudyConfig):
    target = param.Selector(default="8 gaussians", objects=list(TARGETS), doc="The distribution to generate.")
    source = param.Selector(default="gaussian", objects=list(SOURCES), doc="Where the particles start.")
    coupling = param.Selector(default="independent", objects=list(COUPLINGS),
                              doc="How source and target samples are paired in a batch. Minibatch OT: the exact "
                                  "optimal assignment within the batch (squared distances), as the paper's exact "
                                  "OT-CFM; its 'perfect pairing' is this on a batch of the whole data (1024). "
                                  "Mode-matched (ours): each source sample goes to a random target sample of the "
                                  "mode its direction points to (targets with modes only).")
    n_data = param.Integer(default=4096, bounds=(16, 200_000), doc="Target samples training draws from.")
    batch_size = param.Integer(default=256, bounds=(2, 8192), doc="Pairs per Adam step.")
    lr = param.Number(default=1e-3, bounds=(1e-5, 0.1), label="Learning rate", doc="Adam learning rate (live).")
    width = param.Integer(default=128, bounds=(8, 1024), doc="Hidden units per layer of the velocity MLP.")
    depth = param.Integer(default=3, bounds=(1, 8), doc="Hidden layers of the velocity MLP.")
    normalize = param.Boolean(default=True, doc="Feed the MLP coordinates in units of the data's scale (and "
                                                "scale its output back). Off: raw coordinates, as in the paper's code.")
    method = param.Selector(default="euler", objects=list(METHODS), doc="ODE solver for sampling (live).")
    nfe = param.Integer(default=16, bounds=(1, 256), label="NFE", doc="Velocity evaluations per sample (live).")
    pruned = param.Boolean(default=False, doc="Directionally pruned sampling: drop source particles that "
                                              "point into data-sparse directions (live).")
    pruning = param.Selector(default="sparse sectors", objects=list(PRUNINGS),
                             doc="Which directions pruned sampling drops (live). Sparse sectors (ours): every 5° "
                                 "sector holding under a quarter of its even share of the data, about half of "
                                 "all directions for 8 gaussians. One cone (the paper's): the directions with "
                                 "cosine > 0.98 to −PC2 of the data, a sixteenth of them.")
    converged = param.Boolean(default=False, label="Converged reference",
                              doc="Also sample each snapshot with an adaptive solver (dopri5, atol = rtol = 1e-4, "
                                  "as the paper samples) and report its metrics as converged.* (live). The "
                                  "fixed-step solver's gap to it is discretisation error, not training. "
                                  "Costs ~200-300 evaluations of the MLP per snapshot: about a second on a CPU.")
    concentration = param.Number(default=20.0, bounds=(0.1, 1000.0),
                                 doc="Directional source: von Mises κ around the target's mode directions.")
    cone_cosine = param.Number(default=0.9, bounds=(-1.0, 1.0),
                               doc="Directional cones source (the paper's): the setting's Gaussian kept where its "
                                   "direction has cosine ≥ this with one of the data's directions, each cone "
                                   "holding its mode's mass. 0.9: ±26° (loose), 0.98: ±11.5° (tight).")
    missed_modes = param.Integer(default=0, bounds=(0, 16),
                                 doc="Directional source: leave out the target's this many smallest modes "
                                     "(a source designed from a biased estimate of the data).")
    early_steps = param.Integer(default=200, bounds=(0, 100_000),
                                doc="Early-model source: the steps its model trained (from the Gaussian of "
                                    "the target's setting) before its samples became the source.")
    norm_ratio = param.Number(default=1.0, bounds=(0.05, 20.0),
                              doc="Norm-aligned source: its radii × this. 1 aligns the norms with the data's; "
                                  "the paper's high-dimensional picture has 55/25 ≈ 2.2.")
    components = param.Integer(default=8, bounds=(1, 64), doc="Mixture-fit source: Gaussians in the fit.")
    equal_weights = param.Boolean(default=False, doc="Mixture-fit source: give every Gaussian the same mass "
                                                     "(a density fit that finds the modes but not their masses).")
    blobs = param.List(default=[], item_type=list, doc="Drawn source: [x, y, σ] blobs (click the plane).")

    def check(self) -> None:
        super().check()
        if self.coupling == "mode-matched" and self.target in TARGETS_WITHOUT_MODES:
            raise ValueError(f"mode-matched coupling needs a target with modes; {self.target!r} has none")
        if self.source in NEEDS_MODES and self.target in TARGETS_WITHOUT_MODES:
            raise ValueError(f"the {self.source} source needs a target with modes; {self.target!r} has none")
        for blob in self.blobs:
            if len(blob) != 3 or not blob[2] > 0:
                raise ValueError(f"a drawn blob is [x, y, σ] with σ > 0, got {blob}")

    def _mlp_flops(self, n: int) -> float:
        """One forward pass of the velocity MLP over n points: (2 + 16 time features) → width, then
        depth − 1 width × width layers, then → 2."""
        w = self.width
        return 2.0 * n * (18 * w + (self.depth - 1) * w * w + 2 * w)

    def cost(self) -> Cost:
        """A build trains the early-model source's own model first (early_steps steps, none of them
        free however small), a snapshot integrates 1024 particles over NFE steps plus the quality
        and field probes; a step holds the batch's activations, and minibatch OT its batch² costs."""
        w, batch = self.width, self.batch_size
        snapshot = self._mlp_flops(1) * (PARTICLES * (self.nfe + CONVERGED_NFE * self.converged)
                                         + W2_POINTS * (sum(QUALITY_NFE) + 1) + FIELD_GRID ** 2 * len(FIELD_TIMES))
        build = 0.0
        if self.source == "early model":
            build = (self.early_steps * max(3 * self._mlp_flops(batch), STEP_OVERHEAD)
                     + self._mlp_flops(EARLY_SAMPLES) * 32)                 # the bank: 32 NFE
        params = 18 * w + (self.depth - 1) * w * w + 2 * w
        memory = FLOAT * (4 * batch * w * self.depth + 2 * EARLY_SAMPLES * w + 4 * PARTICLES * (self.nfe + 1)
                          + 8 * params) + 8 * 2 * batch * batch * (self.coupling == "minibatch OT")
        memory += landscape_memory(PROBE_SAMPLES, w * self.depth)
        if self.source == "mixture fit":
            memory += 8 * 2 * self.n_data * self.components       # k-means distances, float64
        slower = ("early_steps", "width", "depth", "batch_size") if build > snapshot else ("nfe", "width", "depth")
        return Cost(memory=memory, work=max(build, snapshot), memory_from=("batch_size", "width", "depth"),
                    work_from=slower)


@register
class FlowStudy(TorchStudy):
    name = "flow"
    title = "Flow matching in 2-D: which source distribution?"
    Config = FlowConfig
    LIVE = ("lr", "method", "nfe", "pruned", "pruning", "converged")
    OBSERVED = ("method", "nfe", "pruned", "pruning", "converged")    # sampling only: a paused run re-samples at once
    APPS = ("flow_matching", "flow_compare")
    TINY = dict(n_data=256, batch_size=32, width=16, depth=1, nfe=4, device="cpu")
    HEADLINE = {"quality.energy": "energy dist", "quality.stranded": "stranded"}
    DEFAULT_PRESET = "8 gaussians"
    BASE = dict(target="8 gaussians", source="gaussian", coupling="independent", n_data=4096, batch_size=256,
                lr=1e-3, width=128, depth=3, normalize=True, method="euler", nfe=16, pruned=False, concentration=20.0,
                components=8, equal_weights=False, missed_modes=0, early_steps=200, blobs=[], norm_ratio=1.0, seed=0,
                cone_cosine=0.9, pruning="sparse sectors", converged=False)
    THREE = {**BASE, "target": "three directions", "normalize": False}
    # The paper's own runs (run_whole_simulation.py): its 1024 data points, torchcfm's MLP (3 × 64),
    # exact OT-CFM on batches of 10, sources at the 3072-dim Gaussian's norm.
    SOURCEFM = {**THREE, "n_data": 1024, "batch_size": 10, "width": 64, "depth": 3, "coupling": "minibatch OT",
                "source": "directional cones"}
    PRESETS = {
        "8 gaussians": BASE,
        "8 gaussians, OT coupling": {**BASE, "coupling": "minibatch OT"},
        # The paper's MLP sees raw coordinates; with normalize on, most of the cost of misaligned
        # norms disappears (measured), so these presets keep it off.
        "three directions: high-dim gaussian": {**THREE, "source": "high-dim gaussian"},
        "three directions: norm-aligned": {**THREE, "source": "norm-aligned"},
        "8 gaussians, sector pruning": {**BASE, "pruned": True, "nfe": 8},
        "SourceFM: directional cone 0.9": {**SOURCEFM, "cone_cosine": 0.9},
        "SourceFM: directional cone 0.98": {**SOURCEFM, "cone_cosine": 0.98},
        "SourceFM: perfect pairing": {**SOURCEFM, "cone_cosine": 0.9, "batch_size": 1024},
        "SourceFM: pruned": {**SOURCEFM, "source": "high-dim gaussian", "coupling": "independent", "pruned": True,
                             "pruning": "one cone"},
        # Our variants of the directional source: soft von Mises directions instead of the paper's
        # hard cones, larger batches, and our own mode-matched pairing.
        "three directions: von Mises, loose": {**THREE, "source": "directional", "concentration": 20.0},
        "three directions: von Mises, tight": {**THREE, "source": "directional", "concentration": 200.0},
        "three directions: von Mises + mode matching": {**THREE, "source": "directional", "concentration": 200.0,
                                                        "coupling": "mode-matched"},
        "three directions: von Mises, misses a mode": {**THREE, "source": "directional", "concentration": 20.0,
                                                       "missed_modes": 1},
        "three directions: early-model source": {**THREE, "source": "early model", "early_steps": 2000},
        "three directions: mixture fit": {**THREE, "source": "mixture fit", "components": 3},
        "three directions: mixture fit, wrong masses": {**THREE, "source": "mixture fit", "components": 3,
                                                        "equal_weights": True},
    }
    PRESET_NOTES = {
        "8 gaussians": "A standard Gaussian flows to eight modes. Watch the particles split; paths bend "
                       "where independent pairing sends neighbours to different modes.",
        "8 gaussians, OT coupling": "Minibatch optimal transport pairs each source sample with a nearby "
                                    "target: straighter paths, fewer crossings than independent pairing.",
        "three directions: high-dim gaussian": "The paper's 2-D picture of high dimensions: data on a circle of "
                                               "radius ≈ 25 in three directions (5/30/65%), the source's norm ≈ 55. "
                                               "Compare the stranded share with the norm-aligned preset.",
        "three directions: norm-aligned": "The same data with the source's norms drawn from the data's, the "
                                          "paper's remedy: fewer particles stranded off the data, sooner "
                                          "(stranded ≤ 0.3 from step 400-500 against 500-900, seeds 0-2, "
                                          "converged solver).",
        "8 gaussians, sector pruning": "Our pruning: source particles in every 5° sector that holds little "
                                       "data are dropped before sampling, about half of all directions: far "
                                       "fewer end stranded between modes at the same NFE (toggle 'pruned'). The "
                                       "paper prunes one narrow cone (pruning 'one cone').",
        "SourceFM: directional cone 0.9": "The paper's loose directional source: its Gaussian (norm ≈ 55) kept "
                                          "within ±26° of the data's three directions, exact OT-CFM on batches "
                                          "of 10, as its code trains (100k steps there). Already at step 1000 "
                                          "it strands far fewer particles than its Gaussian trained the same "
                                          "way (source 'high-dim gaussian'): 0.2-0.3 against ~0.7.",
        "SourceFM: directional cone 0.98": "The paper's tight directional source (±11.5°), otherwise the same. "
                                           "The paper finds tight worse than loose: concentrated directions "
                                           "entangle paths. Within 3000 steps here the seeds disagree (% bad "
                                           "19 / 14 / 5 tight against 18 / 16 / 13 loose).",
        "SourceFM: perfect pairing": "The loose cones paired by exact OT on a batch of all 1024 data points, "
                                     "the paper's 'perfect pairing' (3125 such steps there). Each step solves "
                                     "a 1024 × 1024 assignment: slow on a CPU.",
        "SourceFM: pruned": "The paper's pruned sampling: its Gaussian trained with independent pairs on "
                            "batches of 10, sampled without the one cone of directions around −PC2 of the "
                            "data (cosine > 0.98, 6% of directions). Toggle 'pruned' to compare.",
        "three directions: von Mises, loose": "Ours, not the paper's setup: a source concentrated around the "
                                              "data's directions by a von Mises law (κ = 20), paired "
                                              "independently: particles must swap directions, so paths bend "
                                              "and cross.",
        "three directions: von Mises, tight": "The same, tighter (κ = 200): not better. Paths curve more "
                                              "(straightness ~0.13 against ~0.3 sampled to convergence). "
                                              "Whether more particles end stranded than from the loose "
                                              "source depends on the seed and the solver: 16 Euler steps "
                                              "miss these curved paths (turn on 'Converged reference').",
        "three directions: von Mises + mode matching": "Ours: the tight von Mises source with each sample "
                                                       "paired to a random data point of the mode it points "
                                                       "to, an idealised pairing: almost nothing stranded, "
                                                       "almost no crossings.",
        "three directions: von Mises, misses a mode": "Gaussian robustness, tested: the loose von Mises "
                                                      "source built without the 5% mode. Sampled with 16 "
                                                      "Euler steps that mode gets under a fifth of its mass "
                                                      "at two seeds of three (mode coverage 2/3); sampled to "
                                                      "convergence it gets its share (coverage 1): the "
                                                      "source's tails point there, the long curved paths "
                                                      "are what Euler loses.",
        "three directions: early-model source": "The source is what a flow model generates after 2000 steps "
                                                "(trained first, at Reset): close to the data but with its "
                                                "own mode errors. Paths cross ~3× as often as from the "
                                                "Gaussian at two seeds of three (converged solver).",
        "three directions: mixture fit": "A 3-Gaussian mixture fitted to the data as the source.",
        "three directions: mixture fit, wrong masses": "The same modes with equal masses (the data has "
                                                       "5/30/65%). The paper finds such mode discrepancy "
                                                       "costly; here it shows at one seed of three (stranded "
                                                       "0.125 against 0.035 at seed 1; ~0.07 both at seed 0).",
    }

    def build(self) -> None:
        c = self.config
        self.device = resolve_device(c.device)
        self.target = make_target(c.target, c.n_data, PARTICLES, seed=c.seed)
        bank = self._early_model_samples() if c.source == "early model" else None
        self.source = Source(c.source, self.target, components=c.components, concentration=c.concentration,
                             bank=bank, cone_cosine=c.cone_cosine,
                             blobs=tuple(tuple(b) for b in c.blobs), norm_ratio=c.norm_ratio,
                             equal_weights=c.equal_weights, missed_modes=c.missed_modes)
        self.scale = self.target.scale
        self.rng = np.random.default_rng(c.seed + 1)
        eval_rng = np.random.default_rng(c.seed + 2)
        self.particles = self.source.sample(PARTICLES, eval_rng)          # fixed across the run
        # Pruned sampling draws extra particles and keeps those in the directions it allows; both
        # rules are ready so that switching between them is live.
        extra = self.source.sample(8 * PARTICLES, eval_rng)
        keep = {"sparse sectors": prune(extra, sparse_directions(self.target)),
                "one cone": outside_cone(extra, pruning_axis(self.target), PRUNED_CONE_COSINE)}
        self.pruned_by_rule = {rule: extra[k][:PARTICLES] if k.sum() >= PARTICLES else self.particles
                               for rule, k in keep.items()}
        # Mode-matched coupling draws targets by mode: label both pools once, not every step.
        self.pools = {"train": self.target.train, "held_out": self.target.held_out}
        self.pool_modes = ({name: nearest_mode_by_direction(pool, self.target.modes)
                            for name, pool in self.pools.items()} if c.coupling == "mode-matched" else {})
        torch.manual_seed(c.seed)
        self.model = VelocityMLP(c.width, c.depth, scale=self.scale if c.normalize else 1.0).to(self.device)
        self.shadow = self.make_shadow()
        # Snapshots show an exponential moving average of the weights (the usual practice for flow
        # and diffusion models): single minibatch steps make the metrics jump from one snapshot
        # to the next, which hides the differences between sources the app is about.
        self.ema = torch.optim.swa_utils.AveragedModel(
            self.model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(EMA_DECAY))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=c.lr)

    @property
    def pruned_particles(self) -> np.ndarray:
        return self.pruned_by_rule[self.config.pruning]

    def landscape_probe(self) -> LandscapeProbe:
        """The CFM loss on one fixed set of (source, held-out target, time) triples: the minibatch
        loss is random, a slice needs the same loss at every point. The weights sliced are the
        moving average the views show."""
        rng = np.random.default_rng(self.config.seed + 3)
        x0, x1 = (torch.as_tensor(x, device=self.device) for x in self._pairs(PROBE_SAMPLES, rng, "held_out"))
        t = torch.as_tensor(rng.random(PROBE_SAMPLES, dtype=np.float32), device=self.device)
        xt, target, scale = (1 - t[:, None]) * x0 + t[:, None] * x1, x1 - x0, self.scale
        return LandscapeProbe(self.model, (xt, t), lambda v: ((v - target) ** 2).sum(1).mean() / scale ** 2,
                              label=f"flow-matching loss ({PROBE_SAMPLES} held-out pairs)")

    def observed_model(self):
        return self.ema.module

    def state_dict(self) -> dict:
        return {**super().state_dict(), "ema": self.ema.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if "ema" in state:
            self.ema.load_state_dict(state["ema"])

    def _early_model_samples(self, n: int = EARLY_SAMPLES) -> np.ndarray:
        """What a flow model stopped after `early_steps` generates: the paper's density-
        approximation sources (a model's output after 20 … 10k iterations)."""
        c = self.config
        early = FlowStudy(**{**c.values(), "source": gaussian_of(c.target), "coupling": "independent", "pruned": False,
                             "seed": c.seed + 100})
        early.build()
        for _ in range(c.early_steps):      # up to minutes: a closed session must not wait for it
            self.check_stop()
            early.step()
        x0 = early.source.sample(n, np.random.default_rng(c.seed + 101))
        return early._generate(early.ema.module, x0, 32)[-1]

    def _pairs(self, n: int, rng: np.random.Generator, pool_name: str) -> tuple[np.ndarray, np.ndarray]:
        """n (source, target) pairs under the configured coupling; targets drawn from the pool
        called `pool_name` ("train" or "held_out")."""
        x0, pool = self.source.sample(n, rng), self.pools[pool_name]
        if n == len(pool) and self.config.coupling == "minibatch OT":
            # A batch the size of the data is all of it, once (the paper's perfect pairing).
            return x0, pool[metrics.ot_pairing(x0, pool)]
        if self.config.coupling == "mode-matched":
            modes = nearest_mode_by_direction(x0, self.target.modes)
            members = self.pool_modes[pool_name]
            x1 = np.empty_like(x0)
            for m in np.unique(modes):
                candidates = pool[members == m]
                x1[modes == m] = candidates[rng.integers(0, len(candidates), size=(modes == m).sum())]
            return x0, x1
        x1 = pool[rng.integers(0, len(pool), size=n)]
        if self.config.coupling == "minibatch OT":
            x1 = x1[metrics.ot_pairing(x0, x1)]
        return x0, x1

    def step(self) -> torch.Tensor:
        c = self.config
        x0, x1 = self._pairs(c.batch_size, self.rng, "train")
        loss = self._cfm_loss(self.model, x0, x1, torch.rand(c.batch_size, device=self.device))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.ema.update_parameters(self.model)
        return loss.detach()

    def _generate(self, model, x0: np.ndarray, nfe: int) -> np.ndarray:
        x = torch.as_tensor(x0, device=self.device)
        return integrate(model, x, nfe, self.config.method).float().cpu().numpy()   # (steps + 1, n, 2)

    @torch.no_grad()
    def observe(self, captured: dict):
        m, c, target = self.load_shadow(captured), self.config, self.target
        x0 = self.pruned_particles if c.pruned else self.particles
        paths = self._generate(m, x0, c.nfe)
        generated, held_out = paths[-1], target.held_out
        stride = max(1, (len(paths) - 1) // CROSSING_SEGMENTS)
        stranded_at = STRANDED_AT.get(target.name, 0.125 * self.scale)
        coverage_within = COVERAGE_WITHIN.get(target.name, 0.0625 * self.scale)
        by_nfe = [self._generate(m, x0[:W2_POINTS], n)[-1] for n in QUALITY_NFE]
        scalars = {
            "loss.train": self._eval_loss(m),
            "quality.energy": metrics.energy_distance(generated, held_out) / self.scale,
            "quality.w2": metrics.wasserstein2(generated[:W2_POINTS], held_out[:W2_POINTS]) / self.scale,
            "quality.stranded": metrics.stranded_fraction(generated, held_out, stranded_at),
            "quality.coverage_eps": metrics.matched_coverage(generated, held_out, coverage_within),
            "paths.straightness": metrics.straightness(paths),
            "paths.crossings": metrics.crossing_fraction(paths[::stride, :CROSSING_PATHS]),
            **{f"hparams.{k}": v for k, v in captured["hparams"].items()},
        }
        if target.modes is not None:
            scalars["modes.coverage"] = metrics.mode_coverage(generated, target.modes, target.weights)
            scalars["modes.divergence"] = metrics.mode_divergence(generated, target.modes, target.weights)
        arrays = {
            "particles.paths": paths[:, :SHOWN].astype(np.float32),          # (steps + 1, SHOWN, 2)
            "target.points": held_out[:SHOWN].astype(np.float32),
            # Each particle's direction from the origin at the start: its colour in every view.
            "particles.angle": np.arctan2(x0[:SHOWN, 1], x0[:SHOWN, 0]).astype(np.float32),
            "quality.nfe": np.asarray(QUALITY_NFE, dtype=np.float32),
            "quality.energy_by_nfe": np.asarray([metrics.energy_distance(g, held_out[:W2_POINTS]) / self.scale
                                                 for g in by_nfe], dtype=np.float32),
            "quality.stranded_by_nfe": np.asarray([metrics.stranded_fraction(g, held_out, stranded_at)
                                                   for g in by_nfe], dtype=np.float32),
            **self._field(m, generated, held_out),
        }
        if target.modes is not None:
            arrays["modes.shares"] = metrics.mode_shares(generated, target.modes).astype(np.float32)
            arrays["modes.weights"] = np.asarray(target.weights, dtype=np.float32)
        if c.converged:
            scalars.update(self._converged(m, x0, stranded_at))
        return scalars, arrays

    def _converged(self, model, x0: np.ndarray, stranded_at: float) -> dict:
        """The sample's metrics again with dopri5 in place of the live solver (converged.* keys), and
        the values the quality-vs-NFE curves tend to (their 512 particles, hence *_by_nfe)."""
        x = torch.as_tensor(x0, device=self.device)
        paths, nfe = integrate_converged(model, x, times=CROSSING_SEGMENTS + 1)
        paths = paths.float().cpu().numpy()                              # (17, n, 2), from dense output
        generated, held_out, target = paths[-1], self.target.held_out, self.target
        sample = generated[:W2_POINTS]
        scalars = {
            "converged.nfe": float(nfe),
            "converged.quality.energy": metrics.energy_distance(generated, held_out) / self.scale,
            "converged.quality.w2": metrics.wasserstein2(sample, held_out[:W2_POINTS]) / self.scale,
            "converged.quality.stranded": metrics.stranded_fraction(generated, held_out, stranded_at),
            "converged.paths.straightness": metrics.straightness(paths),
            "converged.paths.crossings": metrics.crossing_fraction(paths[:, :CROSSING_PATHS]),
            "converged.quality.energy_by_nfe": metrics.energy_distance(sample, held_out[:W2_POINTS]) / self.scale,
            "converged.quality.stranded_by_nfe": metrics.stranded_fraction(sample, held_out, stranded_at),
        }
        if target.modes is not None:
            scalars["converged.modes.coverage"] = metrics.mode_coverage(generated, target.modes, target.weights)
            scalars["converged.modes.divergence"] = metrics.mode_divergence(generated, target.modes, target.weights)
        return scalars

    def _eval_loss(self, model) -> float:
        """The flow-matching loss on a fixed set of 512 pairs (coupled as in training), so
        snapshots can be compared with each other."""
        rng = np.random.default_rng(12345)
        x0, x1 = self._pairs(W2_POINTS, rng, "held_out")
        t = torch.as_tensor(rng.random(W2_POINTS), dtype=torch.float32, device=self.device)
        return float(self._cfm_loss(model, x0, x1, t))

    def _cfm_loss(self, model, x0: np.ndarray, x1: np.ndarray, t: torch.Tensor) -> torch.Tensor:
        """‖v(x_t, t) − (x₁ − x₀)‖² on the straight path, in units of the data's scale so the
        loss reads the same for every target."""
        x0, x1 = torch.as_tensor(x0, device=self.device), torch.as_tensor(x1, device=self.device)
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        return ((model(xt, t) - (x1 - x0)) ** 2).sum(1).mean() / self.scale ** 2

    def _field(self, model, *clouds: np.ndarray) -> dict:
        """The velocity on a grid over everything drawn, at FIELD_TIMES: (times, grid², 2)."""
        everything = np.concatenate([self.particles, *clouds])
        lo, hi = np.percentile(everything, 1, axis=0), np.percentile(everything, 99, axis=0)
        pad = 0.08 * (hi - lo)
        xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], FIELD_GRID)
        ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], FIELD_GRID)
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(np.float32)
        g = torch.as_tensor(grid, device=self.device)
        field = [model(g, torch.full((len(g),), float(t), device=self.device)).float().cpu().numpy()
                 for t in FIELD_TIMES]
        return {"field.points": grid, "field.velocity": np.stack(field).astype(np.float32),
                "field.times": FIELD_TIMES.astype(np.float32)}
