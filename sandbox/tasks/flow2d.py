"""2-D targets and sources for flow matching (study C).

Targets are fixed point sets drawn once per run (train and held-out halves); each knows its
mode centres where it has modes, so coverage can be measured. Sources are samplers that may
look at the target (a mixture fitted to it, its norms, its directions), because the question
of the study is exactly how much the source should resemble the target.

"three directions" is the 2-D simulation of high-dimensional geometry in Jeong et al. (code:
github.com/kwanseokk/SourceFM, simulations/run_whole_simulation.py): data on a circle in three
angular clusters of ±10° holding 5%, 30% and 65% of the mass, radius √χ²(625) ≈ 25 (an image's
norm); the "high-dim gaussian" source has uniform directions and radius √χ²(3072) ≈ 55, the
norm of a 3072-dimensional standard Gaussian, so its norms are misaligned with the data's.
Its "directional cones" source is that Gaussian kept only where it points within a hard cone
(cosine ≥ 0.9 or ≥ 0.98) around one of the data's directions, and its pruned sampling drops the
one cone of directions around −PC2 of the data (cosine > 0.98, about 6% of the directions).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TARGETS = ("8 gaussians", "two moons", "checkerboard", "spirals", "rings", "three directions")
TARGETS_WITHOUT_MODES = ("two moons", "spirals", "rings")   # their makers return modes=None
SOURCES = ("gaussian", "high-dim gaussian", "norm-aligned", "uniform disk", "mixture fit", "directional",
           "directional cones", "drawn", "early model")
NEEDS_MODES = ("directional", "directional cones")     # they point at the target's modes


@dataclass(frozen=True)
class Target:
    name: str
    train: np.ndarray            # (n, 2) the samples training draws from
    held_out: np.ndarray         # (n_eval, 2) metrics compare against these
    modes: np.ndarray | None     # (m, 2) mode centres, or None for targets without modes
    weights: np.ndarray | None   # (m,) the mass of each mode

    @property
    def scale(self) -> float:
        """Typical size of the data: the RMS distance of the samples from their mean."""
        centred = self.train - self.train.mean(axis=0)
        return float(np.sqrt((centred ** 2).sum(axis=1).mean()))


def _eight_gaussians(n, rng):
    angles = np.arange(8) * np.pi / 4
    modes = 4.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    which = rng.integers(0, 8, size=n)
    return modes[which] + 0.35 * rng.standard_normal((n, 2)), modes, np.full(8, 1 / 8)


def _two_moons(n, rng):
    upper = rng.random(n) < 0.5
    s = rng.random(n) * np.pi
    x = np.where(upper, np.cos(s), 1 - np.cos(s))
    y = np.where(upper, np.sin(s), 0.5 - np.sin(s))
    points = 2.2 * (np.stack([x, y], axis=1) - [0.5, 0.25]) + 0.08 * rng.standard_normal((n, 2))
    return points, None, None


def _checkerboard(n, rng):
    cells = np.array([(i, j) for i in range(-2, 2) for j in range(-2, 2) if (i + j) % 2 == 0], dtype=float)
    which = rng.integers(0, len(cells), size=n)
    points = (cells[which] + rng.random((n, 2))) * 1.6
    return points, (cells + 0.5) * 1.6, np.full(len(cells), 1 / len(cells))


def _spirals(n, rng):
    arm = rng.integers(0, 2, size=n)
    r = np.sqrt(rng.random(n)) * 3.6 + 0.3
    angle = r * 1.6 + arm * np.pi
    points = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1) + 0.12 * rng.standard_normal((n, 2))
    return points, None, None


def _rings(n, rng):
    radii = np.array([1.0, 2.4, 3.8])
    which = rng.choice(3, size=n, p=radii / radii.sum())   # mass in proportion to circumference
    angle = rng.random(n) * 2 * np.pi
    r = radii[which] + 0.08 * rng.standard_normal(n)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1), None, None


THREE_DIRECTION_MASS = np.array([0.05, 0.30, 0.65])
DATA_DOF, SOURCE_DOF = 625, 3072


def _three_directions(n, rng):
    base = rng.random(3) * 2 * np.pi          # drawn from the same seed for train and held-out
    which = rng.choice(3, size=n, p=THREE_DIRECTION_MASS)
    spread = np.deg2rad(10.0)
    angle = base[which] + rng.uniform(-spread, spread, n) + 0.1 * spread * rng.standard_normal(n)
    r = np.sqrt(rng.chisquare(DATA_DOF, n))
    points = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    modes = np.sqrt(DATA_DOF) * np.stack([np.cos(base), np.sin(base)], axis=1)
    return points, modes, THREE_DIRECTION_MASS


_MAKERS = {"8 gaussians": _eight_gaussians, "two moons": _two_moons, "checkerboard": _checkerboard,
           "spirals": _spirals, "rings": _rings, "three directions": _three_directions}


def make_target(name: str, n: int, n_eval: int, seed: int) -> Target:
    if name not in _MAKERS:
        raise ValueError(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}")
    if n < 2 or n_eval < 2:
        raise ValueError("a target needs at least 2 training and 2 held-out samples")
    # One stream for both halves, so targets with random structure (three directions) share it.
    points, modes, weights = _MAKERS[name](n + n_eval, np.random.default_rng(seed))
    return Target(name, points[:n].astype(np.float32), points[n:].astype(np.float32), modes, weights)


# ---- sources --------------------------------------------------------------------------------
def _directions(n, rng):
    angle = rng.random(n) * 2 * np.pi
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def gaussian_of(target_name: str) -> str:
    """The Gaussian source of a target's setting: for the paper's data the 3072-dimensional
    Gaussian's norm, elsewhere the standard 2-D Gaussian."""
    return "high-dim gaussian" if target_name == "three directions" else "gaussian"


