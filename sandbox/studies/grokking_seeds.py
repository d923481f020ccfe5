"""Many seeds of the grokking MLP trained at once (an Ensemble, one vmapped pass per step), and
their spread: when each one groks, and which Fourier frequencies each one ends up using — the
"lottery" of the initialisation (every seed solves the task, with its own few key frequencies).

Member i starts from the weights `GrokkingStudy` would draw with seed `seed + i`; all share the
data split of `seed`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis import fourier
from ..models.ensemble import Ensemble
from ..models.mlp import PairMLP
from ..runtime.device import resolve_device
from ..tasks.modular import modular_table
from .cost import check_cost
from .grokking import TOP_KEYS, GrokkingConfig, GrokkingStudy

MAX_SEEDS = 256   # the panel's input stops here too; checked again here, where a forged value arrives


def checked_config(seeds: int, preset: str = "fast", **values) -> GrokkingConfig:
    """The GrokkingConfig of an ensemble of `seeds` MLPs, or ValueError with a message, before anything
    is built: the values as the app checks them, the seed count, and the memory of every member at once
    (each holds its own activations over the p² pairs)."""
    config = GrokkingStudy.validated({**GrokkingStudy.preset_values(preset), **values})
    if config.model != "mlp":
        raise ValueError("seed ensembles train the MLP; choose an MLP preset or model='mlp'")
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"choose between 1 and {MAX_SEEDS} seeds, not {seeds}")
    check_cost(config.cost().times(seeds, "seeds"), what=f"training {seeds} seeds at once")
    return config


@dataclass(frozen=True)
class SeedSpread:
    seeds: np.ndarray            # (S,) the init seed of each member
    steps: np.ndarray            # (T,) steps at which every member was measured
    test_accuracy: np.ndarray    # (S, T)
    train_accuracy: np.ndarray   # (S, T)
    grok_step: np.ndarray        # (S,) first measured step with test accuracy ≥ 0.95 (NaN: never)
    key_frequencies: np.ndarray  # (S, TOP_KEYS) each member's strongest embedding frequencies at the end
    frequency_wins: np.ndarray   # (K,) how many members have frequency k among their key frequencies


class SeedEnsemble:
    """`values`: GrokkingConfig values (an MLP preset); `seeds` members trained together."""

    def __init__(self, seeds: int = 64, preset: str = "fast", **values):
        config = checked_config(seeds, preset, **values)
        self.config, self.device = config, resolve_device(config.device)
        c = config
        self.table = modular_table(c.p, c.operation, c.train_fraction, c.seed)
        self.seeds = np.arange(c.seed, c.seed + seeds)
        members = []
        for s in self.seeds:
            torch.manual_seed(int(s))
            members.append(PairMLP(c.p, c.width, c.activation, c.init_scale))
        self.model = Ensemble(members).to(self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=c.lr, weight_decay=c.weight_decay,
                                           betas=(0.9, c.beta2))
        as_tensor = lambda x: torch.as_tensor(x, device=self.device)  # noqa: E731
        self.a, self.b, self.y = as_tensor(self.table.a), as_tensor(self.table.b), as_tensor(self.table.y)
        train = as_tensor(self.table.train)
        self.a_train, self.b_train, self.y_train = self.a[train], self.b[train], self.y[train]

    def step(self) -> torch.Tensor:
        """One AdamW step of every member; returns the mean of their train losses (left on the device)."""
        logits = self.model(self.a_train, self.b_train)                       # (S, n, p)
        size, n = logits.shape[:2]
        # The sum of the members' mean losses: each member's gradient is its own run's gradient.
        loss = F.cross_entropy(logits.flatten(0, 1), self.y_train.repeat(size), reduction="sum") / n
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.detach() / size

    @torch.no_grad()
    def accuracies(self) -> tuple[np.ndarray, np.ndarray]:
        """(train, test) accuracy of every member."""
        correct = (self.model(self.a, self.b).argmax(-1) == self.y).cpu().numpy()   # (S, p²)
        return correct[:, self.table.train].mean(1), correct[:, self.table.test].mean(1)

    def key_frequencies(self) -> np.ndarray:
        """(S, TOP_KEYS): each member's strongest frequencies of W_a and W_b together."""
        stacked = self.model.stacked
        keys = []
        for i in range(self.model.size):
            W_a, W_b = (stacked[name][i].detach().float().cpu().numpy() for name in ("W_a", "W_b"))
            energy = fourier.frequency_energy(W_a) + fourier.frequency_energy(W_b)
            keys.append(fourier.key_frequencies(energy, TOP_KEYS))
        return np.asarray(keys)

    def run(self, steps: int, every: int = 50, progress: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
            stop: Callable[[], bool] | None = None) -> SeedSpread:
        """Train `steps` steps, measuring every `every`; `progress(step, train, test)` after each
        measurement, and `stop()` ends the run early (the spread then covers the steps measured)."""
        measured, train_acc, test_acc = [], [], []
        for step in range(1, steps + 1):
            self.step()
            last = step == steps or (stop is not None and stop())
            if step % every == 0 or last:
                train, test = self.accuracies()
                measured.append(step)
                train_acc.append(train)
                test_acc.append(test)
                if progress is not None:
                    progress(step, train, test)
            if last:
                break
        test_acc, train_acc, measured = np.array(test_acc).T, np.array(train_acc).T, np.array(measured)
        grokked = test_acc >= 0.95
        grok_step = np.where(grokked.any(1), measured[grokked.argmax(1)], np.nan)
        keys = self.key_frequencies()
        wins = np.bincount(keys.ravel(), minlength=fourier.n_frequencies(self.config.p) + 1)
        return SeedSpread(seeds=self.seeds, steps=measured, test_accuracy=test_acc, train_accuracy=train_acc,
                          grok_step=grok_step, key_frequencies=keys, frequency_wins=wins)