def _gaussian_norms(target_name: str, n: int, rng) -> np.ndarray:
    if gaussian_of(target_name) == "high-dim gaussian":
        return np.sqrt(rng.chisquare(SOURCE_DOF, n))
    return np.sqrt(rng.chisquare(2, n))       # ‖x‖ of a standard 2-D Gaussian


def _stratified_counts(weights: np.ndarray, n: int) -> np.ndarray:
    """⌊w·n⌋ per mode and the remainder one each to the first modes: the paper fixes how many
    samples each cone gets in every batch (a batch of 10 over 5/30/65% is 1, 3, 6), so even its
    5% cone is in every OT batch."""
    counts = np.floor(np.asarray(weights) * n).astype(int)
    counts[: n - counts.sum()] += 1
    return counts


def _fit_mixture(points: np.ndarray, components: int, rng, iterations: int = 25):
    """k-means, then one Gaussian (mean, covariance, weight) per cluster."""
    centres = points[rng.choice(len(points), size=components, replace=False)]
    for _ in range(iterations):
        labels = ((points[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.stack([points[labels == c].mean(0) if (labels == c).any() else centres[c]
                            for c in range(components)])
    covs = np.stack([np.cov(points[labels == c].T) + 1e-3 * np.eye(2) if (labels == c).sum() > 2 else np.eye(2)
                     for c in range(components)])
    weights = np.bincount(labels, minlength=components) / len(points)
    return centres, covs, weights


@dataclass(frozen=True)
class Source:
    """Draws source samples x₀; built once per run from the target (some sources look at it)."""
    name: str
    target: Target
    components: int = 8          # mixture fit: Gaussians in the fit
    concentration: float = 20.0  # directional: von Mises κ around the target's mode directions
    blobs: tuple = ()            # drawn: ((x, y, σ), …)
    norm_ratio: float = 1.0      # norm-aligned: radii × this (≠ 1 misaligns the norms on purpose)
    equal_weights: bool = False  # mixture fit: the modes found, their masses not (a rough density fit)
    bank: np.ndarray | None = None  # early model: samples of a flow model stopped early, drawn from
    missed_modes: int = 0        # directional: leave out the target's this many smallest modes
    cone_cosine: float = 0.9     # directional cones: keep directions with cosine ≥ this to a mode's

    def __post_init__(self):
        if self.name not in SOURCES:
            raise ValueError(f"unknown source {self.name!r}; choose one of {', '.join(SOURCES)}")
        if self.name == "drawn" and not self.blobs:
            raise ValueError("the drawn source has no blobs yet: click the plane to place some")
        if self.name == "early model" and (self.bank is None or len(self.bank) == 0):
            raise ValueError("the early-model source needs a bank of that model's samples")
        if self.name in NEEDS_MODES and self.target.modes is None:
            raise ValueError(f"the {self.name} source needs a target with modes; {self.target.name!r} has none")
        if not -1.0 <= self.cone_cosine <= 1.0:
            raise ValueError(f"a cone's cosine lies in [-1, 1], got {self.cone_cosine}")
        if self.name == "directional" and not 0 <= self.missed_modes < len(self.target.modes):
            raise ValueError(f"the directional source must keep at least one of the {len(self.target.modes)} "
                             f"modes; it was asked to miss {self.missed_modes}")
        if self.name == "mixture fit":
            fit = _fit_mixture(self.target.train.astype(float), self.components, np.random.default_rng(0))
            object.__setattr__(self, "_mixture", fit)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        t = self.target
        if self.name == "gaussian":
            x = rng.standard_normal((n, 2))
        elif self.name == "high-dim gaussian":
            x = _directions(n, rng) * np.sqrt(rng.chisquare(SOURCE_DOF, n))[:, None]
        elif self.name == "norm-aligned":
            norms = np.linalg.norm(t.train, axis=1)
            x = _directions(n, rng) * (self.norm_ratio * rng.choice(norms, size=n))[:, None]
        elif self.name == "uniform disk":
            radius = float(np.linalg.norm(t.train, axis=1).max())
            x = _directions(n, rng) * (radius * np.sqrt(rng.random(n)))[:, None]
        elif self.name == "mixture fit":
            centres, covs, weights = self._mixture
            if self.equal_weights:
                weights = np.full(len(weights), 1 / len(weights))
            which = rng.choice(len(weights), size=n, p=weights)
            chol = np.linalg.cholesky(covs)[which]
            x = centres[which] + np.einsum("nij,nj->ni", chol, rng.standard_normal((n, 2)))
        elif self.name == "directional":
            # Missing modes stands for a source designed from a biased estimate of the data.
            kept = np.sort(np.argsort(t.weights, kind="stable")[self.missed_modes:])
            mode_angles = np.arctan2(t.modes[kept, 1], t.modes[kept, 0])
            which = rng.choice(len(kept), size=n, p=t.weights[kept] / t.weights[kept].sum())
            angle = mode_angles[which] + rng.vonmises(0.0, self.concentration, n)
            norms = np.linalg.norm(t.train, axis=1)
            x = np.stack([np.cos(angle), np.sin(angle)], axis=1) * rng.choice(norms, size=n)[:, None]
        elif self.name == "directional cones":
            # The paper rejects Gaussian samples outside the cones; drawing the angle uniformly
            # within ±arccos(cosine) of a mode's direction gives the same distribution.
            mode_angles = np.arctan2(t.modes[:, 1], t.modes[:, 0])
            half_width = np.arccos(self.cone_cosine)
            angle = np.repeat(mode_angles, _stratified_counts(t.weights, n)) + rng.uniform(-half_width, half_width, n)
            x = np.stack([np.cos(angle), np.sin(angle)], axis=1) * _gaussian_norms(t.name, n, rng)[:, None]
            x = x[rng.permutation(n)]     # fixed particle sets are cut to their first rows for the views
        elif self.name == "early model":
            x = self.bank[rng.integers(0, len(self.bank), size=n)]
        else:  # drawn
            blobs = np.asarray(self.blobs, dtype=float)
            which = rng.integers(0, len(blobs), size=n)
            x = blobs[which, :2] + blobs[which, 2:3] * rng.standard_normal((n, 2))
        return x.astype(np.float32)


def sparse_directions(target: Target, bins: int = 72, quantile: float = 0.25) -> np.ndarray:
    """(bins,) bool: angular sectors (seen from the origin) holding little data, the ones
    directionally pruned sampling avoids. A sector is sparse when its share of the data is
    below `quantile` × the share it would have if the data were spread evenly."""
    angle = np.arctan2(target.train[:, 1], target.train[:, 0])
    counts = np.bincount(((angle + np.pi) / (2 * np.pi) * bins).astype(int) % bins, minlength=bins)
    return counts < quantile * len(angle) / bins


def prune(x0: np.ndarray, sparse: np.ndarray) -> np.ndarray:
    """(n,) bool: which source samples point into a data-rich sector (keep those)."""
    bins = len(sparse)
    angle = np.arctan2(x0[:, 1], x0[:, 0])
    return ~sparse[((angle + np.pi) / (2 * np.pi) * bins).astype(int) % bins]


def pruning_axis(target: Target) -> np.ndarray:
    """(2,) unit vector −PC2 of the training data, the direction the paper prunes around. An
    axis' sign is arbitrary; PC2 is turned towards the data's mean so that −PC2 points away from
    the data, as scikit-learn's sign happens to in the paper's own draw (its seed 124142)."""
    centred = target.train - target.train.mean(axis=0)
    pc2 = np.linalg.svd(centred.astype(float), full_matrices=False)[2][1]
    return -pc2 if pc2 @ target.train.mean(axis=0) >= 0 else pc2


def outside_cone(x0: np.ndarray, axis: np.ndarray, cosine: float) -> np.ndarray:
    """(n,) bool: which source samples keep (cosine with `axis` ≤ `cosine`); the paper's pruned
    sampling rejects the rest."""
    x0 = np.asarray(x0, dtype=float)
    return x0 @ axis <= cosine * np.linalg.norm(x0, axis=1)


def nearest_mode_by_direction(x: np.ndarray, modes: np.ndarray) -> np.ndarray:
    """(n,) index of the mode whose direction from the origin is closest to each point's."""
    unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)  # noqa: E731
    return (unit(np.asarray(x, dtype=float)) @ unit(np.asarray(modes, dtype=float)).T).argmax(axis=1)
